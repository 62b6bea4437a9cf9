package journal_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// fillEnv makes the test binary a tool for the measurements in
// docs/benchmarks.md: SLUICE_JOURNAL_FILL=DIR:EVENTS appends EVENTS
// events (about 500 bytes each: 400 bytes of JSON data, origin "in") to
// the journal in DIR in batches of 1,000, then reopens it and prints how
// long the append and the reopen (Open and Stats) took:
//
//	SLUICE_JOURNAL_FILL=/tmp/backlog/journal:10000000 go test ./journal -run '^$'
const fillEnv = "SLUICE_JOURNAL_FILL"

func childFill(spec string) int {
	dir, n, ok := strings.Cut(spec, ":")
	events, err := strconv.Atoi(n)
	if !ok || err != nil {
		fmt.Println("want DIR:EVENTS, got", spec)
		return 2
	}
	ctx := context.Background()
	start := time.Now()
	j, err := journal.Open(dir, journal.Options{})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	batch := make([]pipeline.Event, 1000)
	data := []byte(`{"state":"healthy","detail":"` + strings.Repeat("x", 371) + `"}`)
	for done := 0; done < events; done += len(batch) {
		for i := range batch {
			batch[i] = pipeline.Event{Source: "/backlog", Type: "sluice.backlog", Origin: "in", DataContentType: "application/json", Data: data}
		}
		if _, err := j.Append(ctx, pipeline.AppendBatch{Events: batch[:min(len(batch), events-done)]}); err != nil {
			fmt.Println(err)
			return 1
		}
	}
	if err := j.Close(ctx); err != nil {
		fmt.Println(err)
		return 1
	}
	appended := time.Since(start)
	start = time.Now()
	j, err = journal.Open(dir, journal.Options{})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	st, err := j.Stats(ctx)
	opened := time.Since(start)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Printf("appended %d events (%d segments, %d bytes) in %s; reopened (Open and Stats) in %s\n",
		st.Last, len(st.Segments), st.Bytes, appended, opened)
	if err := j.Close(ctx); err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}
