package lbworkersource

import (
	"context"
	"net"
	"sync"

	"github.com/sluice-dev/sluice/internal/libra"
)

// diagnose adds DIAGNOSTICS' fields to msg as Libra's controller did:
// gearman, one {"host","status"} per configured server (TCP connect), then
// network (TCP connect to the network target), all checked concurrently.
func (s *source) diagnose(ctx context.Context, msg *libra.Value) {
	servers := s.cfg.Gearman.Servers
	results := make([]bool, len(servers))
	network := false
	var wg sync.WaitGroup
	for i, addr := range servers {
		wg.Go(func() { results[i] = s.reachable(ctx, addr) })
	}
	if s.cfg.Diagnostics.NetworkTarget != "" {
		wg.Go(func() { network = s.reachable(ctx, s.cfg.Diagnostics.NetworkTarget) })
	}
	wg.Wait()
	checks := make([]*libra.Value, len(servers))
	for i, addr := range servers {
		host, _, _ := net.SplitHostPort(addr)
		checks[i] = libra.Object().Set("host", libra.String(host)).Set("status", libra.String(passFail(results[i])))
	}
	msg.Set("gearman", libra.Array(checks...))
	if s.cfg.Diagnostics.NetworkTarget != "" {
		msg.Set("network", libra.String(passFail(network)))
	}
}

func (s *source) reachable(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Diagnostics.Timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func passFail(ok bool) string {
	if ok {
		return libra.Pass
	}
	return libra.Fail
}
