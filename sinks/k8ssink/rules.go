package k8ssink

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/sluice-dev/sluice/internal/glob"
	"github.com/sluice-dev/sluice/pipeline"
)

// rule is a compiled Rule.
type rule struct {
	*Rule
	name, namespace, reason, note, eventAction, eventType *field
	status, replicas, manifest                            *field
	kind, apiVersion                                      string
	clusterScoped                                         bool
}

// clusterScopedKinds are the kinds the sink knows to have no namespace.
var clusterScopedKinds = []string{
	"Node", "Namespace", "PersistentVolume", "StorageClass", "ClusterRole",
	"ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass",
}

// scaleKinds are the kinds whose scale subresource the scale action
// writes, with their resources.
var scaleKinds = map[string]string{"Deployment": "deployments", "StatefulSet": "statefulsets", "ReplicaSet": "replicasets"}

// defaultAPIVersion returns the API version of the kinds the sink knows.
func defaultAPIVersion(kind string) string {
	switch kind {
	case "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet":
		return "apps/v1"
	case "Job", "CronJob":
		return "batch/v1"
	}
	return "v1"
}

// compileRule checks r and compiles its templates.
func compileRule(r *Rule) (*rule, error) {
	c := &rule{Rule: r}
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	compile := func(name, src string) *field {
		f, err := compileField(name, src)
		if err != nil {
			add(name, "%v", err)
		}
		return f
	}
	for i, t := range r.Types {
		if err := glob.Validate(t); err != nil {
			add(indexField("types", i), "%v", err)
		}
	}
	c.name = compile("name", r.Name)
	c.namespace = compile("namespace", r.Namespace)
	c.reason = compile("reason", r.Reason)
	c.note = compile("note", r.Note)
	c.eventAction = compile("event_action", r.EventAction)
	c.eventType = compile("event_type", r.EventType)
	c.status = compile("status", r.Status)
	c.replicas = compile("replicas", r.Replicas)
	c.manifest = compile("manifest", r.Manifest)

	kind := r.Kind
	switch r.Action {
	case actionEvent:
		if kind == "" {
			kind = "Node"
		}
	case actionCondition:
		if kind != "" && kind != "Node" {
			add("kind", "conditions are written on nodes; leave kind out or set Node")
		}
		kind = "Node"
		if r.Condition == "" {
			add("condition", "the condition type is required for action condition")
		} else if msgs := validation.IsQualifiedName(r.Condition); len(msgs) > 0 {
			add("condition", "%q is not a condition type: %s", r.Condition, strings.Join(msgs, "; "))
		}
	case actionScale:
		if _, ok := scaleKinds[kind]; !ok {
			add("kind", "scale writes the scale of a Deployment, StatefulSet or ReplicaSet; got %q", kind)
		}
		if r.Replicas == "" {
			add("replicas", "required for action scale")
		}
	case actionApply:
		if r.Manifest == "" {
			add("manifest", "required for action apply")
		}
		if r.Resource != "" {
			if msgs := validation.IsDNS1123Subdomain(r.Resource); len(msgs) > 0 {
				add("resource", "%q is not a resource name: %s", r.Resource, strings.Join(msgs, "; "))
			}
		}
	case "":
		add("action", "required: event, condition, scale or apply")
	default:
		add("action", "unknown action %q (want event, condition, scale or apply)", r.Action)
	}
	c.kind = kind
	c.apiVersion = r.APIVersion
	if c.apiVersion == "" {
		c.apiVersion = defaultAPIVersion(kind)
	}
	c.clusterScoped = r.ClusterScoped || slices.Contains(clusterScopedKinds, kind)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// matches reports whether the rule applies to an event of type typ that
// came through route.
func (r *rule) matches(route, typ string) bool {
	if len(r.Routes) > 0 && !slices.Contains(r.Routes, route) {
		return false
	}
	return len(r.Types) == 0 || glob.Any(r.Types, typ)
}

// ruleFor returns the first rule that matches, or nil.
func ruleFor(rules []*rule, route, typ string) *rule {
	for _, r := range rules {
		if r.matches(route, typ) {
			return r
		}
	}
	return nil
}

func indexField(name string, i int) string { return fmt.Sprintf("%s[%d]", name, i) }
