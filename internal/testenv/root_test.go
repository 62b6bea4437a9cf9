package testenv_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/testenv"
)

// TestRequireRootFailsUnderTheTestCommand runs a child test as an
// unprivileged user (or as this one, when it is not root) and checks that
// RequireRoot skips it normally and fails it under the test command.
func TestRequireRootFailsUnderTheTestCommand(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		testenv.RequireRoot(t, "does something")
		t.Log("ran as root")
		return
	}
	tests := []struct {
		all  string
		want string
	}{
		{all: "", want: "--- SKIP"},
		{all: "1", want: "--- FAIL"},
	}
	for _, tt := range tests {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequireRootFailsUnderTheTestCommand$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", testenv.AllEnv+"="+tt.all)
		if os.Geteuid() == 0 {
			// setpriv (util-linux) drops to nobody for the child.
			path, err := exec.LookPath("setpriv")
			if err != nil {
				t.Fatalf("setpriv: %v", err)
			}
			cmd = exec.Command(path, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", os.Args[0]}, cmd.Args[1:]...)...)
			cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", testenv.AllEnv+"="+tt.all)
		}
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), tt.want) {
			t.Errorf("%s=%q: want %q in the child's output:\n%s", testenv.AllEnv, tt.all, tt.want, out)
		}
	}
}
