// Package k8ssink is the `k8s` sink: it turns journal events into
// Kubernetes API writes, idempotently, so that a retry, a replay or a
// restart creates nothing twice. See README.md (Components) and
// docs/sinks/k8s.md for the configuration and the actions, and
// docs/k8s-rbac.md (testdata/rbac.yaml) for the RBAC each action needs.
package k8ssink
