package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go"
)

// Connect dials the servers of c as client name, reconnecting forever
// (a NATS outage is a backlog in the journal, never a reason to stop).
// Disconnects and reconnects are logged. ctx bounds the first dial.
func Connect(ctx context.Context, c ConnConfig, name string, log *slog.Logger) (*nats.Conn, error) {
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
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("NATS error", slog.Any("error", err))
		}),
	}
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
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
