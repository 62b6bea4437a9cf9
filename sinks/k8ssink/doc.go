// Package k8ssink is the `k8s` sink: it turns journal events into
// Kubernetes API writes, idempotently, so that a retry, a replay or a
// restart creates nothing twice. See README.md ("Kubernetes sink") and
// docs/k8s-sink.md for the configuration, the actions, the RBAC each
// needs and the measurements.
package k8ssink
