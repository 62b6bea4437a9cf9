package httpclient

import "runtime/debug"

// UserAgent returns "sluice", or "sluice/<version>" when the binary was
// built from a tagged version of the sluice module (not a "(devel)"
// build). The value is computed once.
func UserAgent() string { return userAgent }

var userAgent = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == "github.com/sluice-dev/sluice" &&
		bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return "sluice/" + bi.Main.Version
	}
	return "sluice"
}()
