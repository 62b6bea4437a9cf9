// Package sourcesink implements the "source" sink: it hands the events
// its routes select to a source of the same pipeline that takes events
// (pipeline.EventHandler), so that a route can ask a source to act. The
// vmfault source is one: it approves an Azure scheduled maintenance event
// when it is handed a sluice.vm.maintenance.approve event.
//
//	sinks:
//	  - name: approvals
//	    type: source
//	    with: {source: maintenance}   # a source of this pipeline
//	routes:
//	  - name: approve-freezes
//	    from: [maintenance]
//	    to: [approvals]
//	    match:
//	      types: [sluice.vm.maintenance]
//	      expr: 'event.data.state == "scheduled" && event.data.kind == "Freeze"'
//	    transform: {type: sluice.vm.maintenance.approve}
//
// The deliveries are a sink's: read from the journal through this sink's
// cursor, in order, retried with its retry policy until the source says
// they took effect (for the vmfault source: Azure answered the
// StartRequests), dead-lettered when the source refuses them for good
// (an event of another type, an unknown maintenance event). A source that
// is not running (stopping, or replaced by a reload) is a transient error:
// the delivery is retried and reaches the source that runs then.
//
// Provision (so `sluice validate` too) checks that the named source
// exists and takes events. The sink connects to nothing and keeps no
// state of its own.
package sourcesink
