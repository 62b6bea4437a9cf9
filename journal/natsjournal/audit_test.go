package natsjournal_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// An auditor verifies an agent's chain from the stream alone: the bodies
// of its messages in sequence order, with a manifest made from the first
// message's Sluice-Prev-Hash and the last one's chain hash, are an export
// journal.VerifyExport accepts; a changed body is caught.
func TestAuditChainFromStream(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	s := open(t, agentConfig(t.TempDir(), srv.URL(), "vm-audit"), pipeline.NopSettings("journal"))
	appendN(t, s, 120)
	js := connect(t, srv.URL())
	waitStream(t, js, 120)
	closeStore(t, s)

	stream, err := js.Stream(t.Context(), fleet.DefaultStreamName)
	require.NoError(t, err)
	body, inbound := exportFromStream(t, stream, 41, 120)
	_, err = journal.VerifyExport(t.Context(), bytes.NewReader(body), journal.VerifyExportOptions{})
	require.NoError(t, err, "records 41-120 verify from the stream")
	require.Len(t, inbound, 80)

	tampered := bytes.Replace(body, []byte(`{"n":50}`), []byte(`{"n":51}`), 1)
	require.NotEqual(t, body, tampered)
	_, err = journal.VerifyExport(t.Context(), bytes.NewReader(tampered), journal.VerifyExportOptions{})
	require.ErrorIs(t, err, journal.ErrExportInvalid)
}

// exportFromStream builds an export of the agent records from..to out of
// the stream's messages.
func exportFromStream(t *testing.T, s jetstream.Stream, from, to uint64) ([]byte, []fleet.Inbound) {
	t.Helper()
	var buf bytes.Buffer
	var ins []fleet.Inbound
	var prev string
	for seq := from; seq <= to; seq++ {
		raw, err := s.GetMsg(t.Context(), seq) // one agent: stream order is journal order
		require.NoError(t, err)
		require.Equal(t, fleet.MsgID("vm-audit", seq), raw.Header.Get(fleet.HeaderMsgID))
		if seq == from {
			prev = raw.Header.Get(fleet.HeaderPrevHash)
		}
		buf.Write(raw.Data)
		buf.WriteByte('\n')
	}
	ins = append(ins, readStream(t, s)[from-1:to]...)
	m := journal.ExportManifest{
		Manifest: journal.ExportFormat, From: from, To: to, Count: to - from + 1,
		PrevHash: prev, HeadHash: ins[len(ins)-1].ChainHash, Created: time.Now().UTC().Format(time.RFC3339),
	}
	line, err := json.Marshal(m)
	require.NoError(t, err)
	buf.Write(line)
	buf.WriteByte('\n')
	return buf.Bytes(), ins
}
