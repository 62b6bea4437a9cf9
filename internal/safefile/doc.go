// Package safefile opens the files Sluice writes so that another local
// user cannot redirect them, and checks the directories that hold them.
//
// Sluice often runs as root. If a directory it writes into is writable by
// another user, that user can plant a symbolic link (or a hard link, or a
// file of their own) where Sluice expects its own file, and Sluice would
// then truncate or append to whatever the link points at. OpenFile
// refuses to follow a symbolic link in the last path component
// (O_NOFOLLOW) and checks what it opened; CheckDir refuses a directory
// another user could write into, as OpenSSH's StrictModes and
// PostgreSQL's data directory check do.
//
// A file or directory owned by root is trusted as well as one owned by the
// effective user: only root can create it, and a non-root Sluice writes
// root-owned files such as the Hyper-V KVP pool only when their mode lets
// it. Ancestors of the checked directory are not checked.
package safefile
