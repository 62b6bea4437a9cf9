package libra

import (
	"errors"
	"fmt"
)

// A sink that applies requests answers through the lbworker source's
// reply_after with a result (pipeline.SetResult): a JSON object whose
// members are added to the reply in order, as Libra's driver added them
// to the message (STATS' nodes, METRICS' loadBalancers). hpcs_response
// FAIL among them makes the reply FAIL with the result's hpcs_error;
// hpcs_response PASS is ignored (PASS is the absence of a failure).

// ErrResult wraps a result that is not a JSON object.
var ErrResult = errors.New("invalid sink result")

// Result encodes fields (an object; nil is an empty one) as a result that
// reports success.
func Result(fields *Value) []byte {
	if !fields.IsObject() {
		fields = Object()
	}
	return fields.Marshal()
}

// FailResult encodes fields (nil is an empty object) with hpcs_response
// FAIL and hpcs_error reason: the request reached the sink, which refused
// or could not do it (STATS of a deleted load balancer).
func FailResult(reason string, fields *Value) []byte {
	if !fields.IsObject() {
		fields = Object()
	}
	return fields.Clone().Set(FieldResponse, String(Fail)).Set(FieldError, String(reason)).Marshal()
}

// ApplyResult adds the members of result (empty means none) to msg, an
// object, in place, except hpcs_response and hpcs_error, and returns the
// failure the result reports: "" and false for success, the hpcs_error
// and true for FAIL.
func ApplyResult(msg *Value, result []byte) (reason string, failed bool, err error) {
	if len(result) == 0 {
		return "", false, nil
	}
	v, err := parseValue(result)
	if err != nil {
		return "", false, fmt.Errorf("%w: %w", ErrResult, err)
	}
	if !v.IsObject() {
		return "", false, fmt.Errorf("%w: not a JSON object", ErrResult)
	}
	for _, m := range v.obj {
		switch m.key {
		case FieldResponse:
			failed = failed || m.val.Str() == Fail
		case FieldError:
			reason = m.val.Str()
		default:
			msg.Set(m.key, m.val)
		}
	}
	if !failed {
		reason = ""
	}
	return reason, failed, nil
}
