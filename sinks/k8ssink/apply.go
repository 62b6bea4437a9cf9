package k8ssink

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// fieldManager is the server-side apply field manager of every apply.
const fieldManager = "sluice"

// planApply renders delivery i's manifest into a server-side apply.
func (s *sink) planApply(p *plan, i int, r *rule, v *view) error {
	src, err := r.manifest.render(v, "")
	if err != nil {
		return renderErr("manifest", err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(src), &obj); err != nil {
		return renderErr("manifest", err)
	}
	u := unstructured.Unstructured{Object: obj}
	gv, err := schema.ParseGroupVersion(u.GetAPIVersion())
	switch {
	case err != nil || u.GetAPIVersion() == "":
		return renderErr("manifest", fmt.Errorf("apiVersion %q: want group/version or v1", u.GetAPIVersion()))
	case u.GetKind() == "":
		return renderErr("manifest", fmt.Errorf("kind is required"))
	case u.GetName() == "":
		return renderErr("manifest", fmt.Errorf("metadata.name is required"))
	}
	resource := r.Resource
	if resource == "" {
		plural, _ := meta.UnsafeGuessKindToResource(gv.WithKind(u.GetKind()))
		resource = plural.Resource
	}
	ns := u.GetNamespace()
	switch {
	case r.ClusterScoped || slices.Contains(clusterScopedKinds, u.GetKind()):
		ns = ""
		u.SetNamespace("")
	case ns == "":
		ns = s.client.namespace
		u.SetNamespace(ns)
	}
	res := resource
	if gv.Group != "" {
		res = gv.Group + "/" + resource
	}
	c := &call{
		request: request{verb: "apply", resource: res, namespace: ns, name: u.GetName()},
		group:   gv.Group, version: gv.Version, patch: types.ApplyPatchType, body: u.Object,
		params: map[string]string{"fieldManager": fieldManager, "force": strconv.FormatBool(r.Force)},
	}
	p.add(&op{action: actionApply, idx: []int{i}, commit: func() {},
		run: func(ctx context.Context) error { return s.do(ctx, c, nil) }})
	return nil
}
