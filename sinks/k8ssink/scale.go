package k8ssink

import (
	"context"
	"fmt"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// maxConflicts bounds the fresh reads after an update conflict (409).
const maxConflicts = 5

// scaleTarget is a rendered scale.
type scaleTarget struct {
	group, version, resource, namespace, name string
	replicas                                  int32
}

// planScale folds delivery i into its target's scale write: the last
// delivery of the batch for a target sets its replicas.
func (s *sink) planScale(p *plan, i int, r *rule, v *view) error {
	ref, err := s.renderRef(r, v)
	if err != nil {
		return err
	}
	raw, err := r.replicas.render(v, "")
	if err != nil {
		return renderErr("replicas", err)
	}
	n, err := strconv.ParseInt(raw, 10, 32)
	if err != nil || n < 0 {
		return renderErr("replicas", fmt.Errorf("%q is not a replica count", raw))
	}
	group, version := splitAPIVersion(ref.APIVersion)
	t := &scaleTarget{group: group, version: version, resource: scaleKinds[r.kind], namespace: ref.Namespace, name: ref.Name, replicas: int32(n)}
	key := t.group + "/" + t.resource + "/" + t.namespace + "/" + t.name
	o := p.scales[key]
	if o == nil {
		o = &op{action: actionScale, commit: func() {}}
		p.scales[key] = o
		p.add(o)
	}
	o.run = func(ctx context.Context) error { return s.writeScale(ctx, t) }
	o.idx = append(o.idx, i)
	return nil
}

// writeScale sets the target's replicas through its scale subresource:
// a read, then an update of that version unless it already has them; a
// conflict (another writer came between) is retried after a fresh read.
func (s *sink) writeScale(ctx context.Context, t *scaleTarget) error {
	req := request{resource: t.group + "/" + t.resource + "/scale", namespace: t.namespace, name: t.name}
	var err error
	for range maxConflicts {
		var sc scaleObject
		req.verb = "get"
		if err = s.do(ctx, &call{request: req, group: t.group, version: t.version, plural: t.resource, sub: "scale"}, &sc); err != nil {
			return err
		}
		if sc.Spec.Replicas == t.replicas {
			return nil
		}
		sc.Spec.Replicas = t.replicas
		sc.APIVersion, sc.Kind = "autoscaling/v1", "Scale"
		req.verb = "update"
		err = s.do(ctx, &call{request: req, group: t.group, version: t.version, plural: t.resource, sub: "scale", body: &sc}, nil)
		if !apierrors.IsConflict(err) {
			return err
		}
	}
	// Still contended: transient, the runner retries later.
	return fmt.Errorf("%s: %d updates conflicted, each after a fresh read: %v", req, maxConflicts, err) //nolint:errorlint // not permanent, unlike err
}

// splitAPIVersion splits "apps/v1" into "apps" and "v1", "v1" into "" and
// "v1".
func splitAPIVersion(av string) (string, string) {
	for i := range len(av) {
		if av[i] == '/' {
			return av[:i], av[i+1:]
		}
	}
	return "", av
}
