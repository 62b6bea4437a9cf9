package vmfaultsource

import (
	"testing"

	"github.com/sluice-dev/sluice/internal/fakenova"
)

// FuzzNovaServers: any answer parses or is an error; a record that parses
// is classified without a panic, and only ERROR, a crashed or shut-down
// guest, or a stopped status makes a fault.
func FuzzNovaServers(f *testing.F) {
	for _, s := range []string{"servers-detail-mixed-page1.json", "servers-detail-empty-last-page.json",
		"servers__v2.69__servers-details-resp.json", "servers__v2.100__servers-details-resp.json"} {
		f.Add(fakenova.Sample(s))
	}
	f.Add([]byte(`{"servers":[{"id":"a","status":"ERROR","fault":{"code":"x"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseServerPage(b)
		if err != nil {
			return
		}
		p.next()
		for _, s := range p.Servers {
			v, reason := classify(s, true)
			if reason == "" {
				t.Fatalf("no reason for %+v", s)
			}
			if v == faulty && s.Status != "ERROR" && s.Status != "ACTIVE" && !stoppedStatuses[s.Status] &&
				(s.PowerState == nil || *s.PowerState != powerCrashed) {
				t.Fatalf("fault from %+v", s)
			}
		}
	})
}

func FuzzNovaServer(f *testing.F) {
	for _, s := range []string{"server-get-error-fault-admin.json", "server-get-error-fault-nonadmin.json",
		"servers__v2.69__server-get-resp.json", "servers__v2.100__server-get-resp.json", "nova-404-itemNotFound.json"} {
		f.Add(fakenova.Sample(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := parseServer(b); err == nil {
			classify(s, false)
		}
	})
}

func FuzzKeystoneToken(f *testing.F) {
	for _, s := range []string{"admin__auth-password-project-scoped-response.json", "auth__responses__project-scoped-password.json",
		"keystone-401-bad-password.json"} {
		f.Add(fakenova.Sample(s), "public", "RegionOne")
	}
	f.Fuzz(func(t *testing.T, b []byte, iface, region string) {
		tok, err := parseToken("t", b, iface, region)
		if err != nil {
			return
		}
		if tok.projectID == "" || checkURL(tok.compute) != nil {
			t.Fatalf("accepted token without project or endpoint: %+v", tok)
		}
	})
}
