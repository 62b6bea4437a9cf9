package natsjournal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/pipeline"
)

// Consumer is the forwarder's cursor in the agent's journal. The "sluice:"
// prefix keeps the runner from taking it for an orphaned sink cursor.
const Consumer = pipeline.ToolConsumerPrefix + "fleet"

// agentIDKey holds the agent id in Consumer's state.
const agentIDKey = "agent_id"

// ErrAgentIDChanged is returned by Open when the configured agent id is
// not the one stored in the journal: changing it would make the stream
// take records already forwarded for new ones.
var ErrAgentIDChanged = errors.New("agent id differs from the one stored in the journal")

var notToken = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// agentID returns the journal's agent id. The first time, it stores the
// configured one, or derives one (host name and 8 random hex digits); it
// is durable before agentID returns, so no record is ever published under
// an id the journal does not remember.
func agentID(ctx context.Context, j pipeline.Journal, configured string) (string, error) {
	st, err := j.ConsumerState(ctx, Consumer)
	if err != nil {
		return "", fmt.Errorf("agent id: %w", err)
	}
	if stored := string(st[agentIDKey]); stored != "" {
		if configured != "" && configured != stored {
			return "", fmt.Errorf("%w: journal has %q, journal.nats.agent_id is %q", ErrAgentIDChanged, stored, configured)
		}
		return stored, nil
	}
	id := configured
	if id == "" {
		id, err = deriveAgentID()
		if err != nil {
			return "", err
		}
	}
	next, err := j.Cursor(ctx, Consumer)
	if err != nil {
		return "", fmt.Errorf("agent id: %w", err)
	}
	if err := j.CommitCursor(ctx, Consumer, next, pipeline.StateUpdate{Key: agentIDKey, Value: []byte(id)}); err != nil {
		return "", fmt.Errorf("agent id: %w", err)
	}
	if err := j.SetCursor(ctx, Consumer, next); err != nil { // durable now, with the state
		return "", fmt.Errorf("agent id: %w", err)
	}
	return id, nil
}

// deriveAgentID returns <host>-<8 random hex>: readable, and unique even
// for VMs cloned with the same host name.
func deriveAgentID() (string, error) {
	host, _ := os.Hostname()
	host = strings.Trim(notToken.ReplaceAllString(host, "-"), "-")
	if len(host) > 40 {
		host = host[:40]
	}
	if host == "" {
		host = "agent"
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("agent id: %w", err)
	}
	id := host + "-" + hex.EncodeToString(b[:])
	return id, fleet.ValidAgentID(id)
}
