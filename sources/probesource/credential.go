package probesource

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
)

// defaultExecUser is who exec probes run as when Sluice runs as root and
// the probe names no user.
const defaultExecUser = "nobody"

// errNeedsRoot is returned (wrapped) for a user or group other than
// Sluice's own when Sluice does not run as root.
var errNeedsRoot = errors.New("running a command as another user or group needs root")

// identity is who an exec probe's command runs as.
type identity struct {
	// set is false to run as Sluice itself (no change of user).
	set      bool
	uid, gid uint32
	// noNewPrivs is set when root hands the command to another user: the
	// command (and what it runs) can never gain privileges again through
	// setuid or file capabilities (PR_SET_NO_NEW_PRIVS).
	noNewPrivs bool
}

// resolveIdentity decides who a probe's command runs as, from its user
// and group (names or numbers) and Sluice's effective ids: as root
// without a user, defaultExecUser; without root, only Sluice's own ids.
// A user without a group gets its primary group; supplementary groups are
// always dropped. It reads the user and group databases.
func resolveIdentity(userName, groupName string, euid, egid int) (identity, error) {
	if userName == "" && groupName == "" && euid != 0 {
		return identity{}, nil
	}
	uid, gid := uint32(euid), uint32(egid) //nolint:gosec // ids are never negative here
	name := userName
	if name == "" && euid == 0 {
		name = defaultExecUser
	}
	if name != "" {
		u, err := lookupUser(name)
		if err != nil {
			return identity{}, fmt.Errorf("user: %w", err)
		}
		uid = u.uid
		if u.hasGID {
			gid = u.gid
		} else if groupName == "" {
			return identity{}, fmt.Errorf("user: uid %d has no passwd entry: set group too", uid)
		}
	}
	if groupName != "" {
		g, err := lookupGroup(groupName)
		if err != nil {
			return identity{}, fmt.Errorf("group: %w", err)
		}
		gid = g
	}
	if euid != 0 {
		if int(uid) != euid || int(gid) != egid {
			return identity{}, fmt.Errorf("user/group: %w (Sluice runs as uid %d gid %d)", errNeedsRoot, euid, egid)
		}
		return identity{}, nil
	}
	return identity{set: true, uid: uid, gid: gid, noNewPrivs: uid != 0}, nil
}

type userIDs struct {
	uid, gid uint32
	hasGID   bool
}

// lookupUser resolves a user name, or a numeric uid (which needs no
// passwd entry).
func lookupUser(s string) (userIDs, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		u, err := user.LookupId(s)
		if err != nil {
			return userIDs{uid: uint32(n)}, nil
		}
		return idsOf(u)
	}
	u, err := user.Lookup(s)
	if err != nil {
		return userIDs{}, err
	}
	return idsOf(u)
}

func idsOf(u *user.User) (userIDs, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return userIDs{}, fmt.Errorf("user %s: uid %q is not a number", u.Username, u.Uid)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return userIDs{}, fmt.Errorf("user %s: gid %q is not a number", u.Username, u.Gid)
	}
	return userIDs{uid: uint32(uid), gid: uint32(gid), hasGID: true}, nil
}

// lookupGroup resolves a group name or a numeric gid.
func lookupGroup(s string) (uint32, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(n), nil
	}
	g, err := user.LookupGroup(s)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("group %s: gid %q is not a number", s, g.Gid)
	}
	return uint32(n), nil
}

// effectiveIDs returns Sluice's effective uid and gid.
func effectiveIDs() (int, int) { return os.Geteuid(), os.Getegid() }
