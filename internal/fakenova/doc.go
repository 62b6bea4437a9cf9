// Package fakenova is a FAKE OpenStack Keystone v3 and Nova compute API
// for the vmfault source's tests. OpenStack cannot run here, so this
// package stands in for it on a real httptest server (127.0.0.1).
//
// It is built from the official API samples, copied byte for byte into
// testdata/ (see testdata/PROVENANCE.md): the Keystone project-scoped
// password token response and its 13-service catalog (whose compute
// endpoints are rewritten to the fake's own address), the Nova v2.100
// server record (the template of every server it serves), the v2.69
// down-cell partial record (status UNKNOWN), and hand-derived fixtures of
// the reference's samples/openstack/derived: an ERROR server with a
// fault, the empty page after a full last page, itemNotFound, the
// badRequest of an unknown marker, overLimit 429 with retryAfter, and the
// keystonemiddleware and Keystone 401 bodies.
//
// What it emulates, and where that is documented upstream:
//
//   - POST /v3/auth/tokens: 201 with the token in X-Subject-Token only;
//     user by name needs a domain; project scope by name and domain or by
//     id; a bad password is 401 with Keystone's hidden-reason message and
//     WWW-Authenticate.
//   - Tokens expire at expires_at (TokenTTL); ExpireTokens revokes every
//     token issued so far. An invalid token on Nova is answered by
//     keystonemiddleware: 401 with the {"error": ...} body.
//   - GET /v2.1/{project}/servers/detail: limit (capped at MaxLimit, 1000
//     by default) and marker paging, with a next link after every full
//     page, so a listing whose size is a multiple of the page size ends
//     with an empty page; an unknown marker is 400; name= is an
//     unanchored, case-insensitive regular expression, as under MySQL.
//   - GET /v2.1/{project}/servers/{id}: the record, or 404 itemNotFound.
//   - Microversions: OpenStack-API-Version or X-OpenStack-Nova-API-Version,
//     2.1 without either, 406 outside 2.1..2.104. Servers of a down cell
//     are UNKNOWN partial records from 2.69 and left out of listings
//     before it.
//   - Inject queues canned answers (429 with Retry-After, 503, ...) ahead
//     of the real ones; Down answers every request to a route with one
//     (an outage of a duration) until Up.
//
// It is not OpenStack: no policy, no other filters, no sorting options;
// servers are listed in the order they were added.
package fakenova
