package k8ssink

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// call is one API request to send.
type call struct {
	request
	group, version string // "" group is the core API (/api/v1)
	plural         string // the resource in the path; default: the last part of request.resource
	sub            string // subresource: status, scale
	body           any    // encoded as JSON; nil for get
	patch          types.PatchType
	params         map[string]string
}

// path returns the request's URL path.
func (c *call) path() string {
	parts := []string{"/apis", c.group, c.version}
	if c.group == "" {
		parts = []string{"/api", c.version}
	}
	if c.namespace != "" {
		parts = append(parts, "namespaces", c.namespace)
	}
	plural := c.plural
	if plural == "" {
		plural = resourceName(c.resource)
	}
	parts = append(parts, plural)
	if c.name != "" && c.verb != "create" {
		parts = append(parts, c.name)
	}
	if c.sub != "" {
		parts = append(parts, c.sub)
	}
	return strings.Join(parts, "/")
}

// resourceName is the resource part of "group/resource/sub".
func resourceName(r string) string {
	if i := strings.LastIndexByte(r, '/'); i >= 0 {
		r = r[i+1:]
	}
	return r
}

// httpVerb maps the sink's verbs to HTTP methods.
func httpVerb(v string) string {
	switch v {
	case "get":
		return "GET"
	case "create":
		return "POST"
	case "update":
		return "PUT"
	}
	return "PATCH" // patch, apply
}

// statusError decodes the metav1.Status of an error answer, which the
// unstructured decoder of the REST client leaves unread; other errors
// are returned as they are.
func statusError(body []byte, code int, err error) error {
	var st metav1.Status
	if code == 0 || json.Unmarshal(body, &st) != nil || st.Kind != "Status" {
		return err
	}
	if st.Code == 0 {
		st.Code = int32(code)
	}
	return &apierrors.StatusError{ErrStatus: st}
}

// do sends c and decodes the answer into out (when not nil). Errors are
// classified (see classify).
func (s *sink) do(ctx context.Context, c *call, out any) error {
	rc, err := s.client.rest()
	if err != nil {
		return err
	}
	req := rc.Verb(httpVerb(c.verb)).AbsPath(c.path()).MaxRetries(maxRetries)
	if c.patch != "" {
		req = req.SetHeader("Content-Type", string(c.patch))
	}
	for k, v := range c.params {
		req = req.Param(k, v)
	}
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			return err
		}
		req = req.Body(b)
	}
	var (
		code int
		raw  []byte
	)
	// A 401 makes the token_file be read again (tokenFile), so a second
	// attempt sends a rotated token at once.
	for attempt := 0; ; attempt++ {
		start := time.Now()
		res := req.Do(s.withKlog(ctx))
		res.StatusCode(&code)
		raw, err = res.Raw()
		s.tel.request(ctx, c.verb, c.resource, code, time.Since(start).Seconds())
		if code != http.StatusUnauthorized || s.client.token == nil || attempt > 0 {
			break
		}
	}
	if err != nil {
		return classify(c.request, statusError(raw, code, err))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return classify(c.request, err)
		}
	}
	return nil
}
