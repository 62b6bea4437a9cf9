package fakenova

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// authBody is the part of a password auth request the fake checks.
type authBody struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password struct {
				User struct {
					ID       string     `json:"id"`
					Name     string     `json:"name"`
					Password string     `json:"password"`
					Domain   *domainRef `json:"domain"`
				} `json:"user"`
			} `json:"password"`
		} `json:"identity"`
		Scope struct {
			Project *struct {
				ID     string     `json:"id"`
				Name   string     `json:"name"`
				Domain *domainRef `json:"domain"`
			} `json:"project"`
		} `json:"scope"`
	} `json:"auth"`
}

type domainRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (d *domainRef) is(name string) bool {
	return d != nil && (d.Name == name || d.ID == "default" && name == "Default")
}

func (f *Fake) handleAuth(w http.ResponseWriter, r *http.Request) {
	if rep, ok := f.take(RouteAuth); ok {
		f.reply(w, rep)
		return
	}
	var b authBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": 400, "title": "Bad Request", "message": err.Error()}})
		return
	}
	u := b.Auth.Identity.Password.User
	p := b.Auth.Scope.Project
	if len(b.Auth.Identity.Methods) != 1 || b.Auth.Identity.Methods[0] != "password" || p == nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": 400, "title": "Bad Request", "message": "password method and project scope required"}})
		return
	}
	f.mu.Lock()
	projectID := ""
	switch {
	case p.ID != "":
		if p.ID == f.ProjectID {
			projectID = p.ID
		}
		for _, id := range f.Projects {
			if id == p.ID {
				projectID = id
			}
		}
	case p.Domain.is(f.UserDomain) && p.Name == f.ProjectName:
		projectID = f.ProjectID
	case p.Domain.is(f.UserDomain):
		projectID = f.Projects[p.Name]
	}
	userOK := u.Password == f.Password && (u.Name == f.Username && u.Domain.is(f.UserDomain) || u.ID != "" && u.ID == "u-"+f.Username)
	if !userOK || projectID == "" {
		f.mu.Unlock()
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Keystone uri=%q", f.URL))
		f.reply(w, Reply{Status: http.StatusUnauthorized, Sample: "keystone-401-bad-password.json"})
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	expires := now.Add(f.ttl)
	f.nextToken++
	id := fmt.Sprintf("gAAAAfake-%d", f.nextToken)
	f.tokens[id] = tokenInfo{project: projectID, expires: expires}
	f.mu.Unlock()

	body := sampleJSON("auth__responses__project-scoped-password.json")
	tok := body["token"].(map[string]any)
	tok["issued_at"] = now.Format("2006-01-02T15:04:05.000000Z")
	tok["expires_at"] = expires.Format("2006-01-02T15:04:05.000000Z")
	proj := tok["project"].(map[string]any)
	proj["id"] = projectID
	tok["catalog"] = f.catalog(projectID)
	w.Header().Set("X-Subject-Token", id)
	writeJSON(w, http.StatusCreated, body)
}

// catalog is the sample's 13-service catalog with the compute endpoints
// pointing at the fake.
func (f *Fake) catalog(projectID string) any {
	catalog := sampleJSON("admin__auth-password-project-scoped-response.json")["token"].(map[string]any)["catalog"].([]any)
	for _, c := range catalog {
		svc := c.(map[string]any)
		if svc["type"] != "compute" {
			continue
		}
		for _, e := range svc["endpoints"].([]any) {
			e.(map[string]any)["url"] = f.srv.URL + "/v2.1/" + projectID
		}
	}
	return catalog
}

// checkToken answers 401 as keystonemiddleware does unless the request
// carries a valid token for project.
func (f *Fake) checkToken(w http.ResponseWriter, r *http.Request, project string) bool {
	f.mu.Lock()
	t, ok := f.tokens[r.Header.Get("X-Auth-Token")]
	f.mu.Unlock()
	if ok && !t.revoked && time.Now().Before(t.expires) && t.project == project {
		return true
	}
	w.Header().Set("WWW-Authenticate", fmt.Sprintf("Keystone uri=%q", f.URL))
	f.reply(w, Reply{Status: http.StatusUnauthorized, Sample: "keystonemiddleware-401.json"})
	return false
}
