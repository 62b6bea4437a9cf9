package httpclient_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
)

var (
	errContent = errors.New("400 bad event")
	errAuth    = errors.New("401 unauthorized")
	errBusy    = errors.New("503 busy")
)

// peer refuses any request holding a bad item: with errAuth for item
// "auth", errBusy for "busy", errContent otherwise.
type peer struct {
	requests  [][]string
	delivered []string
	refused   map[string]error
}

func (p *peer) send(_ context.Context, items []string) error {
	p.requests = append(p.requests, slices.Clone(items))
	for _, it := range items {
		switch it {
		case "auth":
			return pipeline.Permanent(errAuth)
		case "busy":
			return errBusy
		case "bad", "bad2":
			return pipeline.Permanent(errContent)
		}
	}
	p.delivered = append(p.delivered, items...)
	return nil
}

// cause returns the sentinel err wraps.
func cause(err error) error {
	for _, s := range []error{errContent, errAuth, errBusy} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

func (p *peer) bisection() httpclient.Bisection[string] {
	return httpclient.Bisection[string]{
		Send:       p.send,
		Splittable: func(err error) bool { return errors.Is(err, errContent) },
		Refuse: func(items []string, err error) error {
			for _, it := range items {
				p.refused[it] = cause(err)
			}
			if errors.Is(err, errAuth) {
				return err
			}
			return nil
		},
	}
}

func TestBisect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		items         []string
		wantErr       error
		wantDelivered []string
		wantRefused   map[string]error
		wantRequests  int
	}{
		{name: "empty", wantRequests: 0},
		{name: "all taken", items: []string{"a", "b", "c"}, wantDelivered: []string{"a", "b", "c"}, wantRequests: 1},
		{
			name: "one bad among eight", items: []string{"a", "b", "c", "bad", "e", "f", "g", "h"},
			wantDelivered: []string{"a", "b", "c", "e", "f", "g", "h"},
			wantRefused:   map[string]error{"bad": errContent},
			// 1 + 2 (halves) + 2 (quarters of the bad half) + 2 (eighths)
			wantRequests: 7,
		},
		{
			name: "two bad", items: []string{"bad", "b", "c", "bad2"},
			wantDelivered: []string{"b", "c"},
			wantRefused:   map[string]error{"bad": errContent, "bad2": errContent},
			wantRequests:  7,
		},
		{
			name: "not splittable refuses the request whole", items: []string{"a", "auth", "c"},
			wantRefused:  map[string]error{"a": errAuth, "auth": errAuth, "c": errAuth},
			wantRequests: 1,
		},
		{
			name: "a stop refuses what was not sent", items: []string{"bad", "auth", "c", "d"},
			// [bad auth c d] -> [bad auth] -> [bad] refused, [auth] stops; [c d] unsent.
			wantRefused:  map[string]error{"bad": errContent, "auth": errAuth, "c": errAuth, "d": errAuth},
			wantRequests: 4,
		},
		{
			name: "transient ends it", items: []string{"bad", "a", "busy", "d"},
			wantErr:       errBusy,
			wantRefused:   map[string]error{"bad": errContent},
			wantDelivered: []string{"a"},
			// [bad a busy d] -> [bad a] -> [bad] [a] -> [busy d] transient.
			wantRequests: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &peer{refused: map[string]error{}}
			err := httpclient.Bisect(t.Context(), tt.items, p.bisection())
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantDelivered, p.delivered)
			if tt.wantRefused == nil {
				tt.wantRefused = map[string]error{}
			}
			assert.Equal(t, tt.wantRefused, p.refused)
			assert.Len(t, p.requests, tt.wantRequests)
		})
	}
}

func TestBisectSplitHook(t *testing.T) {
	t.Parallel()
	p := &peer{refused: map[string]error{}}
	b := p.bisection()
	var splits [][]string
	var causes []error
	b.Split = func(items []string, err error) {
		causes = append(causes, cause(err))
		splits = append(splits, slices.Clone(items))
	}
	require.NoError(t, httpclient.Bisect(t.Context(), []string{"a", "bad", "c"}, b))
	assert.Equal(t, [][]string{{"a", "bad", "c"}, {"bad", "c"}}, splits)
	assert.Equal(t, []error{errContent, errContent}, causes)
}
