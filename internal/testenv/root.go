package testenv

import (
	"os"
	"testing"
)

// AllEnv is the variable the test command sets to 1 so that a test which
// cannot run fails instead of skipping.
const AllEnv = "SLUICE_TEST_ALL"

// RunsAll reports whether the test command runs the suite, so that every
// test must run.
func RunsAll() bool { return os.Getenv(AllEnv) == "1" }

// RequireRoot returns when the process runs as root. Otherwise it skips t,
// or, under the test command (RunsAll), fails it: needs says what the test
// does that takes root, as in "mounts a tmpfs".
func RequireRoot(t testing.TB, needs string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if RunsAll() {
		t.Fatalf("this test %s, which needs root; the test command (%s=1) runs every test: run it as root", needs, AllEnv)
	}
	t.Skipf("this test %s, which needs root", needs)
}
