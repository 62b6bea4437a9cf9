package kvpsink

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrNotEventRecord is returned (wrapped) by ParseRecord for a record that
// is not a cloud-init event record (another writer's key, such as
// PROVISIONING_REPORT, or a damaged record).
var ErrNotEventRecord = errors.New("not a cloud-init event record")

// Entry is one record parsed as a cloud-init event record.
type Entry struct {
	// Key is the record's key as written.
	Key string
	// Prefix, Incarnation, Type, Name and UUID are the key's fields.
	Prefix      string
	Incarnation int64
	Type        string
	Name        string
	UUID        string
	// Slice is the slice index (the key's last field and "msg_i"), or -1
	// for a record that is not a slice.
	Slice int
	// TS is the "ts" field as written.
	TS string
	// Result is the "result" field; HasResult tells whether it is there.
	Result    string
	HasResult bool
	// RawMsg is the text between `"msg":"` and the final `"}`: the
	// escaped message, or for a slice the escaped part it carries, which
	// may end or start inside an escape.
	RawMsg string
	// Msg is the decoded message of a record that is not a slice.
	Msg string
}

// BaseKey is the key without the slice suffix: the event's key.
func (e *Entry) BaseKey() string {
	if e.Slice < 0 {
		return e.Key
	}
	return e.Key[:strings.LastIndexByte(e.Key, '|')]
}

// ParseRecord parses a record written in cloud-init's format (by
// cloud-init 19.4 or later, or by an Encoder). The value's name and type
// must match the key's.
func ParseRecord(r Record) (Entry, error) {
	e := Entry{Key: r.Key, Slice: -1}
	v := r.Value
	idx := strings.Index(v, `"msg":"`)
	if idx < 1 || !strings.HasSuffix(v, `"}`) || idx+len(`"msg":"`) > len(v)-2 {
		return e, fmt.Errorf("%w: value has no trailing \"msg\" string", ErrNotEventRecord)
	}
	e.RawMsg = v[idx+len(`"msg":"`) : len(v)-2]
	var meta struct {
		Name   *string `json:"name"`
		Type   *string `json:"type"`
		TS     *string `json:"ts"`
		Result *string `json:"result"`
		MsgI   *int    `json:"msg_i"`
	}
	if err := json.Unmarshal([]byte(v[:idx]+`"msg":""}`), &meta); err != nil {
		return e, fmt.Errorf("%w: value metadata: %w", ErrNotEventRecord, err)
	}
	if meta.Name == nil || meta.Type == nil || meta.TS == nil {
		return e, fmt.Errorf("%w: value lacks name, type or ts", ErrNotEventRecord)
	}
	e.Name, e.Type, e.TS = *meta.Name, *meta.Type, *meta.TS
	if meta.Result != nil {
		e.Result, e.HasResult = *meta.Result, true
	}

	fields := strings.Split(r.Key, "|")
	last := len(fields) - 1
	if meta.MsgI != nil {
		e.Slice = *meta.MsgI
		if e.Slice < 0 || fields[last] != strconv.Itoa(e.Slice) {
			return e, fmt.Errorf("%w: msg_i %d does not match the key's last field %q", ErrNotEventRecord, e.Slice, fields[last])
		}
		last--
	}
	if last < 4 {
		return e, fmt.Errorf("%w: key %q has fewer than 5 fields", ErrNotEventRecord, r.Key)
	}
	inc, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return e, fmt.Errorf("%w: incarnation %q is not an integer", ErrNotEventRecord, fields[1])
	}
	e.Prefix, e.Incarnation, e.UUID = fields[0], inc, fields[last]
	keyType, keyName := fields[2], strings.Join(fields[3:last], "|")
	if keyType != e.Type || keyName != e.Name {
		return e, fmt.Errorf("%w: key type and name %q, %q differ from the value's %q, %q", ErrNotEventRecord, keyType, keyName, e.Type, e.Name)
	}
	if e.Slice < 0 {
		msg, err := decodeJSONText(e.RawMsg)
		if err != nil {
			return e, fmt.Errorf("%w: msg: %w", ErrNotEventRecord, err)
		}
		e.Msg = msg
	}
	return e, nil
}

// Message is a whole event: one record, or the slices of one event joined.
type Message struct {
	// Entry is the event's first record (slice 0 for a sliced event).
	Entry
	// Slices is the number of slices, 0 for an event that was not sliced.
	Slices int
	// Msg is the whole decoded message.
	Msg string
}

// Reassemble joins sliced events as cloud-init's tooling does: the raw
// message text of the slices, in slice order, decoded once. Messages come
// in the order of their first record. A sliced event with a missing,
// repeated or inconsistent slice, or whose joined text does not decode, is
// an error; the other events are still returned.
func Reassemble(entries []Entry) ([]Message, error) {
	var out []Message
	groups := map[string]int{} // base key -> index in out
	parts := map[string][]Entry{}
	for _, e := range entries {
		if e.Slice < 0 {
			out = append(out, Message{Entry: e, Msg: e.Msg})
			continue
		}
		base := e.BaseKey()
		if _, ok := groups[base]; !ok {
			groups[base] = len(out)
			out = append(out, Message{Entry: e})
		}
		parts[base] = append(parts[base], e)
	}
	var errs []error
	var bad []int
	for base, ps := range parts {
		i := groups[base]
		slices.SortStableFunc(ps, func(a, b Entry) int { return a.Slice - b.Slice })
		var raw strings.Builder
		ok := true
		for j, p := range ps {
			if p.Slice != j {
				errs = append(errs, fmt.Errorf("event %s: slice %d missing or repeated", base, j))
				ok = false
				break
			}
			if p.TS != ps[0].TS || p.Result != ps[0].Result || p.HasResult != ps[0].HasResult {
				errs = append(errs, fmt.Errorf("event %s: slice %d has other metadata than slice 0", base, j))
				ok = false
				break
			}
			raw.WriteString(p.RawMsg)
		}
		if ok {
			msg, err := decodeJSONText(raw.String())
			if err != nil {
				errs = append(errs, fmt.Errorf("event %s: joined slices: %w", base, err))
				ok = false
			}
			out[i].Entry, out[i].Slices, out[i].Msg = ps[0], len(ps), msg
		}
		if !ok {
			bad = append(bad, i)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		for j := len(bad) - 1; j >= 0; j-- {
			out = slices.Delete(out, bad[j], bad[j]+1)
		}
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	}
	return out, errors.Join(errs...)
}

// decodeJSONText decodes the content of a JSON string literal.
func decodeJSONText(raw string) (string, error) {
	var s string
	if err := json.Unmarshal([]byte(`"`+raw+`"`), &s); err != nil {
		return "", err
	}
	return s, nil
}
