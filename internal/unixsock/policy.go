package unixsock

import (
	"os"
	"slices"
)

// Policy says which peers may use a socket: root, the process's own
// effective uid, and the UIDs listed.
type Policy struct {
	// UIDs are the other users allowed.
	UIDs []uint32
}

// Allows reports whether the peer c may use the socket.
func (p Policy) Allows(c Cred) bool {
	return c.UID == 0 || int64(c.UID) == int64(os.Geteuid()) || slices.Contains(p.UIDs, c.UID)
}
