package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"

	"golang.org/x/sync/errgroup"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/internal/unixsock"
	"github.com/sluice-dev/sluice/journal"
)

// adminDeps is what the engine hands its admin listeners.
type adminDeps struct {
	journal journal.Store
	ready   func() bool
	tel     *telemetry
	log     *slog.Logger
	audit   auditDeps
	status  *statusDeps
}

// startAdmin serves the admin API on the Unix socket in the journal
// directory, and the TCP listener tcpLn (nil when admin.listen is off),
// in g until adminCtx ends. An error (the socket, the token or the TLS
// certificate) is returned before anything is served.
func startAdmin(ctx, adminCtx context.Context, g *errgroup.Group, file *config.File, tcpLn net.Listener, d adminDeps) error {
	closeTCP := func() {
		if tcpLn != nil {
			_ = tcpLn.Close()
		}
	}
	id, err := identify(file.Journal.Dir)
	if err != nil {
		closeTCP()
		return err
	}
	refusals, err := newAdminRefusals(d.tel.meters)
	if err != nil {
		closeTCP()
		return err
	}
	a := &admin{
		journal: d.journal, ready: d.ready, metrics: d.tel.metricsHandler(), log: d.log, audit: d.audit,
		identity: id, pprof: file.Admin.PProf, refusals: refusals, statusDeps: d.status,
	}
	var tcpHandler http.Handler
	if tcpLn != nil {
		token, ln, err := adminTCPSetup(ctx, &file.Admin, file.Journal.Dir, tcpLn)
		if err != nil {
			closeTCP()
			return withExit(exitInvalidConfig, err)
		}
		tcpLn, tcpHandler = ln, a.tcpHandler(file.Admin, token)
	}
	sockLn, err := listenAdminSocket(file.Admin, file.Journal.Dir)
	if err != nil {
		closeTCP()
		return err
	}
	policy := unixsock.Policy{UIDs: file.Admin.AllowUIDs}
	g.Go(func() error {
		return serveAdmin(adminCtx, sockLn, a.socketHandler(policy), defaultAdminTimeouts, a.log, unixsock.ConnContext)
	})
	if tcpLn != nil {
		g.Go(func() error { return serveAdmin(adminCtx, tcpLn, tcpHandler, defaultAdminTimeouts, a.log, nil) })
		a.log.Info("admin API placement", slog.String("socket", sockLn.Path()), slog.Bool("tcp", file.Admin.APIOnTCP()),
			slog.Bool("tls", !file.Admin.TLS.IsZero()), slog.Bool("pprof", file.Admin.PProf))
	}
	return nil
}
