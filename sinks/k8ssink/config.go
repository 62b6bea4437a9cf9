package k8ssink

import (
	"errors"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/sluice-dev/sluice/pipeline"
)

// Config is the Kubernetes sink's configuration.
type Config struct {
	// Kubeconfig is the kubeconfig file. Empty: $KUBECONFIG, then
	// ~/.kube/config, when one exists, and otherwise the in-cluster
	// configuration (the DCAE plugin's order).
	Kubeconfig string `yaml:"kubeconfig"`
	// Context selects a kubeconfig context; empty is its current one.
	Context string `yaml:"context"`
	// InCluster uses the pod's service account and skips the kubeconfig
	// search. It excludes Kubeconfig and Context.
	InCluster bool `yaml:"in_cluster"`
	// TokenFile is a bearer token file that replaces the kubeconfig's
	// credentials, client certificates included. It is read again as
	// soon as it changes (projected service account tokens rotate) and
	// after the server answers 401, and the refused request is sent once
	// more with the token read.
	TokenFile string `yaml:"token_file"`
	// Namespace holds namespaced objects whose rule names none. Empty:
	// the kubeconfig context's namespace, the service account's in the
	// cluster, else "default".
	Namespace string `yaml:"namespace"`
	// QPS and Burst bound the client's request rate (client-go's token
	// bucket). Defaults 20 and 40.
	QPS   float32 `yaml:"qps"`
	Burst int     `yaml:"burst"`
	// Timeout bounds one request. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// ReportingController is every Event's reportingController, a
	// qualified name. Default "sluice.dev/sluice".
	ReportingController string `yaml:"reporting_controller"`
	// ReportingInstance is every Event's reportingInstance, at most 128
	// characters. Empty (the default): "sluice-" and the host name of
	// the machine the sink runs on, cut to 128, found when it starts.
	ReportingInstance string `yaml:"reporting_instance"`
	// SeriesIdle ends a series: an isomorphic event later than this
	// after the series' last one starts a new Event, as client-go's
	// broadcaster does after 6 minutes. Default 6m.
	SeriesIdle time.Duration `yaml:"series_idle"`
	// MaxSeries bounds the series kept in the sink's state (the oldest
	// is forgotten first). Default 64.
	MaxSeries int `yaml:"max_series"`
	// Heartbeat is how often every node condition the sink set is
	// written again with a fresh lastHeartbeatTime, so that it does not
	// look stale (node-problem-detector's heartbeat period). Default 5m;
	// at least 1s.
	Heartbeat time.Duration `yaml:"heartbeat"`
	// Rules map events to actions; the first rule that matches an event
	// applies, and an event no rule matches is dead-lettered.
	Rules []Rule `yaml:"rules"`
}

// Rule maps the events it matches to one action. An event matches when
// its route is in Routes (or Routes is empty) and its type matches one of
// Types (or Types is empty). Fields marked "template" are Go
// text/templates over the event (see the package documentation).
type Rule struct {
	// Routes are route names, checked at load.
	Routes []string `yaml:"routes" config:"route"`
	// Types are event type globs (internal/glob), e.g. "sluice.probe.*".
	Types []string `yaml:"types"`
	// Action is event, condition, scale or apply. Required.
	Action string `yaml:"action"`

	// Kind and APIVersion name the object an event is about (default
	// Node, v1) or the object to scale (Deployment or StatefulSet,
	// apps/v1).
	Kind       string `yaml:"kind"`
	APIVersion string `yaml:"api_version"`
	// Name (template) names that object (a node for conditions).
	// Default "{{.Subject}}".
	Name string `yaml:"name"`
	// Namespace (template) is the object's namespace; ignored for
	// cluster-scoped kinds. Default: the sink's namespace.
	Namespace string `yaml:"namespace"`
	// ClusterScoped marks Kind (or an applied manifest's kind) as
	// cluster-scoped when the sink does not know it (it knows Node,
	// Namespace, PersistentVolume, StorageClass, ClusterRole,
	// ClusterRoleBinding, CustomResourceDefinition, PriorityClass).
	ClusterScoped bool `yaml:"cluster_scoped"`

	// Reason (template) is the Event's or condition's reason, at most
	// 128 characters. Default: the event type in CamelCase without its
	// "sluice." prefix ("ProbeState").
	Reason string `yaml:"reason"`
	// Note (template) is the Event's note or the condition's message,
	// cut to 1024 characters. Default: type, subject and source.
	Note string `yaml:"note"`
	// EventAction (template) is the Event's action. Default "Report".
	EventAction string `yaml:"event_action"`
	// EventType (template) is Normal or Warning. Default: Warning for
	// events of severity warning or higher, else Normal.
	EventType string `yaml:"event_type"`

	// Condition is the node condition's type, e.g. SluiceProbeFailed.
	// Required for condition.
	Condition string `yaml:"condition"`
	// Status (template) is True, False or Unknown. Default: True for
	// events of severity warning or higher (the problem is present),
	// else False.
	Status string `yaml:"status"`

	// Replicas (template) is the scale's replica count. Required for
	// scale.
	Replicas string `yaml:"replicas"`

	// Manifest (template) is the YAML or JSON object applied with
	// server-side apply (field manager "sluice"). Required for apply.
	Manifest string `yaml:"manifest"`
	// Resource is the manifest kind's resource (plural) name. Default:
	// guessed from the kind as kubectl does ("NetworkPolicy" ->
	// "networkpolicies").
	Resource string `yaml:"resource"`
	// Force takes ownership of fields another manager holds; otherwise
	// such a conflict is dead-lettered naming the managers.
	Force bool `yaml:"force"`
}

// Actions.
const (
	actionEvent     = "event"
	actionCondition = "condition"
	actionScale     = "scale"
	actionApply     = "apply"
)

// Defaults.
const (
	defaultQPS        = 20
	defaultBurst      = 40
	defaultTimeout    = 10 * time.Second
	defaultController = "sluice.dev/sluice"
	defaultSeriesIdle = 6 * time.Minute
	defaultMaxSeries  = 64
	defaultHeartbeat  = 5 * time.Minute
	maxInstance       = 128
)

func defaultConfig() *Config {
	return &Config{
		QPS: defaultQPS, Burst: defaultBurst, Timeout: defaultTimeout, ReportingController: defaultController,
		SeriesIdle: defaultSeriesIdle, MaxSeries: defaultMaxSeries, Heartbeat: defaultHeartbeat,
	}
}

// defaultInstance is "sluice-" and the host name, at most 128 characters.
func defaultInstance() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return truncate("sluice-"+host, maxInstance)
}

// Validate implements pipeline.Config. It checks the templates too.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	if c.InCluster && (c.Kubeconfig != "" || c.Context != "") {
		add("in_cluster", "excludes kubeconfig and context")
	}
	if c.Namespace != "" {
		if msgs := validation.IsDNS1123Label(c.Namespace); len(msgs) > 0 {
			add("namespace", "%q is not a namespace name: %s", c.Namespace, strings.Join(msgs, "; "))
		}
	}
	if c.QPS <= 0 {
		add("qps", "must be positive")
	}
	if c.Burst < 1 {
		add("burst", "must be at least 1")
	}
	if c.Timeout <= 0 {
		add("timeout", "must be positive")
	}
	if msgs := validation.IsQualifiedName(c.ReportingController); len(msgs) > 0 {
		add("reporting_controller", "%q is not a qualified name (such as example.com/pipeline): %s", c.ReportingController, strings.Join(msgs, "; "))
	}
	if len(c.ReportingInstance) > maxInstance {
		add("reporting_instance", "must be at most %d characters", maxInstance)
	}
	if c.SeriesIdle <= 0 {
		add("series_idle", "must be positive")
	}
	if c.MaxSeries < 1 {
		add("max_series", "must be at least 1")
	}
	if c.Heartbeat < time.Second {
		add("heartbeat", "must be at least 1s")
	}
	if len(c.Rules) == 0 {
		add("rules", "at least one rule is required")
	}
	for i := range c.Rules {
		if _, err := compileRule(&c.Rules[i]); err != nil {
			errs = append(errs, pipeline.PrefixFieldErrors(indexField("rules", i), err))
		}
	}
	return errors.Join(errs...)
}
