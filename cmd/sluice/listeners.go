package main

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"

	"github.com/sluice-dev/sluice/config"
)

// listenAddresser is implemented by source configs that listen on a TCP
// address (the http source), so that run can check the address before it
// creates anything on disk.
type listenAddresser interface {
	ListenAddress() string
}

// preflight binds the admin listener (returned, held for serveAdmin; nil
// when the endpoint is off) and checks that every source's listen address
// can be bound, before the journal or any sink file is created. A failure
// names the setting, and the environment variable when the config takes
// the address from one (SLUICE_ADMIN, SLUICE_INGEST in the default).
func preflight(file *config.File, raw []byte) (net.Listener, error) {
	var admin net.Listener
	if file.Admin.Enabled() {
		ln, err := net.Listen("tcp", file.Admin.Listen)
		if err != nil {
			return nil, listenError("admin listener", "admin.listen", file.Admin.Listen, raw, err)
		}
		admin = ln
	}
	for _, s := range file.Pipeline.Sources {
		la, ok := s.Config.(listenAddresser)
		if !ok || la.ListenAddress() == "" {
			continue
		}
		addr := la.ListenAddress()
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if admin != nil {
				_ = admin.Close()
			}
			return nil, listenError(fmt.Sprintf("source %q", s.Name), fmt.Sprintf("sources[%s].with.listen", s.Name), addr, raw, err)
		}
		// Released at once: the source binds it again when it starts.
		_ = ln.Close()
	}
	return admin, nil
}

func listenError(what, setting, addr string, raw []byte, err error) error {
	hint := "set " + setting
	if vars := varsExpandingTo(raw, addr); len(vars) > 0 {
		hint = fmt.Sprintf("set $%s or %s", strings.Join(vars, ", $"), setting)
	}
	return fmt.Errorf("%s cannot listen on %s: %w (nothing was created; %s to use another address)", what, addr, err, hint)
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)

// varsExpandingTo returns the ${VAR} and ${VAR:-default} references in raw
// whose value now is addr.
func varsExpandingTo(raw []byte, addr string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range varRef.FindAllSubmatch(raw, -1) {
		name := string(m[1])
		v, ok := os.LookupEnv(name)
		if !ok || (v == "" && len(m[2]) > 0) {
			v = string(m[2])
		}
		if v == addr && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}
