package vmfaultsource

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/sluice-dev/sluice/internal/eventtypes"
)

// maxPages bounds one listing, so that a server that always answers with
// a next link cannot keep a poll going forever.
const maxPages = 10000

// server is what the fault logic reads of a Nova server record.
type server struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	TenantID   string       `json:"tenant_id"`
	Status     string       `json:"status"`
	VMState    *string      `json:"OS-EXT-STS:vm_state"`
	TaskState  *string      `json:"OS-EXT-STS:task_state"`
	PowerState *int         `json:"OS-EXT-STS:power_state"`
	Fault      *serverFault `json:"fault,omitempty"`
	Updated    string       `json:"updated"`
}

// serverFault is Nova's fault object (present for ERROR and DELETED).
type serverFault = eventtypes.NovaFault

// serverPage is one /servers/detail page.
type serverPage struct {
	Servers []server `json:"servers"`
	Links   []struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	} `json:"servers_links"`
}

// parseServerPage reads a /servers/detail answer. Every record must carry
// an id and a status; anything else that fails to parse is an error.
func parseServerPage(b []byte) (serverPage, error) {
	var p struct {
		Servers *[]server `json:"servers"`
		serverPage
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return serverPage{}, fmt.Errorf("%w: nova servers: %w", ErrMalformed, err)
	}
	if p.Servers == nil {
		return serverPage{}, fmt.Errorf("%w: nova servers: no servers member", ErrMalformed)
	}
	p.serverPage.Servers = *p.Servers
	for i, s := range p.serverPage.Servers {
		if err := s.check(); err != nil {
			return serverPage{}, fmt.Errorf("%w: nova servers[%d]: %w", ErrMalformed, i, err)
		}
	}
	return p.serverPage, nil
}

// parseServer reads a GET /servers/{id} answer.
func parseServer(b []byte) (server, error) {
	var p struct {
		Server *server `json:"server"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return server{}, fmt.Errorf("%w: nova server: %w", ErrMalformed, err)
	}
	if p.Server == nil {
		return server{}, fmt.Errorf("%w: nova server: no server member", ErrMalformed)
	}
	if err := p.Server.check(); err != nil {
		return server{}, fmt.Errorf("%w: nova server: %w", ErrMalformed, err)
	}
	return *p.Server, nil
}

func (s server) check() error {
	if s.ID == "" {
		return errors.New("no id")
	}
	if s.Status == "" {
		return errors.New("no status")
	}
	return nil
}

// next returns the marker of the next page: the last server's id when the
// page has a next link and is not empty. Nova links a full last page to
// an empty one, so an empty page ends the listing too.
func (p serverPage) next() (string, bool) {
	if len(p.Servers) == 0 {
		return "", false
	}
	for _, l := range p.Links {
		if l.Rel == "next" {
			return p.Servers[len(p.Servers)-1].ID, true
		}
	}
	return "", false
}

// detailURL is the /servers/detail URL of one page.
func detailURL(compute string, limit int, marker, nameRegex string) string {
	q := url.Values{}
	q.Set("limit", strconv.Itoa(limit))
	if marker != "" {
		q.Set("marker", marker)
	}
	if nameRegex != "" {
		q.Set("name", nameRegex)
	}
	return compute + "servers/detail?" + q.Encode()
}

// serverURL is the GET /servers/{id} URL.
func serverURL(compute, id string) string { return compute + "servers/" + url.PathEscape(id) }
