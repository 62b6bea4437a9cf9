package main

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// recordJSON renders a journal record as one CloudEvents JSON line with
// the journal's own fields added as extensions: sequence (already part of
// the event), appendtime and chainhash.
func recordJSON(rec pipeline.Record) ([]byte, error) {
	ev := rec.Event
	ev.Sequence = rec.Seq
	ext := make(map[string]string, len(ev.Extensions)+3)
	for k, v := range ev.Extensions {
		ext[k] = v
	}
	ext["appendtime"] = rec.AppendTime.UTC().Format(time.RFC3339Nano)
	ext["chainhash"] = hex.EncodeToString(rec.Hash[:])
	if ev.Origin != "" {
		ext["sluiceorigin"] = ev.Origin
	}
	ev.Extensions = ext
	b, err := pipeline.MarshalCloudEventJSON(&ev)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// streamRecords reads records from the journal starting at from and calls
// emit for each, at most limit records (0: no limit). Without follow it
// stops at the newest record present when it started; with follow it
// waits for more until ctx ends. flush is called after each batch.
func streamRecords(ctx context.Context, j pipeline.Journal, from, limit uint64, follow bool, emit func(pipeline.Record) error, flush func()) error {
	st, err := j.Stats(ctx)
	if err != nil {
		return err
	}
	end := st.Last
	if !follow && (end == 0 || from > end) {
		return nil
	}
	var n uint64
	for {
		recs, err := j.Read(ctx, from, pipeline.ReadLimit{MaxRecords: 512})
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, pipeline.ErrJournalClosed) {
				return nil
			}
			return err
		}
		for _, rec := range recs {
			if !follow && rec.Seq > end {
				flush()
				return nil
			}
			if err := emit(rec); err != nil {
				return err
			}
			n++
			from = rec.Seq + 1
			if limit > 0 && n >= limit {
				flush()
				return nil
			}
		}
		flush()
		if !follow && from > end {
			return nil
		}
	}
}

// statsView is the JSON form of journal statistics, shared by the admin
// endpoint and `sluice journal stats`. DiskBytes is the size of the
// segment files on disk (records, their indexes and free pages), the same
// definition as verify's disk_bytes; verify also reports record_bytes,
// the encoded size of the records alone.
type statsView struct {
	First    uint64            `json:"first"`
	Last     uint64            `json:"last"`
	Records  uint64            `json:"records"`
	Bytes    int64             `json:"disk_bytes"`
	HeadHash string            `json:"head_hash"`
	Dropped  uint64            `json:"dropped"`
	Cursors  map[string]uint64 `json:"cursors"`
	Segments []segmentView     `json:"segments"`
}

type segmentView struct {
	Name    string    `json:"name"`
	First   uint64    `json:"first"`
	Last    uint64    `json:"last"`
	Bytes   int64     `json:"disk_bytes"`
	Created time.Time `json:"created"`
}

func newStatsView(st pipeline.JournalStats) statsView {
	v := statsView{First: st.First, Last: st.Last, Bytes: st.Bytes, HeadHash: hex.EncodeToString(st.HeadHash[:]),
		Dropped: st.Dropped, Cursors: st.Cursors, Segments: []segmentView{}}
	if st.Last >= st.First && st.Last != 0 {
		v.Records = st.Last - st.First + 1
	}
	if v.Cursors == nil {
		v.Cursors = map[string]uint64{}
	}
	for _, s := range st.Segments {
		v.Segments = append(v.Segments, segmentView{Name: s.Name, First: s.First, Last: s.Last, Bytes: s.Bytes, Created: s.Created.UTC()})
	}
	return v
}
