package httpclient

import (
	"net/url"
	"strings"
)

// redactedValue replaces what RedactURL hides.
const redactedValue = "REDACTED"

// RedactURL returns u as a string safe to log, to put in an event or to
// show in an error: the password of its user info becomes "xxxxx" (as
// url.URL.Redacted does), the value of every query parameter becomes
// REDACTED (an api_key=... is as secret as a password; a parameter
// without "=" is redacted whole) and the fragment is dropped. The
// parameter names, their order, the host and the path are kept.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.Fragment, c.RawFragment = "", ""
	if c.RawQuery != "" {
		parts := strings.Split(c.RawQuery, "&")
		for i, p := range parts {
			if name, _, ok := strings.Cut(p, "="); ok {
				parts[i] = name + "=" + redactedValue
			} else if p != "" {
				parts[i] = redactedValue
			}
		}
		c.RawQuery = strings.Join(parts, "&")
	}
	c.ForceQuery = false
	return c.Redacted()
}
