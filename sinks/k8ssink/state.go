package k8ssink

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/pipeline"
)

// State keys (pipeline.SinkState): "s/<isomorphic key>" holds a series,
// "c/<node>/<condition type>" a node condition.
const (
	seriesPrefix = "s/"
	condPrefix   = "c/"
)

// seriesState is an Event series as the sink last wrote it. Times are
// Unix microseconds (an Event's MicroTime). Seq is the journal sequence
// of the last delivery counted: deliveries at or before it were written.
type seriesState struct {
	Name      string `json:"n"`
	Namespace string `json:"ns"`
	Count     int32  `json:"c"`
	First     int64  `json:"f"`
	Last      int64  `json:"l"`
	Seq       uint64 `json:"q"`
}

func (st *seriesState) last() time.Time { return time.UnixMicro(st.Last) }

// series returns the Event's series: its count and the time of its last
// event (the event's own time, so that a replay writes the same values).
func (st *seriesState) series() *eventSeries {
	return &eventSeries{Count: st.Count, LastObservedTime: metav1.NewMicroTime(st.last().UTC())}
}

// condState is a node condition as the sink last wrote it.
type condState struct {
	Node       string `json:"node"`
	Type       string `json:"type"`
	Status     string `json:"status"`
	Reason     string `json:"reason"`
	Message    string `json:"message"`
	Transition int64  `json:"t"` // lastTransitionTime, Unix seconds
	Seq        uint64 `json:"q"`
}

func condKey(node, typ string) string { return condPrefix + node + "/" + typ }

// loadState reads the series and conditions from the sink state; values
// that do not decode are dropped with a warning.
func loadState(state pipeline.SinkState, logger *slog.Logger) (map[string]*seriesState, map[string]*condState) {
	series, conds := map[string]*seriesState{}, map[string]*condState{}
	for k, v := range state.All() {
		var err error
		switch {
		case strings.HasPrefix(k, seriesPrefix):
			st := new(seriesState)
			if err = json.Unmarshal(v, st); err == nil {
				series[strings.TrimPrefix(k, seriesPrefix)] = st
			}
		case strings.HasPrefix(k, condPrefix):
			st := new(condState)
			if err = json.Unmarshal(v, st); err == nil {
				conds[k] = st
			}
		}
		if err != nil {
			logger.Warn("k8s sink: dropping unreadable state", slog.String("key", k), slog.Any("error", err))
			state.Delete(k)
		}
	}
	return series, conds
}

// putSeries records a written series.
func (s *sink) putSeries(key string, st *seriesState) {
	c := *st
	s.series[key] = &c
	b, _ := json.Marshal(&c)
	s.state.Set(seriesPrefix+key, b)
}

// putCond records a written condition.
func (s *sink) putCond(st *condState) {
	c := *st
	k := condKey(c.Node, c.Type)
	s.conds[k] = &c
	b, _ := json.Marshal(&c)
	s.state.Set(k, b)
}

// pruneSeries forgets series that can no longer grow (idle for longer
// than SeriesIdle before the newest one), then the oldest beyond
// MaxSeries, keeping the state small. A forgotten series' next event
// starts a new one, as it would anyway.
func (s *sink) pruneSeries() {
	var newest int64
	for _, st := range s.series {
		newest = max(newest, st.Last)
	}
	idle := s.cfg.SeriesIdle.Microseconds()
	keys := make([]string, 0, len(s.series))
	for k, st := range s.series {
		if newest-st.Last > idle {
			s.forgetSeries(k)
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) <= s.cfg.MaxSeries {
		return
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := s.series[a].Last - s.series[b].Last; d != 0 {
			if d < 0 {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, k := range keys[:len(keys)-s.cfg.MaxSeries] {
		s.forgetSeries(k)
	}
}

func (s *sink) forgetSeries(k string) {
	delete(s.series, k)
	s.state.Delete(seriesPrefix + k)
}
