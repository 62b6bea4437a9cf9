// Package unixsock serves on a Unix domain socket that only chosen local
// users may use: the socket file is created with a mode that never
// exists looser on disk than asked (it is bound in a private directory,
// chmod-ed, then renamed into place), and every connection carries the
// peer's kernel-reported credentials (SO_PEERCRED: uid, gid and pid at
// connect time, which the peer cannot forge), so that a server can check
// them on every request.
//
// Sluice's engine serves its admin API (journal, dead letters, cursors,
// replay, export) on such a socket in the journal directory: the file
// mode keeps other users from connecting, and the credential check keeps
// them out even if the mode or the directory were loosened.
package unixsock
