package haproxysink

import (
	"time"

	"github.com/sluice-dev/sluice/internal/libra"
)

// errArchive is ARCHIVE's answer: uploading HAProxy's log to an object
// store is not something this sink does.
const errArchive = "ARCHIVE (uploading the load balancer's log to an object store) is not supported by the haproxy sink"

// errDeleted is the hpcs_error of STATS and METRICS after DELETE.
const errDeleted = "Load balancer has been deleted"

// utcLayout is how utc_start and utc_end are written (UTC, seconds).
const utcLayout = "2006-01-02 15:04:05"

// statsResult is STATS' reply_after result, in Libra's shape: nodes
// [{"id","status"}] (UP or DOWN); after DELETE status DELETED and FAIL; a
// stats socket that cannot be read is FAIL with the reason.
func statsResult(deleted bool, nodes []NodeStatus, err error) []byte {
	switch {
	case deleted:
		return libra.FailResult(errDeleted, libra.Object().Set("status", libra.String("DELETED")))
	case err != nil:
		return libra.FailResult(err.Error(), nil)
	}
	list := make([]*libra.Value, 0, len(nodes))
	for _, n := range nodes {
		list = append(list, libra.Object().Set("id", libra.String(n.ID)).Set("status", libra.String(n.Status)))
	}
	return libra.Result(libra.Object().Set("nodes", libra.Array(list...)))
}

// metricsResult is METRICS' reply_after result, in Libra's shape:
// utc_start (the previous METRICS, or when the sink started), utc_end
// (now) and loadBalancers [{"protocol","bytes_out"}] (HAProxy's bout
// counter of each backend, which a reload resets); after DELETE status
// DELETED and FAIL.
func metricsResult(deleted bool, start, end time.Time, lbs []BackendBytes, err error) []byte {
	switch {
	case deleted:
		return libra.FailResult(errDeleted, libra.Object().Set("status", libra.String("DELETED")))
	case err != nil:
		return libra.FailResult(err.Error(), nil)
	}
	list := make([]*libra.Value, 0, len(lbs))
	for _, b := range lbs {
		list = append(list, libra.Object().Set("protocol", libra.String(b.Protocol)).Set("bytes_out", libra.Int(b.BytesOut)))
	}
	return libra.Result(libra.Object().
		Set("utc_start", libra.String(start.UTC().Format(utcLayout))).
		Set("utc_end", libra.String(end.UTC().Format(utcLayout))).
		Set("loadBalancers", libra.Array(list...)))
}
