package vmfaultsource

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
)

// novaClient calls the compute API with a cached Keystone token, the
// pinned microversion and one re-authentication on 401.
type novaClient struct {
	ks           *keystone
	http         *httpDoer
	microversion string
	pageSize     int
}

// get sends GET to the URL built from the token's compute endpoint and
// returns the body of a 200. A 401 (an expired or revoked token) drops the
// token and is retried once with a new one.
func (n *novaClient) get(ctx context.Context, op, project string, path func(compute string) string, want ...int) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		tok, err := n.ks.token(ctx, project)
		if err != nil {
			return 0, nil, err
		}
		req, err := http.NewRequest(http.MethodGet, path(tok.compute), nil)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", op, err)
		}
		req.Header.Set("X-Auth-Token", tok.id)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("OpenStack-API-Version", "compute "+n.microversion)
		req.Header.Set("X-OpenStack-Nova-API-Version", n.microversion)
		a, err := n.http.do(ctx, op, req, append([]int{http.StatusOK}, want...)...)
		if statusOf(err) == http.StatusUnauthorized && attempt == 0 {
			n.ks.invalidate(project, tok.id)
			continue
		}
		if err != nil {
			return a.code, nil, err
		}
		return a.code, a.body, nil
	}
}

// list returns every server of the project (nameRegex "" ) or those whose
// name matches the regex, following limit/marker pages until a page
// without a next link or an empty page.
func (n *novaClient) list(ctx context.Context, project, nameRegex string) ([]server, error) {
	var out []server
	marker := ""
	for range maxPages {
		_, body, err := n.get(ctx, "nova list servers", project, func(c string) string {
			return detailURL(c, n.pageSize, marker, nameRegex)
		})
		if err != nil {
			return nil, err
		}
		page, err := parseServerPage(body)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Servers...)
		next, ok := page.next()
		if !ok {
			return out, nil
		}
		if next == marker {
			return nil, fmt.Errorf("%w: nova servers: next page repeats marker %s", ErrMalformed, marker)
		}
		marker = next
	}
	return nil, fmt.Errorf("%w: nova servers: more than %d pages", ErrMalformed, maxPages)
}

// byName returns the servers named exactly name. Nova's name filter is an
// unanchored regular expression (and case-insensitive under MySQL), so the
// anchored, quoted query narrows the listing and the comparison decides.
func (n *novaClient) byName(ctx context.Context, project, name string) ([]server, error) {
	all, err := n.list(ctx, project, "^"+regexp.QuoteMeta(name)+"$")
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, s := range all {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out, nil
}

// show returns one server; found is false when Nova answers 404.
func (n *novaClient) show(ctx context.Context, project, id string) (s server, found bool, err error) {
	code, body, err := n.get(ctx, "nova show server", project, func(c string) string { return serverURL(c, id) }, http.StatusNotFound)
	if err != nil {
		return server{}, false, err
	}
	if code == http.StatusNotFound {
		return server{}, false, nil
	}
	s, err = parseServer(body)
	if err != nil {
		return server{}, false, err
	}
	if s.ID != id {
		return server{}, false, fmt.Errorf("%w: nova show %s answered server %s", ErrMalformed, id, s.ID)
	}
	return s, true, nil
}
