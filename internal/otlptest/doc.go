// Package otlptest is an in-process OTLP receiver for tests: it
// implements the collector's trace and metrics services over gRPC and
// over HTTP (protobuf, optionally gzip'd, at /v1/traces and /v1/metrics)
// on 127.0.0.1, and keeps what it received, so that a test can check the
// spans and metrics an engine really exported, parent links and resource
// included. It is test support: nothing in the engine imports it.
package otlptest
