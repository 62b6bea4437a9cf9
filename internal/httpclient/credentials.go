package httpclient

import (
	"context"
	"sync"

	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
)

// Credentials is what a client reads when it is provisioned: the files
// of its TLS configuration and the value of its Authorization header
// (from a secret file, typically). Components keep one, call Provision
// from their own Provision and Ensure from Start, so that the files are
// read once whether or not the runner provisioned the component. It is
// safe for concurrent use.
type Credentials struct {
	tls       *tlsconfig.Config
	authorize func() (pipeline.Secret, error)

	mu   sync.Mutex
	done bool
	auth pipeline.Secret
}

// NewCredentials returns the Credentials of tls (which Provision
// provisions in place; nil for none) and of authorize, which reads the
// secret files and returns the Authorization header value ("" for none;
// nil for no authorization). Its errors should name the field.
func NewCredentials(tls *tlsconfig.Config, authorize func() (pipeline.Secret, error)) *Credentials {
	return &Credentials{tls: tls, authorize: authorize}
}

// Provision reads the TLS files and the secrets, again if they were
// read before. Errors name the configuration field.
func (c *Credentials) Provision(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = false
	return c.provisionLocked(ctx)
}

// Ensure provisions unless Provision succeeded before, and returns the
// Authorization header value.
func (c *Credentials) Ensure(ctx context.Context) (pipeline.Secret, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.provisionLocked(ctx); err != nil {
		return "", err
	}
	return c.auth, nil
}

func (c *Credentials) provisionLocked(ctx context.Context) error {
	if c.done {
		return nil
	}
	if c.tls != nil {
		if err := c.tls.Provision(ctx); err != nil {
			return err
		}
	} else if err := ctx.Err(); err != nil {
		return err
	}
	var auth pipeline.Secret
	if c.authorize != nil {
		var err error
		if auth, err = c.authorize(); err != nil {
			return err
		}
	}
	c.auth, c.done = auth, true
	return nil
}
