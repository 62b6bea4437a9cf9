package fleet

import (
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
)

// ConnConfig says how to reach the NATS servers.
type ConnConfig struct {
	// URL lists the servers, comma-separated (nats://host:4222,...;
	// tls://host:4222 requires TLS). User information in a URL works
	// but is better given as user and password: logs show URLs with it
	// redacted, and a config file with it is a secret.
	URL string `yaml:"url"`
	// TLS configures TLS to the servers: a custom CA (ca_file), a client
	// certificate for mutual TLS (cert_file, key_file), the verified
	// server_name. TLS is used when any field is set or a URL is
	// tls://; the server's certificate is always verified unless
	// insecure_skip_verify (tests only; logged as a warning).
	TLS tlsconfig.Config `yaml:"tls"`
	// User and Password (or PasswordFile) authenticate with a user name
	// and password.
	User     string          `yaml:"user"`
	Password pipeline.Secret `yaml:"password"`
	// PasswordFile is a file holding the password (one trailing newline
	// dropped), read when connecting.
	PasswordFile string `yaml:"password_file"`
	// Token (or TokenFile) authenticates with a token.
	Token pipeline.Secret `yaml:"token"`
	// TokenFile is a file holding the token, read when connecting.
	TokenFile string `yaml:"token_file"`
	// CredsFile is a NATS credentials file (user JWT and nkey seed, the
	// decentralized auth of nsc/operator mode); empty for none.
	CredsFile string `yaml:"creds_file"`
	// NKeyFile is a file holding an nkey seed (SU...), for servers that
	// list the user's public nkey.
	NKeyFile string `yaml:"nkey_file"`
	// ConnectTimeout bounds one dial.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// ReconnectWait is the pause between reconnect attempts; the client
	// reconnects forever, the journal holding the backlog meanwhile.
	ReconnectWait time.Duration `yaml:"reconnect_wait"`
}

// StreamConfig describes the fleet's JetStream stream. Every agent and
// router names the same stream; whichever starts first creates it (when
// Create is set), and nobody ever changes an existing stream: a stream
// whose settings differ from these is used as it is, with a warning.
type StreamConfig struct {
	// Name of the stream.
	Name string `yaml:"name"`
	// SubjectPrefix starts every subject: an agent publishes on
	// <prefix>.<agent id>, the stream holds <prefix>.>.
	SubjectPrefix string `yaml:"subject_prefix"`
	// Create makes the stream when it does not exist.
	Create bool `yaml:"create"`
	// Replicas is 1, or 3 (or 5) in a cluster: the documented way to keep
	// acknowledged events through a server's loss (internal/fleet doc).
	Replicas int `yaml:"replicas"`
	// Retention is limits (default), workqueue or interest.
	Retention string `yaml:"retention"`
	// MaxAge drops messages older than this; zero is unlimited.
	MaxAge time.Duration `yaml:"max_age"`
	// MaxBytes bounds the stream's size; zero is unlimited.
	MaxBytes pipeline.ByteSize `yaml:"max_bytes"`
	// Discard is new (default: a full stream refuses publishes and the
	// agents keep their backlog) or old (the oldest messages are dropped,
	// routed or not).
	Discard string `yaml:"discard"`
	// Storage is file (default) or memory.
	Storage string `yaml:"storage"`
	// DuplicateWindow is how long the stream remembers a Nats-Msg-Id; it
	// must cover the longest time between a publish and its retry.
	DuplicateWindow time.Duration `yaml:"duplicate_window"`
}

// Defaults of the fleet's settings.
const (
	DefaultStreamName      = "SLUICE_FLEET"
	DefaultSubjectPrefix   = "sluice.fleet"
	DefaultDuplicateWindow = 2 * time.Minute
	DefaultConnectTimeout  = 5 * time.Second
	DefaultReconnectWait   = time.Second
)

// DefaultConnConfig returns the connection defaults (no URL).
func DefaultConnConfig() ConnConfig {
	return ConnConfig{ConnectTimeout: DefaultConnectTimeout, ReconnectWait: DefaultReconnectWait}
}

// DefaultStreamConfig returns the stream defaults: SLUICE_FLEET on
// sluice.fleet.>, created when missing, R1 file storage, limits retention
// of 168h, discard new, a 2 minute duplicate window.
func DefaultStreamConfig() StreamConfig {
	return StreamConfig{
		Name:            DefaultStreamName,
		SubjectPrefix:   DefaultSubjectPrefix,
		Create:          true,
		Replicas:        1,
		Retention:       "limits",
		MaxAge:          168 * time.Hour,
		Discard:         "new",
		Storage:         "file",
		DuplicateWindow: DefaultDuplicateWindow,
	}
}

var (
	streamNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	subjectToken      = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// Validate implements pipeline.Config. An empty URL is valid here (the
// defaults of a section that is not used must validate); whoever uses
// the connection calls RequireURL.
func (c *ConnConfig) Validate() error {
	var errs []error
	if c.ConnectTimeout <= 0 {
		errs = append(errs, pipeline.FieldErrorf("connect_timeout", "must be positive, got %s", c.ConnectTimeout))
	}
	if c.ReconnectWait <= 0 {
		errs = append(errs, pipeline.FieldErrorf("reconnect_wait", "must be positive, got %s", c.ReconnectWait))
	}
	errs = append(errs, c.TLS.Validate()...)
	errs = append(errs, c.validateAuth()...)
	return errors.Join(errs...)
}

// RequireURL returns a FieldError for an empty URL.
func (c *ConnConfig) RequireURL() error {
	if strings.TrimSpace(c.URL) == "" {
		return pipeline.FieldErrorf("url", "must not be empty (nats://host:4222)")
	}
	return nil
}

// Validate implements pipeline.Config.
func (c *StreamConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	if !streamNamePattern.MatchString(c.Name) {
		bad("name", "must be letters, digits, _ or -, got %q", c.Name)
	}
	if err := validSubjectPrefix(c.SubjectPrefix); err != nil {
		bad("subject_prefix", "%v", err)
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		bad("replicas", "must be 1 to 5, got %d", c.Replicas)
	}
	if _, ok := retentions[c.Retention]; !ok {
		bad("retention", "must be limits, workqueue or interest, got %q", c.Retention)
	}
	if _, ok := discards[c.Discard]; !ok {
		bad("discard", "must be new or old, got %q", c.Discard)
	}
	if _, ok := storages[c.Storage]; !ok {
		bad("storage", "must be file or memory, got %q", c.Storage)
	}
	if c.MaxAge < 0 {
		bad("max_age", "must not be negative (0 is unlimited), got %s", c.MaxAge)
	}
	if c.MaxBytes < 0 {
		bad("max_bytes", "must not be negative (0 is unlimited), got %s", c.MaxBytes)
	}
	if c.DuplicateWindow < 100*time.Millisecond {
		bad("duplicate_window", "must be at least 100ms (the server's minimum), got %s", c.DuplicateWindow)
	} else if c.MaxAge > 0 && c.DuplicateWindow > c.MaxAge {
		bad("duplicate_window", "must not exceed max_age (%s), got %s", c.MaxAge, c.DuplicateWindow)
	}
	return errors.Join(errs...)
}

// Subjects returns the stream's subject filter, <prefix>.>.
func (c *StreamConfig) Subjects() string { return c.SubjectPrefix + ".>" }

// Subject returns the subject agent publishes on, <prefix>.<agent>.
func (c *StreamConfig) Subject(agent string) string { return c.SubjectPrefix + "." + agent }

func validSubjectPrefix(p string) error {
	if p == "" {
		return errors.New("must not be empty")
	}
	for tok := range strings.SplitSeq(p, ".") {
		if !subjectToken.MatchString(tok) {
			return errors.New("must be dot-separated tokens of letters, digits, _ or - (no wildcards), got " + p)
		}
	}
	return nil
}

// ValidAgentID reports whether id can be an agent id: one subject token
// of letters, digits, _ or -, at most 64 bytes.
func ValidAgentID(id string) error {
	if len(id) > 64 || !subjectToken.MatchString(id) {
		return errors.New("agent id must be 1 to 64 letters, digits, _ or -, got " + id)
	}
	return nil
}
