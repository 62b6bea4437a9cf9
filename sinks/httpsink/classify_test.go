package httpsink_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

var classTable = []struct {
	status int
	want   httpsink.Class
}{
	{200, httpsink.Delivered}, {201, httpsink.Delivered}, {202, httpsink.Delivered}, {204, httpsink.Delivered},
	{400, httpsink.Permanent}, {401, httpsink.Permanent}, {403, httpsink.Permanent}, {404, httpsink.Permanent},
	{409, httpsink.Permanent}, {410, httpsink.Permanent}, {413, httpsink.Permanent}, {422, httpsink.Permanent},
	{408, httpsink.Transient}, {425, httpsink.Transient}, {429, httpsink.Transient},
	{500, httpsink.Transient}, {502, httpsink.Transient}, {503, httpsink.Transient}, {504, httpsink.Transient},
	{301, httpsink.Permanent}, {302, httpsink.Permanent}, {307, httpsink.Permanent}, {308, httpsink.Permanent},
	{299, httpsink.Delivered}, {499, httpsink.Permanent}, {599, httpsink.Transient}, {600, httpsink.Transient},
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tt := range classTable {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, httpsink.Classify(tt.status))
		})
	}
	assert.Equal(t, "delivered", httpsink.Delivered.String())
	assert.Equal(t, "transient", httpsink.Transient.String())
	assert.Equal(t, "permanent", httpsink.Permanent.String())
}

// TestStatusHandling runs the table against a real peer: what Deliver
// returns for each status, in both modes.
func TestStatusHandling(t *testing.T) {
	t.Parallel()
	for _, tt := range classTable {
		for _, mode := range []httpsink.Mode{httpsink.ModeStructured, httpsink.ModeBatch} {
			t.Run(strconv.Itoa(tt.status)+"/"+string(mode), func(t *testing.T) {
				t.Parallel()
				p := newPeer(t, func(_ *http.Request, _ *received, _ int) (int, string) {
					return tt.status, "peer says\nno\x00 " + http.StatusText(tt.status)
				})
				s := startSink(t, pipeline.NopSettings("collector"), p.config(mode))
				err := s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 1))
				switch tt.want {
				case httpsink.Delivered:
					require.NoError(t, err)
					return
				case httpsink.Transient:
					require.Error(t, err)
					assert.False(t, pipeline.IsPermanent(err), "%d is transient: %v", tt.status, err)
				case httpsink.Permanent:
					require.Error(t, err)
					assert.True(t, pipeline.IsPermanent(err), "%d is permanent: %v", tt.status, err)
				}
				var se *httpsink.StatusError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tt.status, se.StatusCode)
				assert.Contains(t, err.Error(), "status "+strconv.Itoa(tt.status))
				assert.Contains(t, err.Error(), strings.TrimSpace("peer says no "+http.StatusText(tt.status)), "body snippet on one line")
				assert.NotContains(t, err.Error(), "query-secret", "errors leave the URL query out")
				if tt.status >= 300 && tt.status < 400 {
					assert.Contains(t, err.Error(), "unexpected redirect")
				}
			})
		}
	}
}

func TestRetryAfterInMessage(t *testing.T) {
	t.Parallel()
	// The date form is made when the peer answers, not when the table is
	// built: parallel subtests of a loaded machine start seconds later.
	inAnHour := func() string { return time.Now().Add(time.Hour).UTC().Format(http.TimeFormat) }
	for _, tt := range []struct {
		name   string
		status int
		header func() string
		want   time.Duration
	}{
		{"429 seconds", http.StatusTooManyRequests, func() string { return "120" }, 2 * time.Minute},
		{"503 date", http.StatusServiceUnavailable, inAnHour, time.Hour},
		{"503 garbage", http.StatusServiceUnavailable, func() string { return "soon" }, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPeer(t, nil)
			var answered atomic.Int64 // when the peer made its answer, in UnixNano
			p.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				answered.Store(time.Now().UnixNano())
				w.Header().Set("Retry-After", tt.header())
				w.WriteHeader(tt.status)
			})
			s := startSink(t, pipeline.NopSettings("collector"), p.config(httpsink.ModeBatch))
			err := s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 2))
			require.Error(t, err)
			assert.False(t, pipeline.IsPermanent(err))
			var se *httpsink.StatusError
			require.ErrorAs(t, err, &se)
			// The sink reads the answer between the peer making it and
			// Deliver returning, however long a loaded machine takes: the
			// delay is the wanted one less that time and the date's
			// truncation to whole seconds, never more.
			since := time.Since(time.Unix(0, answered.Load()))
			assert.LessOrEqual(t, se.RetryAfter, tt.want)
			assert.GreaterOrEqual(t, se.RetryAfter, tt.want-since-time.Second)
			if tt.want > 0 {
				assert.Contains(t, err.Error(), "(retry after ")
			} else {
				assert.NotContains(t, err.Error(), "retry after")
			}
		})
	}
}

func TestLargeErrorBodyIsBounded(t *testing.T) {
	t.Parallel()
	p := newPeer(t, nil)
	p.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		chunk := []byte(strings.Repeat("é", 1000))
		for range 10_000 { // 20 MB, far more than the sink reads
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	s := startSink(t, pipeline.NopSettings("collector"), p.config(httpsink.ModeStructured))
	err := s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 1))
	var se *httpsink.StatusError
	require.ErrorAs(t, err, &se)
	assert.LessOrEqual(t, len(se.Body), 512)
	assert.True(t, strings.HasSuffix(se.Body, "é…"), "cut on a rune boundary: %q", se.Body[len(se.Body)-8:])
}
