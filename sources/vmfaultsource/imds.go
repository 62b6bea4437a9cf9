package vmfaultsource

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// azureAPIVersion is the pinned IMDS Scheduled Events version (it adds
// DurationInSeconds).
const azureAPIVersion = "2020-07-01"

// Azure event statuses. A finished event disappears; there is no
// "Completed".
const (
	azureScheduled = "Scheduled"
	azureStarted   = "Started"
)

// azureDoc is one Scheduled Events document.
type azureDoc struct {
	Incarnation int64        `json:"DocumentIncarnation"`
	Events      []azureEvent `json:"Events"`
}

// azureEvent is one scheduled event as IMDS lists it.
type azureEvent struct {
	EventID           string   `json:"EventId"`
	EventType         string   `json:"EventType"`
	ResourceType      string   `json:"ResourceType"`
	Resources         []string `json:"Resources"`
	EventStatus       string   `json:"EventStatus"`
	NotBefore         string   `json:"NotBefore"`
	Description       string   `json:"Description"`
	EventSource       string   `json:"EventSource"`
	DurationInSeconds *int64   `json:"DurationInSeconds"`
	// notBefore is NotBefore parsed; zero when empty (once Started).
	notBefore time.Time
}

// parseAzureDoc reads a Scheduled Events answer: DocumentIncarnation and
// Events are required, every event needs an EventId and a status of
// Scheduled or Started, and NotBefore must be empty, RFC 1123 (as the
// documentation shows) or ISO 8601 (as Microsoft's mock server writes).
func parseAzureDoc(b []byte) (azureDoc, error) {
	var raw struct {
		Incarnation *int64        `json:"DocumentIncarnation"`
		Events      *[]azureEvent `json:"Events"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return azureDoc{}, fmt.Errorf("%w: azure scheduled events: %w", ErrMalformed, err)
	}
	if raw.Incarnation == nil || raw.Events == nil {
		return azureDoc{}, fmt.Errorf("%w: azure scheduled events: DocumentIncarnation and Events are required", ErrMalformed)
	}
	d := azureDoc{Incarnation: *raw.Incarnation, Events: *raw.Events}
	seen := map[string]bool{}
	for i := range d.Events {
		e := &d.Events[i]
		switch {
		case e.EventID == "" || strings.ContainsAny(e.EventID, "/\x00"):
			return azureDoc{}, fmt.Errorf("%w: azure event %d: bad EventId %q", ErrMalformed, i, e.EventID)
		case seen[e.EventID]:
			return azureDoc{}, fmt.Errorf("%w: azure event %s listed twice", ErrMalformed, e.EventID)
		case e.EventStatus != azureScheduled && e.EventStatus != azureStarted:
			return azureDoc{}, fmt.Errorf("%w: azure event %s: unknown EventStatus %q", ErrMalformed, e.EventID, e.EventStatus)
		}
		seen[e.EventID] = true
		if e.NotBefore != "" {
			t, err := parseAzureTime(e.NotBefore)
			if err != nil {
				return azureDoc{}, fmt.Errorf("%w: azure event %s: %w", ErrMalformed, e.EventID, err)
			}
			e.notBefore = t
		}
	}
	return d, nil
}

// parseAzureTime reads RFC 1123 ("Mon, 11 Apr 2026 22:26:58 GMT") or ISO
// 8601 ("2026-04-11T22:26:58Z").
func parseAzureTime(s string) (time.Time, error) {
	if t, err := http.ParseTime(s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{time.RFC1123Z, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("NotBefore %q is neither RFC 1123 nor ISO 8601", s)
}

// names reports whether the event's Resources list vm (case-insensitive,
// as Azure resource names are).
func (e azureEvent) names(vm string) bool {
	for _, r := range e.Resources {
		if strings.EqualFold(r, vm) {
			return true
		}
	}
	return false
}
