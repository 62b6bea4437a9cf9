package vessink

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema files, copied verbatim into testdata (see testdata/schema/PROVENANCE.md).
var schemaFiles = map[int]string{
	7: "CommonEventFormat_30.2.1_ONAP.json",
	5: "CommonEventFormat_28.4.1.json",
}

var (
	schemasOnce sync.Once
	schemas     map[int]*jsonschema.Schema
	schemasErr  error
)

// ValidateVES validates a request body (or any VES document) against the
// official JSON schema of the VES major version with a draft-04 validator,
// as the reference collector does. The schemas are compiled once.
func ValidateVES(version int, body []byte) error {
	schemasOnce.Do(func() {
		schemas = make(map[int]*jsonschema.Schema)
		for v, name := range schemaFiles {
			f, err := os.Open(filepath.Join("testdata", "schema", name))
			if err != nil {
				schemasErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(f)
			f.Close()
			if err != nil {
				schemasErr = fmt.Errorf("%s: %w", name, err)
				return
			}
			c := jsonschema.NewCompiler()
			c.DefaultDraft(jsonschema.Draft4)
			url := "file:///" + name
			if err := c.AddResource(url, doc); err != nil {
				schemasErr = err
				return
			}
			s, err := c.Compile(url)
			if err != nil {
				schemasErr = fmt.Errorf("compile %s: %w", name, err)
				return
			}
			schemas[v] = s
		}
	})
	if schemasErr != nil {
		return fmt.Errorf("load schemas: %w", schemasErr)
	}
	s, ok := schemas[version]
	if !ok {
		return fmt.Errorf("no schema for version %d", version)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(inst)
}
