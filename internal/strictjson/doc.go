// Package strictjson finds what encoding/json accepts silently in JSON
// received from the network but Sluice refuses at ingest: invalid UTF-8
// (which encoding/json turns into U+FFFD, so that two different ids
// would become one id and one idempotency key, and which would otherwise
// reach files and exports as invalid JSON), \u escapes of lone surrogates
// (turned into U+FFFD alike), and member names repeated in an object
// (where encoding/json keeps the last, and another reader may keep the
// first). Check walks a JSON text once, without decoding it, and names
// where the problem is, so that an answer can name the attribute.
//
// The rules are those of I-JSON (RFC 7493 §2.1, §2.3), which RFC 8259
// recommends for interoperability.
package strictjson
