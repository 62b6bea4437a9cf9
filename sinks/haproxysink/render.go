package haproxysink

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/libra"
)

// renderParams are the parts of the file that come from the sink's
// configuration, not from the request.
type renderParams struct {
	statsSocket string
	bind        string
	user, group string
	log         string
	maxConn     int
}

// render returns the whole HAProxy 2.6 configuration for lbs, in Libra's
// structure (global, defaults, then per load balancer a frontend
// "<p>-in" and a backend "<p>-servers" with servers "id-<node id>"). nil
// lbs render the base file only: the stats socket and no proxies, which is
// what a suspended or deleted load balancer serves. Every value was
// validated by internal/libra, so nothing here can inject a line.
func render(p renderParams, lbs []libra.LoadBalancer) string {
	var b strings.Builder
	line := func(format string, args ...any) {
		b.WriteString("    ")
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	b.WriteString("# Written by Sluice's haproxy sink; changes are overwritten.\n")
	b.WriteString("global\n")
	if p.log != "" {
		line("log %s", p.log)
	}
	line("maxconn %d", p.maxConn)
	if p.user != "" {
		line("user %s", p.user)
	}
	if p.group != "" {
		line("group %s", p.group)
	}
	line("stats socket %s mode 660 level operator", p.statsSocket)
	b.WriteString("defaults\n")
	if p.log != "" {
		line("log global")
	}
	line("option dontlognull")
	line("option redispatch")
	line("maxconn %d", p.maxConn)
	def := libra.DefaultOptions()
	line("timeout connect %dms", def.ConnectTimeout)
	line("timeout client %dms", def.ClientTimeout)
	line("timeout server %dms", def.ServerTimeout)
	for _, lb := range lbs {
		renderLB(&b, line, p, lb)
	}
	return b.String()
}

func renderLB(b *strings.Builder, line func(string, ...any), p renderParams, lb libra.LoadBalancer) {
	name := lb.Protocol // galera gets its own names: Libra's tcp-in clashed with a TCP LB
	mode := "tcp"
	if lb.Protocol == libra.ProtocolHTTP {
		mode = "http"
	}
	fmt.Fprintf(b, "frontend %s-in\n", name)
	line("mode %s", mode)
	line("bind %s", hostPort(p.bind, lb.Port))
	line("timeout client %dms", lb.Options.ClientTimeout)
	line("default_backend %s-servers", name)
	if mode == "http" {
		line("option httplog")
	} else {
		line("option tcplog")
	}
	fmt.Fprintf(b, "backend %s-servers\n", name)
	line("mode %s", mode)
	if lb.Algorithm == libra.AlgorithmLeastConnections {
		line("balance leastconn")
	} else {
		line("balance roundrobin")
	}
	line("timeout connect %dms", lb.Options.ConnectTimeout)
	line("timeout server %dms", lb.Options.ServerTimeout)
	line("retries %d", lb.Options.ConnectRetries)
	switch lb.Protocol {
	case libra.ProtocolHTTP:
		line("cookie SERVERID insert indirect nocache")
		// Libra's "option httpclose" meant closing both sides in HAProxy
		// 1.4; in 2.6 a backend can only close the server side, which is
		// what this says.
		line("option http-server-close")
		line("option forwardfor")
	case libra.ProtocolTCP:
		line("stick-table type ip size 200k expire 30m")
		line("stick store-request src")
		line("stick match src")
	}
	check := "check inter 30s"
	if m := lb.Monitor; m != nil {
		if m.Type == libra.MonitorHTTP {
			line("option httpchk GET %s", m.Path)
		}
		line("timeout check %ds", m.Timeout)
		check = fmt.Sprintf("check inter %ds rise %d fall %d", m.Delay, m.Attempts, m.Attempts)
	}
	for _, n := range lb.Nodes {
		var s strings.Builder
		fmt.Fprintf(&s, "server id-%s %s", n.ID, hostPort(n.Address, n.Port))
		if n.Backup {
			s.WriteString(" backup")
		}
		if lb.Protocol == libra.ProtocolHTTP {
			fmt.Fprintf(&s, " cookie id-%s", n.ID)
		}
		fmt.Fprintf(&s, " weight %d %s", n.Weight, check)
		line("%s", s.String())
	}
}

// hostPort joins an address and a port, bracketing IPv6 as HAProxy reads it.
func hostPort(host string, port int) string {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() && !a.Is4In6() {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}
