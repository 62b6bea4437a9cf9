package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var topT0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// topSnapshot is a status at t0+at with source "ingest" having appended
// in events and sinks "archive" (delivered out, lag) and "pager" (lag,
// retries, dead letters).
func topSnapshot(at time.Duration, in, out, lag, retries uint64) statusView {
	return statusView{
		Time:    topT0.Add(at),
		Journal: statusJournal{First: 1, Last: in},
		Sources: []statusSource{{Name: "ingest", Type: "http", Running: true, Appended: in, DeadLetters: 2}},
		Sinks: []statusSink{
			{Name: "archive", Type: "file", Running: true, Delivered: out},
			{Name: "pager", Type: "http", Running: false, Delivered: 0, Lag: lag, LagSeconds: 12.5, Retries: retries, DeadLetters: 2},
		},
		DeadLetters: 2,
	}
}

func TestTopRows(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tests := []struct {
		name      string
		prev      *statusView
		cur       statusView
		rates     []float64 // ingest, archive, pager
		retryRate float64   // pager
	}{
		{"first snapshot: no rates", nil, topSnapshot(0, 10, 10, 0, 0), []float64{nan, nan, nan}, nan},
		{"rates over the interval", ptr(topSnapshot(0, 10, 10, 0, 0)), topSnapshot(2*time.Second, 30, 20, 20, 4), []float64{10, 5, 0}, 2},
		{"counters went back: the engine restarted", ptr(topSnapshot(0, 100, 100, 0, 9)), topSnapshot(time.Second, 3, 3, 0, 0), []float64{nan, nan, 0}, nan},
		{"same time: no rates", ptr(topSnapshot(0, 1, 1, 0, 0)), topSnapshot(0, 2, 2, 0, 0), []float64{nan, nan, nan}, nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows := topRows(tt.prev, tt.cur)
			require.Len(t, rows, 3)
			assert.Equal(t, []string{"ingest", "archive", "pager"}, []string{rows[0].Name, rows[1].Name, rows[2].Name})
			for i, want := range tt.rates {
				if math.IsNaN(want) {
					assert.True(t, math.IsNaN(rows[i].Rate), "%s rate %v", rows[i].Name, rows[i].Rate)
				} else {
					assert.InDelta(t, want, rows[i].Rate, 1e-9, rows[i].Name)
				}
			}
			if math.IsNaN(tt.retryRate) {
				assert.True(t, math.IsNaN(rows[2].RetryRate))
			} else {
				assert.InDelta(t, tt.retryRate, rows[2].RetryRate, 1e-9)
			}
			assert.Equal(t, tt.cur.Sinks[1].Lag, rows[2].Lag)
			assert.Equal(t, 12500*time.Millisecond, rows[2].LagAge)
			assert.Equal(t, 2, rows[0].Dead, "a source's dead letters")
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestTopColumnsFitTheWidth(t *testing.T) {
	t.Parallel()
	rows := topRows(nil, topSnapshot(0, 1, 1, 0, 0))
	tests := []struct {
		width int
		want  []string
	}{
		{200, []string{"KIND", "NAME", "TYPE", "STATE", "EV/S", "TOTAL", "LAG", "LAG AGE", "RETRY/S", "RETRIES", "DEAD"}},
		{90, []string{"KIND", "NAME", "STATE", "EV/S", "LAG", "LAG AGE", "RETRY/S", "RETRIES", "DEAD"}},
		{70, []string{"KIND", "NAME", "EV/S", "LAG", "LAG AGE", "RETRY/S", "DEAD"}},
		{20, []string{"KIND", "NAME", "EV/S", "LAG"}},
	}
	for _, tt := range tests {
		cols := topColumns(tt.width, rows)
		titles := make([]string, len(cols))
		total := 0
		for i, c := range cols {
			titles[i] = c.title
			total += c.width + 2
		}
		assert.Equal(t, tt.want, titles, "width %d", tt.width)
		if len(cols) > 4 {
			assert.LessOrEqual(t, total, tt.width, "width %d", tt.width)
		}
	}
	long := []topRow{{Name: strings.Repeat("n", 50)}}
	assert.Equal(t, topMaxName, topColumns(200, long)[1].width, "NAME is bounded")
}

// send runs msg through m.Update and returns the new model and command.
func send(t *testing.T, m topModel, msg tea.Msg) (topModel, tea.Cmd) {
	t.Helper()
	next, cmd := m.Update(msg)
	tm, ok := next.(topModel)
	require.True(t, ok)
	return tm, cmd
}

// plainView is m's rendering without its styles.
func plainView(m topModel) string { return ansi.Strip(m.render()) }

// rowNames returns the NAME column of a rendered view, top to bottom.
func rowNames(view string) []string {
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s*(?:source|sink)\s+(\S+)`).FindAllStringSubmatch(view, -1) {
		names = append(names, m[1])
	}
	return names
}

func TestTopModel(t *testing.T) {
	t.Parallel()
	snaps := []statusView{topSnapshot(0, 10, 10, 5, 0), topSnapshot(time.Second, 20, 12, 30, 3)}
	fetched := 0
	fetch := func(context.Context) (statusView, error) {
		fetched++
		return snaps[min(fetched, len(snaps))-1], nil
	}
	m := newTopModel(fetch, time.Second, "/j/admin.sock")
	cmd := m.Init()
	require.NotNil(t, cmd)
	m, _ = send(t, m, tea.WindowSizeMsg{Width: 120, Height: 20})
	m, next := send(t, m, cmd())
	require.NotNil(t, next, "a tick follows a snapshot")
	view := plainView(m)
	assert.Contains(t, view, "sluice top /j/admin.sock")
	assert.Equal(t, []string{"ingest", "archive", "pager"}, rowNames(view))
	assert.Regexp(t, `sink\s+pager\s+http\s+stopped\s+-\s+0\s+5\s+12\.5s`, view, "first snapshot: no rate yet")

	m, cmd = send(t, m, tickMsg{})
	require.NotNil(t, cmd, "a tick fetches")
	m, _ = send(t, m, cmd())
	view = plainView(m)
	assert.Regexp(t, `source\s+ingest\s+http\s+running\s+10\.0\s+20\s`, view, "10 events/s in")
	assert.Regexp(t, `sink\s+archive\s+file\s+running\s+2\.0\s+12\s+0\s`, view, "2 events/s out")
	assert.Regexp(t, `sink\s+pager\s+http\s+stopped\s+0\.0\s+0\s+30\s+12\.5s\s+3\.0\s+3\s+2`, view, "lag, lag age, retries, dead letters")

	// s: configuration order, then by name, then by rate, then by lag.
	m, _ = send(t, m, tea.KeyPressMsg{Code: 's', Text: "s"})
	assert.Equal(t, []string{"archive", "ingest", "pager"}, rowNames(plainView(m)))
	assert.Contains(t, plainView(m), "sort: name")
	m, _ = send(t, m, tea.KeyPressMsg{Code: 's', Text: "s"})
	assert.Equal(t, []string{"ingest", "archive", "pager"}, rowNames(plainView(m)), "by rate")
	m, _ = send(t, m, tea.KeyPressMsg{Code: 's', Text: "s"})
	assert.Equal(t, []string{"pager", "ingest", "archive"}, rowNames(plainView(m)), "by lag")

	// p pauses: ticks fetch nothing, snapshots schedule nothing; p again
	// fetches at once.
	m, _ = send(t, m, tea.KeyPressMsg{Code: 'p', Text: "p"})
	assert.Contains(t, plainView(m), "PAUSED")
	_, cmd = send(t, m, tickMsg{})
	assert.Nil(t, cmd)
	m, cmd = send(t, m, tea.KeyPressMsg{Code: 'p', Text: "p"})
	require.NotNil(t, cmd)
	assert.NotContains(t, plainView(m), "PAUSED")

	// A failed fetch keeps the rows and shows the error.
	m, _ = send(t, m, statusMsg{err: errors.New("connection refused")})
	assert.Contains(t, plainView(m), "engine unreachable: connection refused")
	assert.Len(t, rowNames(plainView(m)), 3)

	// A narrow terminal drops columns; every line fits.
	m, _ = send(t, m, tea.WindowSizeMsg{Width: 60, Height: 10})
	for _, line := range strings.Split(plainView(m), "\n") {
		assert.LessOrEqual(t, ansi.StringWidth(line), 60, line)
	}

	for _, key := range []tea.KeyPressMsg{{Code: 'q', Text: "q"}, {Code: 'c', Mod: tea.ModCtrl}} {
		_, cmd = send(t, m, key)
		require.NotNil(t, cmd, key.String())
		assert.IsType(t, tea.QuitMsg{}, cmd(), key.String())
	}
}

func TestTopPlain(t *testing.T) {
	t.Parallel()
	snaps := []statusView{topSnapshot(0, 10, 10, 5, 0), topSnapshot(time.Second, 20, 12, 30, 3), topSnapshot(2*time.Second, 20, 12, 30, 3)}
	var out bytes.Buffer
	i := 0
	fetch := func(context.Context) (statusView, error) {
		if i == len(snaps) {
			return statusView{}, errors.New("connection refused")
		}
		i++
		return snaps[i-1], nil
	}
	err := topPlain(context.Background(), &out, fetch, topOptions{interval: time.Millisecond, once: true})
	require.NoError(t, err)
	assert.Equal(t, `2026-12-03T12:00:01Z source ingest type=http state=running rate=10.0 total=20 emit_errors=0 dead_letters=2
2026-12-03T12:00:01Z sink archive type=file state=running rate=2.0 total=12 lag=0 lag_age=0s retries=0 dead_letters=0
2026-12-03T12:00:01Z sink pager type=http state=stopped rate=0.0 total=0 lag=30 lag_age=12.5s retries=3 dead_letters=2
`, out.String(), "--once: one block, rates over one interval")

	out.Reset()
	i = 0
	err = topPlain(context.Background(), &out, fetch, topOptions{interval: time.Millisecond})
	require.ErrorContains(t, err, "the engine stopped or cannot be reached")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 9, "a block per refresh")
	assert.Contains(t, lines[0], "source ingest type=http state=running rate=- total=10")
	assert.Contains(t, lines[6], "2026-12-03T12:00:02Z source ingest type=http state=running rate=0.0 total=20")
}
