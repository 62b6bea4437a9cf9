package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Connect dials the servers of c as client name, reconnecting forever
// (a NATS outage is a backlog in the journal, never a reason to stop),
// with c's TLS and authentication (Provision is called first, so files
// are read afresh). Disconnects and reconnects are logged, server URLs
// with any user information redacted; no secret is logged or put in an
// error. ctx bounds the first dial. extra options come last
// (PublisherOptions for a publishing connection).
func Connect(ctx context.Context, c ConnConfig, name string, log *slog.Logger, extra ...nats.Option) (*nats.Conn, error) {
	failures := &failureLog{every: time.Minute}
	opts := []nats.Option{
		nats.Name(name),
		nats.Timeout(c.ConnectTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(c.ReconnectWait),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("disconnected from NATS", slog.Any("error", err))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("reconnected to NATS", slog.String("server", nc.ConnectedUrlRedacted()))
		}),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			if failures.note(err, time.Now()) {
				log.Warn("cannot connect to NATS; retrying", slog.Any("error", err))
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("NATS error", slog.Any("error", err))
		}),
	}
	if err := c.Provision(ctx); err != nil {
		return nil, fmt.Errorf("connect to NATS %s: %w", RedactURL(c.URL), err)
	}
	auth, err := c.authOptions(log)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS %s: %w", RedactURL(c.URL), err)
	}
	opts = append(opts, auth...)
	opts = append(opts, extra...)
	nc, err := nats.Connect(strings.ReplaceAll(c.URL, " ", ""), opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS %s: %w", RedactURL(c.URL), err)
	}
	if err := ctx.Err(); err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

// PublisherOptions are the connection options of a Publisher's
// connection. nats.go keeps what is published while it reconnects and
// sends it once reconnected, after the publishes that the broken
// connection lost: those the publisher sends again would then land behind
// their successors, out of journal order. With the buffer off, a publish
// during a reconnect fails at once and is sent again, in order, by the
// publisher's retry.
func PublisherOptions() []nats.Option {
	return []nats.Option{nats.ReconnectBufSize(-1)}
}

// RedactURL returns the server list urls with any user information
// (user:password@) replaced by "redacted", for logs and errors.
func RedactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			continue
		}
		u.User = url.User("redacted")
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

// failureLog decides which failed connection attempts are logged: the
// first, one with a different error, and then one per every, so that
// a long outage (attempts every reconnect_wait) does not flood the log
// while a wrong password or certificate is still reported at once.
type failureLog struct {
	every time.Duration
	mu    sync.Mutex
	last  string
	at    time.Time
}

func (f *failureLog) note(err error, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	msg := err.Error()
	if msg == f.last && now.Sub(f.at) < f.every {
		return false
	}
	f.last, f.at = msg, now
	return true
}
