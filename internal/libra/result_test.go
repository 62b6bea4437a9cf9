package libra_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/libra"
)

func TestApplyResult(t *testing.T) {
	t.Parallel()
	nodes := libra.Object().Set("nodes", libra.Array(libra.Object().Set("id", libra.String("1")).Set("status", libra.String("UP"))))
	tests := []struct {
		name   string
		result []byte
		want   string // the reply, PASS or FAIL by the result
		err    bool
	}{
		{"none", nil, `{"hpcs_action":"STATS","hpcs_response":"PASS"}`, false},
		{"fields", libra.Result(nodes), `{"hpcs_action":"STATS","nodes":[{"id":"1","status":"UP"}],"hpcs_response":"PASS"}`, false},
		{"empty object", libra.Result(nil), `{"hpcs_action":"STATS","hpcs_response":"PASS"}`, false},
		{"fail", libra.FailResult("load balancer deleted", libra.Object().Set("status", libra.String("DELETED"))),
			`{"hpcs_action":"STATS","status":"DELETED","hpcs_error":"load balancer deleted","hpcs_response":"FAIL"}`, false},
		{"pass with a stray error text", []byte(`{"hpcs_response":"PASS","hpcs_error":"x"}`), `{"hpcs_action":"STATS","hpcs_response":"PASS"}`, false},
		{"not an object", []byte(`[1]`), "", true},
		{"malformed", []byte(`{"a":`), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, ref := libra.Decode([]byte(`{"hpcs_action":"STATS"}`))
			require.Nil(t, ref)
			reason, failed, err := libra.ApplyResult(d.Message, tt.result)
			if tt.err {
				require.ErrorIs(t, err, libra.ErrResult)
				return
			}
			require.NoError(t, err)
			var got []byte
			if failed {
				got = libra.FailReply(d.Message, reason)
			} else {
				got = libra.PassReply(d.Message)
			}
			assert.Equal(t, tt.want, string(got))
		})
	}
}
