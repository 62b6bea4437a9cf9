package config

// Document returns a pointer to the Go value a whole config file decodes
// into, holding the defaults, for generating the file's JSON Schema
// (`sluice schema`). Its sources' and sinks' `with` is a raw node whose
// schema is the config type of the factory `type` names.
func Document() any {
	d := defaultDocument()
	return &d
}
