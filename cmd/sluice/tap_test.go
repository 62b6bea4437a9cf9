package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTapPrinter(t *testing.T) {
	t.Parallel()
	event := `{"type":"event","point":"%s","source":"ingest","route":"all","sink":"archive","seq":7,"outcome":"%s"%s,"event":{"specversion":"1.0","id":"e1","source":"/t","type":"t.x","data":{"n":1}}}`
	fill := func(point, outcome, extra string) string {
		parts := strings.SplitN(event, "%s", 4)
		return parts[0] + point + parts[1] + outcome + parts[2] + extra + parts[3]
	}
	tests := []struct {
		name       string
		text       bool
		limit      uint64
		stream     []string
		wantOut    []string
		wantErr    []string
		wantCutErr bool
		// wantFail is an error the tap ends with, and wantMsg its text.
		wantFail error
		wantMsg  string
	}{
		{
			name:    "text on a terminal",
			text:    true,
			stream:  []string{`{"type":"open","points":[{"kind":"sink","name":"archive"}]}`, fill("sink", "delivered", ""), `{"type":"end","end":"engine stopping"}`},
			wantOut: []string{`sink archive ← all delivered  - #7 INFO /t t.x - {"n":1}`},
			wantErr: []string{"tap: watching sink archive (Ctrl-C to stop)", "tap: the engine is stopping; the tap ended"},
		},
		{
			name:    "route and dead letters in text",
			text:    true,
			stream:  []string{fill("route", "selected", ""), fill("sink", "dead-lettered", `,"reason":"permanent","error":"400\nbad"`), `{"type":"end","end":"engine stopping"}`},
			wantOut: []string{`route all → archive selected  - #7 INFO /t t.x - {"n":1}`, `sink archive ← all dead-lettered (permanent: 400 bad)  - #7`},
		},
		{
			name:    "json lines as sent, drops reported as they grow",
			stream:  []string{fill("source", "appended", ""), `{"type":"dropped","dropped":5}`, `{"type":"dropped","dropped":12}`, `{"type":"end","end":"engine stopping"}`},
			wantOut: []string{fill("source", "appended", "")},
			wantErr: []string{"tap: 5 events dropped, slow", "tap: 7 events dropped, slow"},
		},
		{
			name:    "count stops early",
			limit:   1,
			stream:  []string{fill("sink", "delivered", ""), fill("sink", "delivered", "")},
			wantOut: []string{fill("sink", "delivered", "")},
		},
		{
			name:       "a stream cut without its end is an error",
			stream:     []string{fill("sink", "delivered", "")},
			wantOut:    []string{fill("sink", "delivered", "")},
			wantCutErr: true,
		},
		{
			name: "a point a reload removed ends the tap with an error naming it",
			stream: []string{fill("sink", "delivered", ""),
				`{"type":"end","end":"removed","error":"route \"all\" no longer exists: a configuration reload removed it\nsink \"archive\" no longer exists: a configuration reload removed it"}`,
				fill("sink", "delivered", "")},
			wantOut:  []string{fill("sink", "delivered", "")},
			wantFail: errTapRemoved,
			wantMsg:  `tap ended: route "all" no longer exists: a configuration reload removed it; sink "archive" no longer exists: a configuration reload removed it`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			p := &tapPrinter{out: &out, errOut: &errOut, text: tt.text, slowWhat: "slow", limit: tt.limit}
			err := p.copy(strings.NewReader(strings.Join(tt.stream, "\n") + "\n"))
			switch {
			case tt.wantCutErr:
				require.ErrorIs(t, err, errTapCut)
			case tt.wantFail != nil:
				require.ErrorIs(t, err, tt.wantFail)
				assert.Equal(t, tt.wantMsg, err.Error())
			default:
				require.NoError(t, err)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			require.Len(t, lines, len(tt.wantOut), out.String())
			for i, w := range tt.wantOut {
				assert.Contains(t, lines[i], w)
			}
			for _, w := range tt.wantErr {
				assert.Contains(t, errOut.String(), w)
			}
		})
	}
}
