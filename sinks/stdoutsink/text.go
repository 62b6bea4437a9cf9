package stdoutsink

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/sluice-dev/sluice/pipeline"
)

// textTimeFormat is RFC 3339 in UTC with fixed milliseconds, so that lines
// align.
const textTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// appendTextLine appends the one-line summary of e:
// TIME #SEQ SEVERITY SOURCE TYPE [SUBJECT] [DATA]. When there is data but
// no subject, the subject column holds "-" (and a subject "-" is quoted).
func appendTextLine(buf []byte, e *pipeline.Event) ([]byte, error) {
	if e.Time.IsZero() {
		buf = append(buf, '-')
	} else {
		buf = e.Time.UTC().AppendFormat(buf, textTimeFormat)
	}
	buf = append(buf, " #"...)
	buf = strconv.AppendUint(buf, e.Sequence, 10)
	buf = append(buf, ' ')
	buf = append(buf, severityLabel(e.Severity)...)
	buf = append(buf, ' ')
	buf = appendValue(buf, e.Source)
	buf = append(buf, ' ')
	buf = appendValue(buf, e.Type)
	switch {
	case e.Subject != "":
		buf = append(buf, ' ')
		buf = appendValue(buf, e.Subject)
	case len(e.Data) > 0:
		buf = append(buf, " -"...)
	}
	if len(e.Data) > 0 {
		buf = append(buf, ' ')
		buf = appendTextData(buf, e)
	}
	return append(buf, '\n'), nil
}

// severityLabels are the upper-case level names, indexed by severity+1.
var severityLabels = func() (l [8]string) {
	for s := pipeline.SeverityDebug; s <= pipeline.SeverityEmergency; s++ {
		l[s+1] = strings.ToUpper(s.String())
	}
	return l
}()

func severityLabel(s pipeline.Severity) string {
	if s >= pipeline.SeverityDebug && s <= pipeline.SeverityEmergency {
		return severityLabels[s+1]
	}
	return strings.ToUpper(s.String())
}

// appendValue appends s, quoted as a Go string if it is empty, "-" (the
// placeholder of an absent subject) or holds a
// space, a quote, a backslash or anything unprintable (newlines, escape
// sequences), so that every event stays on one unambiguous line.
func appendValue(buf []byte, s string) []byte {
	if s == "" || s == "-" || strings.ContainsFunc(s, needsQuote) {
		return strconv.AppendQuote(buf, s)
	}
	return append(buf, s...)
}

func needsQuote(r rune) bool {
	return r == '"' || r == '\\' || r == unicode.ReplacementChar || unicode.IsSpace(r) || !unicode.IsPrint(r)
}

// AppendTextLine appends the stdout sink's one-line text form of e (format:
// text): TIME #SEQ SEVERITY SOURCE TYPE [SUBJECT] [DATA], data shown
// bounded and safe for a terminal, ending with a newline. `sluice tap`
// shows events this way.
func AppendTextLine(buf []byte, e *pipeline.Event) []byte {
	buf, _ = appendTextLine(buf, e) // never fails
	return buf
}
