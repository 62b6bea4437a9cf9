package pipeline

// Encoder is implemented by sinks that can show the bytes Deliver would
// write or send for a batch without writing or sending anything: the
// `sluice test` preview of a delivery in the sink's own encoding. Encode
// must do no I/O and leave the sink's state (SinkState) unchanged; it may
// be called on a sink that was built but never provisioned or started.
type Encoder interface {
	Encode(batch []Delivery) ([]byte, error)
}
