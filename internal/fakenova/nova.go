package fakenova

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const (
	minMinor = 1
	maxMinor = 104
	// downCellMinor is the first microversion that lists down-cell
	// servers as partial records.
	downCellMinor = 69
)

// microversion reads the request's compute microversion (minor part), or
// answers 406 / 400 and returns false.
func (f *Fake) microversion(w http.ResponseWriter, r *http.Request) (int, bool) {
	v := "2.1"
	if h := r.Header.Get("OpenStack-API-Version"); h != "" {
		v = strings.TrimSpace(strings.TrimPrefix(h, "compute"))
	} else if h := r.Header.Get("X-OpenStack-Nova-API-Version"); h != "" {
		v = h
	}
	f.mu.Lock()
	f.versions = append(f.versions, v)
	f.mu.Unlock()
	if v == "latest" {
		return maxMinor, true
	}
	minor, err := strconv.Atoi(strings.TrimPrefix(v, "2."))
	if err != nil || !strings.HasPrefix(v, "2.") {
		writeJSON(w, http.StatusBadRequest, map[string]any{"badRequest": map[string]any{"code": 400, "message": "Invalid API version request"}})
		return 0, false
	}
	if minor < minMinor || minor > maxMinor {
		writeJSON(w, http.StatusNotAcceptable, map[string]any{"computeFault": map[string]any{"code": 406,
			"message": fmt.Sprintf("Version %s is not supported by the API. Minimum is 2.1 and maximum is 2.104.", v)}})
		return 0, false
	}
	return minor, true
}

func (f *Fake) handleList(w http.ResponseWriter, r *http.Request) {
	if rep, ok := f.take(RouteList); ok {
		f.reply(w, rep)
		return
	}
	project := r.PathValue("project")
	if !f.checkToken(w, r, project) {
		return
	}
	minor, ok := f.microversion(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var nameRE *regexp.Regexp
	if n := q.Get("name"); n != "" {
		re, err := regexp.Compile("(?i)" + n)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"badRequest": map[string]any{"code": 400, "message": "Invalid regex"}})
			return
		}
		nameRE = re
	}
	f.mu.Lock()
	limit := f.maxLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			f.mu.Unlock()
			writeJSON(w, http.StatusBadRequest, map[string]any{"badRequest": map[string]any{"code": 400, "message": "limit must be a non-negative integer"}})
			return
		}
		limit = min(n, f.maxLimit)
	}
	var match []Server
	for _, s := range f.servers {
		if s.Project != project || s.DownCell && minor < downCellMinor {
			continue
		}
		if nameRE != nil && (s.DownCell || !nameRE.MatchString(s.Name)) {
			continue
		}
		match = append(match, *s)
	}
	f.mu.Unlock()
	start := 0
	if m := q.Get("marker"); m != "" {
		start = -1
		for i, s := range match {
			if s.ID == m {
				start = i + 1
			}
		}
		if start < 0 {
			var body map[string]any
			_ = json.Unmarshal([]byte(strings.ReplaceAll(string(Sample("nova-400-badRequest-marker.json")), "0e44cc9c-e052-415d-afbf-469b0d384170", m)), &body)
			writeJSON(w, http.StatusBadRequest, body)
			return
		}
	}
	page := match[start:min(start+limit, len(match))]
	out := map[string]any{"servers": []any{}}
	list := make([]any, 0, len(page))
	for _, s := range page {
		list = append(list, f.record(s))
	}
	out["servers"] = list
	if limit > 0 && len(page) == limit {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("marker", page[len(page)-1].ID)
		out["servers_links"] = []any{map[string]any{"rel": "next", "href": f.srv.URL + r.URL.Path + "?" + next.Encode()}}
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Fake) handleShow(w http.ResponseWriter, r *http.Request) {
	if rep, ok := f.take(RouteShow); ok {
		f.reply(w, rep)
		return
	}
	project, id := r.PathValue("project"), r.PathValue("id")
	if !f.checkToken(w, r, project) {
		return
	}
	minor, ok := f.microversion(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	var found *Server
	for _, s := range f.servers {
		if s.ID == id && s.Project == project {
			c := *s
			found = &c
		}
	}
	f.mu.Unlock()
	switch {
	case found == nil:
		var body map[string]any
		_ = json.Unmarshal([]byte(strings.ReplaceAll(string(Sample("nova-404-itemNotFound.json")), "0e44cc9c-e052-415d-afbf-469b0d384170", id)), &body)
		writeJSON(w, http.StatusNotFound, body)
	case found.DownCell && minor < downCellMinor:
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"serviceUnavailable": map[string]any{"code": 503, "message": "cell down"}})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"server": f.record(*found)})
	}
}

// record renders s from the v2.100 sample (or the v2.69 partial record of
// a down cell).
func (f *Fake) record(s Server) map[string]any {
	if s.DownCell {
		rec := sampleJSON("servers__v2.69__server-get-resp.json")["server"].(map[string]any)
		rec["id"], rec["tenant_id"] = s.ID, s.Project
		delete(rec, "links")
		return rec
	}
	rec := sampleJSON("servers__v2.100__server-get-resp.json")["server"].(map[string]any)
	rec["id"], rec["name"], rec["tenant_id"], rec["status"] = s.ID, s.Name, s.Project, s.Status
	rec["OS-EXT-STS:vm_state"] = s.VMState
	rec["OS-EXT-STS:power_state"] = s.PowerState
	if s.TaskState != nil {
		rec["OS-EXT-STS:task_state"] = *s.TaskState
	} else {
		rec["OS-EXT-STS:task_state"] = nil
	}
	for _, l := range rec["links"].([]any) {
		link := l.(map[string]any)
		link["href"] = f.srv.URL + "/v2.1/" + s.Project + "/servers/" + s.ID
	}
	switch s.Status {
	case "ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING":
	default:
		delete(rec, "progress") // views/servers.py _progress_statuses
	}
	if s.Fault != nil && (s.Status == "ERROR" || s.Status == "DELETED") {
		rec["fault"] = map[string]any{"code": s.Fault.Code, "message": s.Fault.Message, "created": s.Fault.Created.UTC().Format(time.RFC3339)}
	}
	return rec
}
