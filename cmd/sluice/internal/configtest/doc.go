// Package configtest runs config unit tests, the files `sluice test`
// reads: YAML beside a config that give events to its sources and say,
// per sink, which deliveries must come out of its routes (match,
// transform) and throttles, with pipeline.Simulate, the engine's own
// routing code. No source or sink is started and nothing is contacted:
// sinks are built only to show a delivery in their own encoding
// (pipeline.Encoder).
//
// # The test file
//
//	# sluice.test.yaml, beside sluice.yaml
//	config: sluice.yaml        # default: this file's name without .test
//	env: {SLUICE_DATA: /tmp/x} # ${VAR}s of the config; the process environment is not read
//	start: 2026-01-01T00:00:00Z  # when the first event arrives (this default)
//	tests:
//	  - name: alarms reach the collector
//	    events:
//	      - from: ingest       # the source that emits it (routes' from)
//	        at: 0s             # since start; default: the previous event's at
//	        event:             # a CloudEvent, JSON structured form, in YAML
//	          type: vm.alarm
//	          source: /web
//	          data: {code: 500}
//	      - from: ingest
//	        file: testdata/more.jsonl   # CloudEvents: one per line, a JSON array, or one object
//	    expect:                # per sink, every delivery, in order
//	      collector:
//	        - route: alarms    # the route that selected it
//	          at: 0s           # when Deliver gets it (throttles hold events back)
//	          contains: {type: vm.alarm, data: {code: 500}}   # a subset of the event
//	        - event: {...}     # the whole event, exactly
//	        - expr: 'event.data.code >= 500'                 # CEL, as in routes' match.expr
//	      archive: []          # nothing
//	    dead_letters:          # per sink, the events its routes dead-letter
//	      collector:
//	        - reason: transform failed
//	    golden: testdata/alarms.golden  # every sink's deliveries, in their encoding
//
// An event without specversion gets "1.0", without id its position
// ("1", "2", …); a missing source is /sluice/sources/FROM, as the engine
// sets it; a missing time is its arrival (the journal's append time).
// Events get the journal sequences 1, 2, … in order. A sink left out of
// expect is not checked; one that is must get exactly the deliveries
// listed, each meeting all its conditions. Comparisons are on the
// CloudEvents JSON form (pipeline.MarshalCloudEventJSON, sequence
// included), numbers by value. Golden files are written by Options.Update
// (`sluice test --update`) and compared otherwise.
package configtest
