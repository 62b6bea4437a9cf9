package vmfaultsource

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fakenova"
)

func TestParseTokenFromSample(t *testing.T) {
	body := fakenova.Sample("admin__auth-password-project-scoped-response.json")
	tok, err := parseToken("gAAAA-x", body, InterfacePublic, "RegionOne")
	require.NoError(t, err)
	assert.Equal(t, "gAAAA-x", tok.id)
	assert.Equal(t, "a6944d763bf64ee6a275f1263fae0352", tok.projectID)
	assert.Equal(t, "http://23.253.248.171:8774/v2.1/a6944d763bf64ee6a275f1263fae0352/", tok.compute, "type compute, not compute_legacy")
	assert.False(t, tok.expiresAt.IsZero())

	tok, err = parseToken("x", body, InterfaceInternal, "")
	require.NoError(t, err)
	assert.Contains(t, tok.compute, ":8774/v2.1/")

	_, err = parseToken("x", body, InterfacePublic, "Nowhere")
	require.ErrorIs(t, err, ErrEndpointNotFound)
	_, err = parseToken("", body, InterfacePublic, "")
	require.ErrorIs(t, err, ErrMalformed)
	// The auth sample's catalog holds only identity.
	_, err = parseToken("x", fakenova.Sample("auth__responses__project-scoped-password.json"), InterfacePublic, "")
	require.ErrorIs(t, err, ErrEndpointNotFound)
}

func TestParseTokenRejects(t *testing.T) {
	for name, body := range map[string]string{
		"not json":     `<html>`,
		"wrong type":   `{"token": []}`,
		"bad expiry":   `{"token": {"expires_at": "tomorrow", "project": {"id": "p"}}}`,
		"expiry type":  `{"token": {"expires_at": 5, "project": {"id": "p"}}}`,
		"unscoped":     `{"token": {"expires_at": "2026-01-01T00:00:00.000000Z"}}`,
		"bad url":      `{"token": {"project": {"id": "p"}, "catalog": [{"type": "compute", "endpoints": [{"interface": "public", "url": "ftp://x"}]}]}}`,
		"no endpoints": `{"token": {"project": {"id": "p"}, "catalog": [{"type": "compute"}]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseToken("x", []byte(body), InterfacePublic, "")
			require.Error(t, err)
		})
	}
}

func TestParseISOTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2015-11-07T02:58:43.578887Z": time.Date(2015, 11, 7, 2, 58, 43, 578887000, time.UTC),
		"2026-11-23T01:00:00.000000Z": time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC),
		"2013-09-23T13:53:12.774549":  time.Date(2013, 9, 23, 13, 53, 12, 774549000, time.UTC),
		"2013-09-03T04:01:33Z":        time.Date(2013, 9, 3, 4, 1, 33, 0, time.UTC),
		"2013-09-03T06:01:33+02:00":   time.Date(2013, 9, 3, 4, 1, 33, 0, time.UTC),
	} {
		got, err := parseISOTime(in)
		require.NoError(t, err, in)
		assert.True(t, want.Equal(got), "%s: %s", in, got)
	}
}

func TestFresh(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hour := token{issuedAt: now, expiresAt: now.Add(time.Hour)}
	assert.True(t, fresh(hour, now.Add(54*time.Minute)))
	assert.False(t, fresh(hour, now.Add(56*time.Minute)), "5 minutes margin")
	short := token{issuedAt: now, expiresAt: now.Add(2 * time.Second)}
	assert.True(t, fresh(short, now.Add(900*time.Millisecond)))
	assert.False(t, fresh(short, now.Add(1100*time.Millisecond)), "half the lifetime")
	assert.True(t, fresh(token{}, now), "expires_at null never expires")
}

func TestParseServerPagesFromSamples(t *testing.T) {
	p, err := parseServerPage(fakenova.Sample("servers-detail-mixed-page1.json"))
	require.NoError(t, err)
	require.Len(t, p.Servers, 3)
	marker, ok := p.next()
	assert.True(t, ok)
	assert.Equal(t, "7f3c2b3e-5a1d-4c4e-9a36-2b1f0f6a0002", marker)
	v, _ := classify(p.Servers[0], false)
	assert.Equal(t, healthy, v)
	v, reason := classify(p.Servers[1], false)
	assert.Equal(t, faulty, v)
	assert.Contains(t, reason, "No valid host")
	assert.Equal(t, 500, p.Servers[1].Fault.Code)
	v, _ = classify(p.Servers[2], false)
	assert.Equal(t, healthy, v, "SHUTOFF is a stop a user asked for")
	v, _ = classify(p.Servers[2], true)
	assert.Equal(t, faulty, v, "unless stopped_is_fault")

	p, err = parseServerPage(fakenova.Sample("servers-detail-empty-last-page.json"))
	require.NoError(t, err)
	_, ok = p.next()
	assert.False(t, ok)

	p, err = parseServerPage(fakenova.Sample("servers__v2.69__servers-details-resp.json"))
	require.NoError(t, err)
	v, _ = classify(p.Servers[0], false)
	assert.Equal(t, unknown, v, "a down cell's partial record")

	p, err = parseServerPage(fakenova.Sample("servers__v2.100__servers-details-resp.json"))
	require.NoError(t, err)
	assert.NotEmpty(t, p.Servers)

	s, err := parseServer(fakenova.Sample("server-get-error-fault-admin.json"))
	require.NoError(t, err)
	assert.Equal(t, 400, s.Fault.Code)
	_, err = parseServer(fakenova.Sample("servers__v2.69__server-get-resp.json"))
	require.NoError(t, err)
}

func TestClassify(t *testing.T) {
	str := func(s string) *string { return &s }
	pw := func(n int) *int { return &n }
	for _, tc := range []struct {
		s       server
		stopped bool
		want    verdict
	}{
		{server{Status: "ACTIVE", PowerState: pw(1)}, false, healthy},
		{server{Status: "ERROR"}, false, faulty},
		{server{Status: "ACTIVE", PowerState: pw(6)}, false, faulty},
		{server{Status: "ACTIVE", PowerState: pw(4)}, false, faulty},
		{server{Status: "ACTIVE", PowerState: pw(4), TaskState: str("powering-off")}, false, healthy},
		{server{Status: "REBOOT"}, false, healthy},
		{server{Status: "HARD_REBOOT"}, false, healthy},
		{server{Status: "MIGRATING"}, false, healthy},
		{server{Status: "PASSWORD"}, false, healthy},
		{server{Status: "BUILD"}, false, healthy},
		{server{Status: "RESIZE"}, false, healthy},
		{server{Status: "SHUTOFF", PowerState: pw(4)}, false, healthy},
		{server{Status: "SHUTOFF", PowerState: pw(4)}, true, faulty},
		{server{Status: "PAUSED"}, true, faulty},
		{server{Status: "SHELVED_OFFLOADED"}, false, healthy},
		{server{Status: "DELETED"}, false, gone},
		{server{Status: "SOFT_DELETED"}, false, gone},
		{server{Status: "UNKNOWN"}, false, unknown},
		{server{Status: "UNKNOWN"}, true, unknown},
		{server{Status: "WEIRD"}, false, unknown},
	} {
		got, reason := classify(tc.s, tc.stopped)
		assert.Equal(t, tc.want, got, "%s power=%v stopped_is_fault=%v", tc.s.Status, tc.s.PowerState, tc.stopped)
		assert.NotEmpty(t, reason)
	}
}

func TestParseServerRejects(t *testing.T) {
	for name, body := range map[string]string{
		"not json":    `[`,
		"no servers":  `{}`,
		"null":        `{"servers": null}`,
		"wrong type":  `{"servers": {}}`,
		"id type":     `{"servers": [{"id": 1, "status": "ACTIVE"}]}`,
		"no status":   `{"servers": [{"id": "a"}]}`,
		"power type":  `{"servers": [{"id": "a", "status": "ERROR", "OS-EXT-STS:power_state": "x"}]}`,
		"fault type":  `{"servers": [{"id": "a", "status": "ERROR", "fault": "boom"}]}`,
		"links type":  `{"servers": [], "servers_links": 3}`,
		"status type": `{"servers": [{"id": "a", "status": 3}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseServerPage([]byte(body))
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, 30*time.Second, parseRetryAfter("30", now))
	assert.Equal(t, 2*time.Second, parseRetryAfter("Thu, 01 Jan 2026 00:00:02 GMT", now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("Wed, 31 Dec 2025 00:00:02 GMT", now))
	assert.Equal(t, maxRetryAfter, parseRetryAfter("999999", now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("soon", now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("-5", now))
}
