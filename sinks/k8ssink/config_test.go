package k8ssink_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/sinks/k8ssink"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := k8ssink.Rule{Action: "event"}
	tests := []struct {
		name string
		edit func(*k8ssink.Config)
		want []string
	}{
		{"defaults with a rule", func(c *k8ssink.Config) { c.Rules = []k8ssink.Rule{ok} }, nil},
		{"no rules", func(*k8ssink.Config) {}, []string{"rules: at least one rule is required"}},
		{"in_cluster with kubeconfig", func(c *k8ssink.Config) {
			c.Rules, c.InCluster, c.Kubeconfig = []k8ssink.Rule{ok}, true, "/k"
		}, []string{"in_cluster: excludes kubeconfig and context"}},
		{"bad controller and instance", func(c *k8ssink.Config) {
			c.Rules, c.ReportingController, c.ReportingInstance = []k8ssink.Rule{ok}, "not a/qualified/name", string(make([]byte, 129))
		}, []string{"reporting_controller: ", "reporting_instance: must be at most 128 characters"}},
		{"limits", func(c *k8ssink.Config) {
			c.Rules, c.QPS, c.Burst, c.Heartbeat, c.MaxSeries, c.Namespace = []k8ssink.Rule{ok}, 0, 0, 0, 0, "Bad_NS"
		}, []string{"qps: must be positive", "burst: must be at least 1", "heartbeat: must be at least 1s", "max_series: must be at least 1", `namespace: "Bad_NS" is not a namespace name`}},
		{"rules", func(c *k8ssink.Config) {
			c.Rules = []k8ssink.Rule{
				{},
				{Action: "reboot"},
				{Action: "condition"},
				{Action: "condition", Condition: "A", Kind: "Pod"},
				{Action: "scale", Kind: "Pod"},
				{Action: "apply"},
				{Action: "event", Note: "{{.Nope}}"},
				{Action: "event", Reason: "{{"},
				{Action: "event", Types: []string{"["}},
			}
		}, []string{
			"rules[0].action: required: event, condition, scale or apply",
			`rules[1].action: unknown action "reboot"`,
			"rules[2].condition: the condition type is required",
			"rules[3].kind: conditions are written on nodes",
			`rules[4].kind: scale writes the scale of a Deployment, StatefulSet or ReplicaSet; got "Pod"`,
			"rules[4].replicas: required for action scale",
			"rules[5].manifest: required for action apply",
			"rules[6].note: template: note:1:2: executing \"note\" at <.Nope>: can't evaluate field Nope in type event",
			"rules[7].reason: template: reason:1: unclosed action",
			"rules[8].types[0]: ",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := k8ssink.NewFactory().DefaultConfig().(*k8ssink.Config)
			tt.edit(c)
			err := c.Validate()
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
