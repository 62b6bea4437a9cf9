package k8ssink

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/pipeline"
)

// FuzzClassify feeds arbitrary error answers (a metav1.Status body, or
// anything) with a status code through statusError and classify, as do
// does: it never panics, the error always names the request, 403 and
// 422 answers that decode as a Status are permanent and carry their
// sentinel, and 401, 408, 429 and 5xx answers are never permanent.
// Seeds: testdata/fuzz/FuzzClassify.
func FuzzClassify(f *testing.F) {
	f.Add([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"events.events.k8s.io \"x\" is forbidden","reason":"Forbidden","code":403}`), 403)
	f.Add([]byte(`{"kind":"Status","status":"Failure","reason":"Invalid","details":{"causes":[{"field":"note","message":"too long"}]},"code":422}`), 422)
	f.Add([]byte(`{"kind":"Status","reason":"TooManyRequests","details":{"retryAfterSeconds":1},"code":429}`), 429)
	f.Add([]byte(`not json`), 503)
	req := request{verb: "patch", resource: "events.k8s.io/events", namespace: "default", name: "n.k"}
	f.Fuzz(func(t *testing.T, body []byte, code int) {
		if code < 0 || code > 999 {
			return
		}
		err := classify(req, statusError(body, code, errors.New("the server answered")))
		if err == nil {
			t.Fatal("no error")
		}
		if !strings.Contains(err.Error(), req.String()) {
			t.Fatalf("%q does not name the request", err)
		}
		got := statusCode(err)
		switch {
		case got == 0:
			if pipeline.IsPermanent(err) {
				t.Fatalf("an answer that is no Status is permanent: %v", err)
			}
		case got == http.StatusForbidden && (!pipeline.IsPermanent(err) || !errors.Is(err, ErrForbidden)):
			t.Fatalf("403 not a permanent ErrForbidden: %v", err)
		case got == http.StatusUnprocessableEntity && (!pipeline.IsPermanent(err) || !errors.Is(err, ErrInvalid)):
			t.Fatalf("422 not a permanent ErrInvalid: %v", err)
		case (got == http.StatusUnauthorized || got == http.StatusRequestTimeout || got == http.StatusTooManyRequests || got >= 500) && pipeline.IsPermanent(err):
			t.Fatalf("%d permanent: %v", got, err)
		}
	})
}
