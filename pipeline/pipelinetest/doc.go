// Package pipelinetest holds conformance suites and fakes for Sluice
// components, in the spirit of testing/slogtest and watermill's pub/sub
// test suite: every source and sink package calls the suites that apply to
// it, so the contracts written in package pipeline are checked in one place.
//
// # Suites
//
//   - TestSink checks the pipeline.Sink contract (lifecycle, ordering,
//     empty batches, context cancellation, data ownership) against a sink
//     and a function that reads back what it delivered.
//   - TestSource checks the pipeline.Source lifecycle (Run stops when its
//     context ends).
//   - TestSourceFactory and TestSinkFactory check a factory's type name and
//     default config.
//
// # Fakes
//
//   - RecordingHost is a pipeline.SourceHost that records emits like a
//     journal and can be told to fail (for example with
//     pipeline.ErrJournalFull) or to block.
//   - RecordingSink is a pipeline.Sink that records deliveries and returns
//     scripted errors.
//   - MemoryJournal is a pipeline.Journal in memory (cursors with consumer
//     state, dead letters, SeqAtTime), for tests of the runner and tools.
//
// The package imports only package pipeline, the standard library and
// testing libraries, so any component may use it.
package pipelinetest
