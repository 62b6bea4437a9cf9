package vmfaultsource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ErrEndpointNotFound is a token whose catalog has no compute endpoint of
// the configured interface and region.
var ErrEndpointNotFound = errors.New("no compute endpoint in the service catalog")

// tokenMargin is how long before expires_at a cached token is replaced;
// for short-lived tokens, half their lifetime.
const tokenMargin = 5 * time.Minute

// token is a Keystone token and what Sluice needs of its body.
type token struct {
	id        string
	expiresAt time.Time // zero: never expires
	issuedAt  time.Time
	projectID string
	compute   string // compute endpoint URL, with a trailing slash
}

// tokenBody is the part of POST /v3/auth/tokens's answer that is read.
type tokenBody struct {
	Token struct {
		ExpiresAt *string `json:"expires_at"`
		IssuedAt  string  `json:"issued_at"`
		Project   *struct {
			ID string `json:"id"`
		} `json:"project"`
		Catalog []catalogEntry `json:"catalog"`
	} `json:"token"`
}

type catalogEntry struct {
	Type      string `json:"type"`
	Name      string `json:"name"`
	Endpoints []struct {
		Interface string `json:"interface"`
		Region    string `json:"region"`
		RegionID  string `json:"region_id"`
		URL       string `json:"url"`
	} `json:"endpoints"`
}

// parseToken reads a Keystone token response: the id from X-Subject-Token,
// expiry and project from the body, and the compute endpoint of iface and
// region (region "" matches any) from its catalog, first match as
// gophercloud and the Python clients do.
func parseToken(subject string, body []byte, iface, region string) (token, error) {
	if subject == "" {
		return token{}, fmt.Errorf("%w: keystone: no X-Subject-Token header", ErrMalformed)
	}
	var b tokenBody
	if err := json.Unmarshal(body, &b); err != nil {
		return token{}, fmt.Errorf("%w: keystone token body: %w", ErrMalformed, err)
	}
	t := token{id: subject}
	if b.Token.ExpiresAt != nil {
		exp, err := parseISOTime(*b.Token.ExpiresAt)
		if err != nil {
			return token{}, fmt.Errorf("%w: keystone expires_at: %w", ErrMalformed, err)
		}
		t.expiresAt = exp
	}
	if b.Token.IssuedAt != "" {
		if iss, err := parseISOTime(b.Token.IssuedAt); err == nil {
			t.issuedAt = iss
		}
	}
	if b.Token.Project == nil || b.Token.Project.ID == "" {
		return token{}, fmt.Errorf("%w: keystone token is not project-scoped", ErrMalformed)
	}
	t.projectID = b.Token.Project.ID
	u, err := computeEndpoint(b.Token.Catalog, iface, region)
	if err != nil {
		return token{}, err
	}
	t.compute = u
	return t, nil
}

// computeEndpoint finds the first endpoint of type compute with the given
// interface and region (region or region_id), with a trailing slash.
func computeEndpoint(catalog []catalogEntry, iface, region string) (string, error) {
	for _, e := range catalog {
		if e.Type != "compute" {
			continue
		}
		for _, ep := range e.Endpoints {
			if ep.Interface != iface || region != "" && ep.Region != region && ep.RegionID != region {
				continue
			}
			if err := checkURL(ep.URL); err != nil {
				return "", fmt.Errorf("%w: compute endpoint: %w", ErrMalformed, err)
			}
			if !strings.HasSuffix(ep.URL, "/") {
				return ep.URL + "/", nil
			}
			return ep.URL, nil
		}
	}
	return "", fmt.Errorf("%w (interface %s, region %q)", ErrEndpointNotFound, iface, region)
}

// parseISOTime reads Keystone's and Nova's ISO-8601 times:
// 2015-11-07T02:58:43.578887Z, with or without fraction or zone (no zone
// is UTC, as Nova's launched_at).
func parseISOTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not an ISO-8601 time: %q", s)
}

// keystone authenticates with a password and caches one token per
// project until its expires_at minus a margin.
type keystone struct {
	http   *httpDoer
	auth   AuthConfig
	tokens sync.Map // project name ("" = auth's) -> *tokenSlot
}

// tokenSlot serializes authentication for one project: concurrent polls
// that need a token wait for one request, not one each.
type tokenSlot struct {
	mu  sync.Mutex
	tok *token
}

func (k *keystone) slot(project string) *tokenSlot {
	s, _ := k.tokens.LoadOrStore(project, &tokenSlot{})
	return s.(*tokenSlot)
}

// token returns a valid token for project ("" = auth.project), from the
// cache or from Keystone.
func (k *keystone) token(ctx context.Context, project string) (token, error) {
	s := k.slot(project)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := k.http.now()
	if s.tok != nil && fresh(*s.tok, now) {
		return *s.tok, nil
	}
	t, err := k.authenticate(ctx, project)
	if err != nil {
		return token{}, err
	}
	s.tok = &t
	return t, nil
}

// invalidate drops the cached token id of project, if it is still cached.
func (k *keystone) invalidate(project, id string) {
	s := k.slot(project)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.id == id {
		s.tok = nil
	}
}

// fresh reports whether t is usable at now: before expires_at minus the
// margin (half the lifetime for short tokens).
func fresh(t token, now time.Time) bool {
	if t.expiresAt.IsZero() {
		return true
	}
	margin := tokenMargin
	if !t.issuedAt.IsZero() {
		margin = min(margin, t.expiresAt.Sub(t.issuedAt)/2)
	}
	return now.Before(t.expiresAt.Add(-margin))
}

func (k *keystone) authenticate(ctx context.Context, project string) (token, error) {
	body, err := json.Marshal(authRequest(k.auth, project))
	if err != nil {
		return token{}, err
	}
	req, err := http.NewRequest(http.MethodPost, tokensURL(k.auth.URL), bytes.NewReader(body))
	if err != nil {
		return token{}, fmt.Errorf("keystone: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	a, err := k.http.do(ctx, "keystone auth", req, http.StatusCreated)
	if err != nil {
		return token{}, err
	}
	return parseToken(a.header.Get("X-Subject-Token"), a.body, k.auth.Interface, k.auth.Region)
}

// tokensURL is {url}/v3/auth/tokens, whether or not url ends in /v3.
func tokensURL(base string) string {
	base = strings.TrimRight(base, "/")
	if !strings.HasSuffix(base, "/v3") {
		base += "/v3"
	}
	return base + "/auth/tokens"
}

type (
	authReq struct {
		Auth struct {
			Identity struct {
				Methods  []string `json:"methods"`
				Password struct {
					User authUser `json:"user"`
				} `json:"password"`
			} `json:"identity"`
			Scope struct {
				Project authProject `json:"project"`
			} `json:"scope"`
		} `json:"auth"`
	}
	authUser struct {
		ID       string  `json:"id,omitempty"`
		Name     string  `json:"name,omitempty"`
		Domain   *domain `json:"domain,omitempty"`
		Password string  `json:"password"`
	}
	authProject struct {
		ID     string  `json:"id,omitempty"`
		Name   string  `json:"name,omitempty"`
		Domain *domain `json:"domain,omitempty"`
	}
	domain struct {
		ID   string `json:"id,omitempty"`
		Name string `json:"name,omitempty"`
	}
)

// authRequest is the password request body, scoped to project (a name in
// project_domain) or, when project is "", to auth's project. Domains are
// given by name, or by id (user_domain_id, project_domain_id).
func authRequest(a AuthConfig, project string) authReq {
	var r authReq
	r.Auth.Identity.Methods = []string{"password"}
	u := authUser{ID: a.UserID, Name: a.Username, Password: a.Password.Reveal()}
	if a.UserID == "" {
		u.Domain = &domain{ID: a.UserDomainID, Name: a.UserDomain}
	}
	r.Auth.Identity.Password.User = u
	pd := &domain{ID: a.ProjectDomainID, Name: a.ProjectDomain}
	switch {
	case project != "":
		r.Auth.Scope.Project = authProject{Name: project, Domain: pd}
	case a.ProjectID != "":
		r.Auth.Scope.Project = authProject{ID: a.ProjectID}
	default:
		r.Auth.Scope.Project = authProject{Name: a.Project, Domain: pd}
	}
	return r
}
