package k8ssink

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sluice-dev/sluice/pipeline"
)

// condPlan is one node condition's write in a batch.
type condPlan struct {
	next condState
	op   *op
}

// planCondition folds delivery i into its node condition's write. The
// first time the sink meets a condition (no state), it reads the node,
// so that a status that holds keeps the node's lastTransitionTime.
func (s *sink) planCondition(ctx context.Context, p *plan, i int, d *pipeline.Delivery, r *rule, v *view) error {
	node, err := r.name.render(v, v.Subject)
	if err != nil {
		return renderErr("name", err)
	}
	if node == "" {
		return renderErr("name", fmt.Errorf("renders empty"))
	}
	status, err := r.status.render(v, severityStatus(d.Event.Severity))
	if err != nil {
		return renderErr("status", err)
	}
	if status = conditionStatus(status); status == "" {
		return renderErr("status", fmt.Errorf("want True, False or Unknown"))
	}
	reason, err := r.reason.render(v, camel(v.Type))
	if err != nil {
		return renderErr("reason", err)
	}
	msg, err := r.note.render(v, defaultNote(v))
	if err != nil {
		return renderErr("note", err)
	}
	key := condKey(node, r.Condition)
	cp := p.conds[key]
	if cp == nil {
		cur, err := s.condition(ctx, node, r.Condition)
		if err != nil {
			return err
		}
		cp = &condPlan{next: *cur}
		if seq := d.Event.Sequence; seq != 0 && seq <= cur.Seq {
			s.tel.event(ctx, actionCondition, outcomeDuplicate, 1)
			return nil
		}
		p.conds[key] = cp
		cp.op = &op{action: actionCondition}
		cp.op.run = func(ctx context.Context) error { return s.writeCondition(ctx, &cp.next, s.clock.Now()) }
		cp.op.commit = func() { s.putCond(&cp.next) }
		p.add(cp.op)
	} else if seq := d.Event.Sequence; seq != 0 && seq <= cp.next.Seq {
		s.tel.event(ctx, actionCondition, outcomeDuplicate, 1)
		return nil
	}
	n := &cp.next
	if n.Status != status || n.Transition == 0 {
		n.Transition = s.eventTime(d).Unix()
	}
	n.Status, n.Reason, n.Message, n.Seq = status, truncate(reason, maxReason), truncate(msg, maxNote), d.Event.Sequence
	cp.op.idx = append(cp.op.idx, i)
	return nil
}

// condition returns the condition as last written, reading the node
// when the sink has no state of it.
func (s *sink) condition(ctx context.Context, node, typ string) (*condState, error) {
	if st, ok := s.conds[condKey(node, typ)]; ok {
		return st, nil
	}
	var n nodeObject
	err := s.do(ctx, &call{request: request{verb: "get", resource: "nodes", name: node}, version: "v1"}, &n)
	if err != nil {
		return nil, err
	}
	st := &condState{Node: node, Type: typ}
	for _, c := range n.Status.Conditions {
		if c.Type == typ {
			st.Status, st.Reason, st.Message = c.Status, c.Reason, c.Message
			st.Transition = c.LastTransitionTime.Unix()
		}
	}
	return st, nil
}

// writeCondition patches the node's status with the condition, as
// node-problem-detector does: a strategic-merge patch of nodes/status
// (conditions merge by type), lastHeartbeatTime now.
func (s *sink) writeCondition(ctx context.Context, st *condState, now time.Time) error {
	c := nodeCondition{
		Type:               st.Type,
		Status:             st.Status,
		LastHeartbeatTime:  metav1.NewTime(now),
		LastTransitionTime: metav1.NewTime(time.Unix(st.Transition, 0)),
		Reason:             st.Reason,
		Message:            st.Message,
	}
	return s.do(ctx, &call{
		request: request{verb: "patch", resource: "nodes/status", name: st.Node},
		version: "v1", plural: "nodes", sub: "status", patch: types.StrategicMergePatchType,
		body: map[string]any{"status": map[string]any{"conditions": []nodeCondition{c}}},
	}, nil)
}

// heartbeatLoop writes every known condition again each Heartbeat.
func (s *sink) heartbeatLoop() {
	defer close(s.done)
	t := time.NewTicker(s.cfg.Heartbeat)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		cancel()
	}()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.heartbeat(ctx)
		}
	}
}

// heartbeat refreshes lastHeartbeatTime of every condition the sink set.
func (s *sink) heartbeat(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.conds {
		if ctx.Err() != nil {
			return
		}
		err := s.writeCondition(ctx, st, s.clock.Now())
		s.tel.heartbeat(ctx, err)
		if err != nil {
			s.logger.WarnContext(ctx, "k8s sink: condition heartbeat failed", slog.String("node", st.Node),
				slog.String("condition", st.Type), slog.Any("error", err))
		}
	}
}

// severityStatus is True (the problem is present) from severity warning
// up, else False.
func severityStatus(sev pipeline.Severity) string {
	if sev >= pipeline.SeverityWarning {
		return conditionTrue
	}
	return conditionFalse
}

// conditionStatus normalises a rendered status, "" when it is none.
func conditionStatus(s string) string {
	switch strings.ToLower(s) {
	case "true":
		return conditionTrue
	case "false":
		return conditionFalse
	case "unknown":
		return conditionUnknown
	}
	return ""
}
