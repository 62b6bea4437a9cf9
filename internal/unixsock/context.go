package unixsock

import (
	"context"
	"net"
)

type credKey struct{}

// ConnContext is an http.Server ConnContext: it puts a *Conn's peer
// credentials into the connection's context, for CredFrom.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if uc, ok := c.(*Conn); ok {
		return context.WithValue(ctx, credKey{}, uc.cred)
	}
	return ctx
}

// CredFrom returns the peer credentials ConnContext stored in ctx; ok is
// false for a connection that is not a *Conn.
func CredFrom(ctx context.Context) (Cred, bool) {
	c, ok := ctx.Value(credKey{}).(Cred)
	return c, ok
}

// ContextWithCred returns ctx carrying c as a connection's peer
// credentials, as ConnContext does, for servers that learn credentials
// another way and for tests of handlers that check them.
func ContextWithCred(ctx context.Context, c Cred) context.Context {
	return context.WithValue(ctx, credKey{}, c)
}
