package libra

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPassReplyOf: the one-allocation PASS reply encodes what PassReply on
// a shallow copy does, and leaves the message as it was.
func TestPassReplyOf(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, msg, want string }{
		{"update", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"HTTP","nodes":[{"id":"1"}]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"HTTP","nodes":[{"id":"1"}]}],"hpcs_response":"PASS"}`},
		{"response kept in place", `{"hpcs_response":"FAIL","hpcs_action":"DELETE"}`, `{"hpcs_response":"PASS","hpcs_action":"DELETE"}`},
		{"token masked", `{"hpcs_action":"ARCHIVE","hpcs_object_store_token":"secret"}`,
			`{"hpcs_action":"ARCHIVE","hpcs_object_store_token":"*****","hpcs_response":"PASS"}`},
		{"token not a string", `{"hpcs_object_store_token":7}`, `{"hpcs_object_store_token":"*****","hpcs_response":"PASS"}`},
		{"escapes", `{"hpcs_action":"SUSPEND","name":"a\"b\u00e9\n"}`, `{"hpcs_action":"SUSPEND","name":"a\"bé\n","hpcs_response":"PASS"}`},
		{"empty", `{}`, `{"hpcs_response":"PASS"}`},
		{"not an object", `[1]`, `{"hpcs_response":"PASS"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg, err := parseValue([]byte(tt.msg))
			require.NoError(t, err)
			before := string(msg.Marshal())
			got := string(PassReplyOf(msg))
			assert.Equal(t, tt.want, got)
			assert.Equal(t, before, string(msg.Marshal()), "msg unchanged")
			if msg.IsObject() {
				assert.Equal(t, string(PassReply(msg.Shallow())), got, "as PassReply on a shallow copy")
			}
		})
	}
}
