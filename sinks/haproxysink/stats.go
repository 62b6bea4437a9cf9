package haproxysink

import (
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// NodeStatus is one server as STATS reports it, in Libra's terms.
type NodeStatus struct {
	// Protocol is the load balancer (http, tcp, galera) from the backend
	// name "<protocol>-servers".
	Protocol string `json:"protocol"`
	// ID is the node id: the server name without its "id-" prefix (only
	// the prefix: ids may contain hyphens, which broke Libra's split).
	ID string `json:"id"`
	// Status is UP when HAProxy says exactly UP, otherwise DOWN, as Libra.
	Status string `json:"status"`
	// Detail is HAProxy's own status ("DOWN", "UP 1/3", "MAINT", ...).
	Detail string `json:"detail"`
}

// BackendBytes is one backend's bytes out (METRICS).
type BackendBytes struct {
	Protocol string `json:"protocol"`
	BytesOut int64  `json:"bytes_out"`
}

// statRows runs "show stat" on the stats socket and returns the rows by
// column name.
func statRows(ctx context.Context, socket, args string, timeout time.Duration) ([]map[string]string, error) {
	out, err := socketCommand(ctx, socket, "show stat "+args, timeout)
	if err != nil {
		return nil, err
	}
	out = strings.TrimPrefix(out, "# ")
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse show stat: %w", err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("parse show stat: empty answer")
	}
	head := recs[0]
	rows := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		row := make(map[string]string, len(head))
		for i, name := range head {
			if i < len(rec) {
				row[name] = rec[i]
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// nodeStatuses reads every server of the Libra backends (Libra's
// "show stat -1 4 -1").
func nodeStatuses(ctx context.Context, socket string, timeout time.Duration) ([]NodeStatus, error) {
	rows, err := statRows(ctx, socket, "-1 4 -1", timeout)
	if err != nil {
		return nil, err
	}
	var out []NodeStatus
	for _, row := range rows {
		proto, ok := strings.CutSuffix(row["pxname"], "-servers")
		id, isNode := strings.CutPrefix(row["svname"], "id-")
		if !ok || !isNode {
			continue
		}
		status := "DOWN"
		if row["status"] == "UP" {
			status = "UP"
		}
		out = append(out, NodeStatus{Protocol: proto, ID: id, Status: status, Detail: row["status"]})
	}
	return out, nil
}

// backendBytes reads every Libra backend's bout (Libra's "show stat -1 2 -1").
func backendBytes(ctx context.Context, socket string, timeout time.Duration) ([]BackendBytes, error) {
	rows, err := statRows(ctx, socket, "-1 2 -1", timeout)
	if err != nil {
		return nil, err
	}
	var out []BackendBytes
	for _, row := range rows {
		proto, ok := strings.CutSuffix(row["pxname"], "-servers")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(row["bout"], 10, 64)
		out = append(out, BackendBytes{Protocol: proto, BytesOut: n})
	}
	return out, nil
}
