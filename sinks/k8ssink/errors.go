package k8ssink

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
)

var (
	// ErrNoRule is the dead-letter reason of an event no rule maps.
	ErrNoRule = errors.New("k8s sink: no rule maps the event")
	// ErrRender is returned (wrapped, permanent) when a rule's template
	// fails for an event or yields an invalid value.
	ErrRender = errors.New("k8s sink: rule does not render")
	// ErrForbidden is returned (wrapped, permanent) for a 403: RBAC denied
	// the request; the error names the verb, resource and namespace.
	ErrForbidden = errors.New("forbidden by RBAC")
	// ErrInvalid is returned (wrapped, permanent) for a 422, with the
	// server's field errors.
	ErrInvalid = errors.New("rejected as invalid")
	// ErrConflict is returned (wrapped, permanent) when server-side apply
	// finds fields owned by another manager, or an update still conflicts
	// after fresh reads.
	ErrConflict = errors.New("conflict")
	// ErrInsecure is returned by Provision for a configuration that turns
	// TLS verification off or talks to a remote server without TLS.
	ErrInsecure = errors.New("TLS verification is required")
	// ErrNoConfig is returned by Provision when no kubeconfig exists and
	// the process is not in a cluster.
	ErrNoConfig = errors.New("no Kubernetes configuration")
)

// request describes one API request, for errors, logs and metrics.
type request struct {
	verb      string // get, create, patch, update, apply
	resource  string // group/resource[/subresource], e.g. events.k8s.io/events
	namespace string // "" for cluster-scoped
	name      string
}

func (r request) String() string {
	s := r.verb + " " + r.resource
	if r.name != "" {
		s += " " + r.name
	}
	if r.namespace != "" {
		s += " in namespace " + r.namespace
	}
	return s
}

// classify turns a request's error into the delivery error: permanent
// when retrying cannot help (by internal/httpclient.Classify on the
// status; 401 is transient, since a rotated token is read again), else
// transient. Errors name the request.
func classify(req request, err error) error {
	if err == nil {
		return nil
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Code == 0 {
		return fmt.Errorf("%s: %w", req, err)
	}
	st := status.Status()
	code := int(st.Code)
	var out error
	switch code {
	case http.StatusForbidden:
		out = &apiError{fmt.Sprintf("%s: %v: the service account may not %s %s%s (%s)", req, ErrForbidden, req.verb, req.resource, inNamespace(req.namespace), st.Message), ErrForbidden, err}
	case http.StatusUnprocessableEntity:
		out = &apiError{fmt.Sprintf("%s: %v: %s", req, ErrInvalid, fieldErrors(err, st.Message)), ErrInvalid, err}
	case http.StatusConflict:
		out = &apiError{fmt.Sprintf("%s: %v: %s", req, ErrConflict, fieldErrors(err, st.Message)), ErrConflict, err}
	default:
		out = fmt.Errorf("%s: %w", req, err)
	}
	if httpclient.Classify(code, http.StatusUnauthorized) == httpclient.Permanent {
		return pipeline.Permanent(out)
	}
	return out
}

// apiError is an API error explained: it matches both its sentinel and
// the server's status (apierrors.IsAlreadyExists and the like).
type apiError struct {
	msg      string
	sentinel error
	status   error
}

func (e *apiError) Error() string   { return e.msg }
func (e *apiError) Unwrap() []error { return []error{e.sentinel, e.status} }

func inNamespace(ns string) string {
	if ns == "" {
		return " (cluster-scoped)"
	}
	return " in namespace " + ns
}

// fieldErrors lists the server's causes as "field: message"; the
// message alone when it gives none.
func fieldErrors(err error, msg string) string {
	if cs := causes(err); len(cs) > 0 {
		return strings.Join(cs, "; ")
	}
	return msg
}

// statusCode returns the HTTP status of an API error, 0 for others.
func statusCode(err error) int {
	var s apierrors.APIStatus
	if errors.As(err, &s) {
		return int(s.Status().Code)
	}
	return 0
}

// causes returns "field: message" for each cause of an API error.
func causes(err error) []string {
	var s apierrors.APIStatus
	if !errors.As(err, &s) || s.Status().Details == nil {
		return nil
	}
	var out []string
	for _, c := range s.Status().Details.Causes {
		switch {
		case c.Field != "":
			out = append(out, c.Field+": "+c.Message)
		default:
			out = append(out, c.Message)
		}
	}
	return out
}
