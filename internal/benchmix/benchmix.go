// Package benchmix runs benchmark variants interleaved, so that variants
// compared with each other see the same load on a shared machine: each
// b.N is one round of every variant in turn. It reports events per second
// and CPU time per event (getrusage, the whole process: GC and helper
// goroutines included), which other jobs disturb far less than wall time.
package benchmix

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Variant is one way of doing a round's work.
type Variant struct {
	// Name prefixes the variant's metrics: NAME-events/s, NAME-cpu-ns/event.
	Name string
	// Setup, when set, runs before each round of Run, untimed.
	Setup func()
	// Run does one round: the events Run was given.
	Run func()
}

// Run runs b.N rounds of every variant, each round handling events, and
// reports each variant's events/s and cpu-ns/event. It returns the rates
// in the variants' order, for ratios.
func Run(b *testing.B, events int, variants []Variant) []float64 {
	b.Helper()
	took := make([]time.Duration, len(variants))
	cpu := make([]int64, len(variants))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i, v := range variants {
			if v.Setup != nil {
				b.StopTimer()
				v.Setup()
				b.StartTimer()
			}
			start, c := time.Now(), CPUTime(b)
			v.Run()
			took[i] += time.Since(start)
			cpu[i] += CPUTime(b) - c
		}
	}
	b.StopTimer()
	rates := make([]float64, len(variants))
	for i, v := range variants {
		rates[i] = float64(b.N*events) / took[i].Seconds()
		b.ReportMetric(rates[i], v.Name+"-events/s")
		b.ReportMetric(float64(cpu[i])/float64(b.N*events), v.Name+"-cpu-ns/event")
	}
	return rates
}

// CPUTime is the CPU time (user and system) the process used so far, in
// nanoseconds.
func CPUTime(tb testing.TB) int64 {
	tb.Helper()
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
