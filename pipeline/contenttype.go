package pipeline

import (
	"errors"
	"mime"
	"strings"
)

// IsJSONContentType reports whether data of content type ct is JSON. It
// is Sluice's one such predicate: the CloudEvents codec (JSON data
// embedded as JSON, the rest as data_base64), export, route matches (CEL
// sees data only when it is JSON) and every sink that reads data decide
// with it.
//
// An empty ct is JSON: the CloudEvents JSON format (1.0, §3.1) says an
// absent datacontenttype is processed as application/json, and every
// event Sluice itself emits says application/json. Otherwise JSON is
// application/json, text/json or any media type with the +json suffix
// (RFC 6839), in any case and with any parameters
// ("application/json; charset=utf-8"); text that is not a media type is
// not JSON.
func IsJSONContentType(ct string) bool {
	switch ct { // the common spellings, without parsing
	case "", "application/json", "text/json", "application/cloudevents+json":
		return true
	case "text/plain", "application/octet-stream":
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return false
	}
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}
