package kvpsink

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// Defaults.
const (
	// DefaultPath is the guest pool that hv_kvp_daemon serves to the host
	// and cloud-init writes (KVP_POOL_GUEST).
	DefaultPath = "/var/lib/hyperv/.kvp_pool_1"
	// DefaultPrefix is cloud-init's key prefix (EVENT_PREFIX).
	DefaultPrefix = "CLOUD_INIT"
	// DefaultMaxFileBytes is 1024 records, the per-file limit azure-init
	// documents (doc/kvp.md).
	DefaultMaxFileBytes = 1024 * RecordSize
	// DefaultLockTimeout bounds the wait for the pool file's locks.
	DefaultLockTimeout = 10 * time.Second

	// DefaultFileMode is the mode of a created pool file.
	DefaultFileMode = "0600"

	minFileBytes = 64 << 10
	minMessage   = 1 << 10
)

// Config is the kvp sink's configuration. Every field has a default; an
// empty `with` writes cloud-init-compatible, host-safe records to the
// guest pool.
type Config struct {
	// Path is the pool file to append to. Default
	// /var/lib/hyperv/.kvp_pool_1. The file is created (with FileMode) when
	// its directory exists; a missing directory fails deliveries (retried)
	// until it appears. The directory must be owned by this user or root and
	// not writable by group or others, and the file is never followed
	// through a symbolic link (see internal/safefile).
	Path string `yaml:"path"`
	// FileMode is the octal permission a created pool file gets (before
	// the umask). Default "0600": the pool holds event data and probe
	// output, and hv_kvp_daemon reads it as root. "0644" is what
	// hv_kvp_daemon itself uses. An existing file keeps its mode.
	FileMode string `yaml:"file_mode"`
	// Prefix is the key's first field. Default "CLOUD_INIT", so that
	// cloud-init's tooling and the host's consumers of cloud-init's
	// records read Sluice's too; set e.g. "SLUICE" to keep them apart.
	// Printable ASCII, at most 32 bytes, no '|'.
	Prefix string `yaml:"prefix"`
	// Mode is "host-safe" (default: keys ≤ 254 bytes, values ≤ 1022 bytes,
	// slices cut between escapes) or "cloud-init" (byte for byte what
	// cloud-init 22.4 writes, including values of 1023-1024 bytes that
	// the kernel cuts before the host sees them).
	Mode Mode `yaml:"mode"`
	// TruncateOnBoot empties the pool file on start when it was last
	// written before this boot, as cloud-init does. Default true.
	TruncateOnBoot bool `yaml:"truncate_on_boot"`
	// MaxFileBytes caps the pool file's size within a boot. Events whose
	// records would grow it beyond the cap are not written and fail
	// permanently (dead letters, reason "kvp pool file full"). Default
	// 2560KiB (1024 records); at least 64KiB.
	MaxFileBytes pipeline.ByteSize `yaml:"max_file_bytes"`
	// MaxMessageBytes caps an event's message, counted as escaped JSON;
	// a longer message is cut (logged and counted). Default 16KiB, at
	// most 1MiB.
	MaxMessageBytes pipeline.ByteSize `yaml:"max_message_bytes"`
	// LockTimeout bounds the wait for the pool file's flock and fcntl
	// locks; when it passes, the delivery fails and is retried. Default
	// 10s.
	LockTimeout time.Duration `yaml:"lock_timeout"`
	// FSync syncs the pool file before a batch is acknowledged. Default
	// true.
	FSync bool `yaml:"fsync"`
}

// defaultConfig returns the defaults.
func defaultConfig() *Config {
	return &Config{
		Path:            DefaultPath,
		FileMode:        DefaultFileMode,
		Prefix:          DefaultPrefix,
		Mode:            ModeHostSafe,
		TruncateOnBoot:  true,
		MaxFileBytes:    DefaultMaxFileBytes,
		MaxMessageBytes: DefaultMaxMessage,
		LockTimeout:     DefaultLockTimeout,
		FSync:           true,
	}
}

// Validate implements pipeline.Config.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.Path == "":
		errs = append(errs, pipeline.FieldErrorf("path", "is required"))
	case strings.ContainsRune(c.Path, 0):
		errs = append(errs, pipeline.FieldErrorf("path", "must not contain a NUL byte"))
	case strings.HasSuffix(c.Path, "/"):
		errs = append(errs, pipeline.FieldErrorf("path", "%q names a directory, want a file", c.Path))
	}
	if _, err := parseFileMode(c.FileMode); err != nil {
		errs = append(errs, pipeline.FieldErrorf("file_mode", "%w", err))
	}
	if err := validPrefix(c.Prefix); err != nil {
		errs = append(errs, pipeline.FieldErrorf("prefix", "%w", err))
	}
	if c.Mode != ModeHostSafe && c.Mode != ModeCloudInit {
		errs = append(errs, pipeline.FieldErrorf("mode", "must be %s or %s, got %q", ModeHostSafe, ModeCloudInit, c.Mode))
	}
	if c.MaxFileBytes < minFileBytes {
		errs = append(errs, pipeline.FieldErrorf("max_file_bytes", "must be at least %s, got %s", pipeline.ByteSize(minFileBytes), c.MaxFileBytes))
	}
	if c.MaxMessageBytes < minMessage || c.MaxMessageBytes > MaxMessageLimit {
		errs = append(errs, pipeline.FieldErrorf("max_message_bytes", "must be between %s and %s, got %s",
			pipeline.ByteSize(minMessage), pipeline.ByteSize(MaxMessageLimit), c.MaxMessageBytes))
	}
	if c.LockTimeout <= 0 {
		errs = append(errs, pipeline.FieldErrorf("lock_timeout", "must be positive, got %s", c.LockTimeout))
	}
	return errors.Join(errs...)
}

// parseFileMode parses an octal permission of at most 0666.
func parseFileMode(s string) (os.FileMode, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m&^0o666 != 0 {
		return 0, fmt.Errorf("must be an octal permission of at most 0666 (e.g. \"0600\"), got %q", s)
	}
	return os.FileMode(m), nil
}

func validPrefix(p string) error {
	switch {
	case p == "":
		return errors.New("is required")
	case len(p) > MaxPrefixBytes:
		return errors.New("must be at most 32 bytes")
	case strings.Contains(p, "|"):
		return errors.New("must not contain '|', the key's field separator")
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] >= 0x7f {
			return errors.New("must be printable ASCII")
		}
	}
	return nil
}
