// Package config loads Sluice's YAML configuration file into typed
// settings and a pipeline.Spec, strictly, reporting every problem at once
// with its position.
//
// # The file
//
// A config file is one YAML document, a mapping:
//
//	journal:
//	  dir: ./sluice-data             # required
//	  segment_max_bytes: 64MiB       # default 64MiB
//	  segment_max_age: 24h           # default 24h
//	  retention: {max_age: 168h, max_bytes: 2GiB}   # defaults; 0 = no bound
//	  full_policy: refuse            # refuse (default) | drop_oldest
//	  cursor_flush_interval: 1s      # default 1s
//	  max_open_segments: 64          # default 64: sealed segments kept open and mapped
//	admin:
//	  listen: 127.0.0.1:9464         # default; "off" or "" disables it: /healthz, /readyz, /metrics
//	  api: socket                    # socket (default) | tcp: the admin API on listen too, with a token
//	  socket: JOURNAL_DIR/admin.sock # default; the admin API's Unix socket (0600)
//	  allow_uids: []                 # users besides root and the engine's own who may use the socket
//	  token_file: JOURNAL_DIR/admin.token  # api: tcp only; generated 0600 when missing
//	  tls: {cert_file: ..., key_file: ..., ca_file: ...}  # HTTPS on listen; off by default
//	  allowed_hosts: []              # Host names accepted besides loopback and the listen host
//	  pprof: false                   # /debug/pprof/ with the admin API
//	log: {level: info, format: text} # debug|info|warn|error; text|json
//	shutdown_timeout: 30s            # default 30s
//	sources:
//	  - name: ingest
//	    type: http
//	    with: {listen: 127.0.0.1:8088, path: /events}
//	sinks:
//	  - name: archive
//	    type: file
//	    with: {path: ./events.jsonl}
//	    retry: {initial: 500ms, max: 30s, multiplier: 2, jitter: 0.2, max_elapsed: 0}
//	    batch: {max_events: 256, max_bytes: 1MiB}
//	routes:
//	  - name: all
//	    from: [ingest]
//	    to: [archive]
//
// journal.dir has no default: where durable data lives should be a
// decision. At least one source, sink and route is required. Top-level
// keys starting with "x-" are ignored, so they can hold YAML anchors for
// reuse (x-retry: &retry {...}, then retry: *retry or <<: *retry).
//
// # Admin
//
// The admin TCP listener (admin.listen) serves /healthz, /readyz and
// /metrics to anyone who can reach it. The admin API (journal records,
// stats and verify, dead letters, cursors, replay, export, status, and
// pprof when admin.pprof is true) is served on a Unix socket in the
// journal directory, mode 0600, that accepts only root and the engine's
// user (and admin.allow_uids) by the credentials the kernel reports;
// `sluice journal` commands use it. With admin.api: tcp the API is on
// admin.listen too, where every API request must present the bearer
// token of admin.token_file (compared in constant time), over HTTPS when
// admin.tls is set. Every admin listener refuses a Host that is not
// loopback, the listen host or in admin.allowed_hosts (DNS rebinding)
// and cross-site browser requests, with 403. docs/security.md has the
// whole model.
//
// # Components
//
// Each source and sink is an envelope: a name, a type and its settings
// under `with`; sinks also take `retry` (pipeline.RetryConfig) and `batch`
// (pipeline.BatchConfig), which default to pipeline.DefaultRetryConfig and
// pipeline.DefaultBatchConfig, and `start_at` (pipeline.StartAt: oldest,
// the default, newest or an RFC 3339 time), where a sink that has no
// cursor yet begins. The type selects a factory in the
// pipeline.Registries given to Load; `with` is decoded over the factory's
// DefaultConfig, so unset keys keep their defaults, and the result is
// validated.
//
// Names of sources, sinks and routes match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$.
// Sources and sinks share one namespace, so a name in a log line or metric
// is never ambiguous; route names are unique among routes. A route's from
// must name sources and its to sinks, neither list empty nor repeating a
// name. A source or sink that no route uses is a warning (File.Warnings),
// not an error.
//
// # Decoding
//
// Decoding is strict: an unknown key (with a "did you mean" suggestion), a
// duplicate key, a value of the wrong type and a missing required key are
// all errors. A config struct describes its keys with tags:
//
//	Path    string        `yaml:"path" config:"required"`
//	Timeout time.Duration `yaml:"timeout"`
//	TLS     *TLSConfig    `yaml:"tls"`
//	Common  `yaml:",inline"`   // embedded structs are inlined even untagged
//	Ignored string `yaml:"-"`
//
// An untagged field's key is its lower-cased name. A required key must be
// present with a non-null, non-empty value; `yaml:"path,required"` is
// accepted too, but yaml.v3's own Marshal rejects that flag, so
// `config:"required"` is preferred. Required keys are checked only in
// mappings that are written (a `with` that is left out counts as written).
//
// A string or []string setting that names other components is tagged
// with their kind, `config:"route"`, `config:"sink"` or `config:"source"`
// (a VES rule's routes, a source's reply_after sinks). Each name is then
// checked as a route's from and to are: an unknown one is an error at its
// position with a did-you-mean and the defined names, a component of the
// other kind is an error, and a route named by a sink's setting that does
// not deliver to that sink is a warning (the setting can never apply).
//
// Values decode by the target type, not by YAML's quoting: "8080" and 8080
// both fill an int. Supported are strings, bools (true or false), ints and
// uints (decimal, 0x, 0o, 0b), finite floats, time.Duration, structs,
// pointers, slices, maps with string keys, any (maps become
// map[string]any), yaml.Node and *yaml.Node (kept raw), and every
// encoding.TextUnmarshaler, such as pipeline.ByteSize, pipeline.Secret,
// pipeline.Severity and slog.Level. Types with their own syntax implement
// NodeUnmarshaler (or yaml.v3's yaml.Unmarshaler).
//
// A null value ("key:" or "key: ~") leaves the default in place, except
// that it sets pointers, slices, maps and any to nil. A list or mapping in
// the file replaces the default one; it is not merged with it. Values the
// loader allocates (list elements, map values, nil pointers) start from
// the zero value, then SetDefaults if the type implements Defaulter.
//
// YAML anchors, aliases and merge keys (<<) work. Aliases may expand to at
// most 100,000 values in all, which stops "alias bombs"; an alias to a
// value that contains it is an error. Application tags (!env) are errors.
//
// # Durations and sizes
//
// Every duration, here and in every component (the probe source's
// intervals too) and in the command line's duration flags, has one
// grammar, pipeline.ParseDuration's: a Go duration ("500ms", "15s",
// "1h30m", "1.5s") or a bare whole number of seconds ("30" is 30s, as in
// the ONAP DCAE health specs probes read; "0" is 0). Anything else is an
// error that suggests a spelling where it sees one: "1.5" (did you mean
// "1.5s"?), "30 sec" ("30s"), "2d" ("48h"), "1h 30m" ("1h30m"); values
// from ${...} are never shown in it. Sizes are pipeline.ByteSize: a number with
// an optional unit, binary (KiB, MiB, GiB, TiB) or decimal (kB, MB, GB,
// TB), such as 64MiB.
//
// # Interpolation
//
// Every scalar value (never a key) is interpolated after parsing, so
// positions stay exact:
//
//	${VAR}             the environment variable VAR; an error if it is unset
//	${VAR:-default}    VAR, or default if VAR is unset or empty
//	${file:/path}      the file's content without one trailing newline; a
//	                   relative path is relative to the config file
//	$${                a literal ${
//
// References do not nest, and a default cannot contain "}". Inside flow
// collections ({...} and [...]) quote values holding a reference
// ("${VAR}"), or YAML reads the "{" as the start of a mapping. An
// interpolated value is a string, decoded by its target type like any
// other.
//
// Values from interpolation are never printed: an error about one shows
// the reference that produced it ("got the expansion of \"${DB_PASS}\"").
// Every error and warning, those of a component's Validate and the
// provisioning errors placed by File.Locate included, is scrubbed: each
// value interpolation produced (and its quoted form) is replaced by its
// reference (a value shorter than 6 bytes only where it stands alone).
// pipeline.Secret never prints its value either. A type implementing
// WrittenUnmarshaler also gets its value as written, to show it.
//
// # Validation
//
// After decoding, Validate is called on every value that has one: each
// component's config and every struct, list element and map value below
// it (as OpenTelemetry's confmap does), RetryConfig and BatchConfig, and
// the journal, admin and log sections. A pipeline.FieldError is reported
// at the position of the field it names (a path below `with`, such as
// "tls.ca_file" or "headers[2]"), or of its nearest written ancestor;
// other errors at the `with` itself. Validation problems of a value that
// failed to decode are not reported twice.
//
// # Routes
//
// A route sends the events of its sources (`from`) to its sinks (`to`),
// optionally selecting with `match` and rewriting with `transform`:
//
//	routes:
//	  - name: alerts
//	    from: [web, lb]
//	    to: [ves]
//	    match:
//	      types: ["sluice.probe.*"]        # globs: * any run (also across . and /), ? one character
//	      severity: warning                # at or above
//	      subjects: ["web*"]
//	      attributes: {region: "eu*"}      # extension attribute globs
//	      expr: 'event.level >= 3 && event.data.code != 200'   # CEL
//	    transform:
//	      set: {team: "ops-{{ .Origin }}"} # extension attributes
//	      rename: {region: zone}
//	      drop: [debug]
//	      type: "vm.{{ .Type }}"
//	      subject: "{{ .Subject }}/checked"
//
// Every match condition given must hold. Globs (types, subjects,
// attribute values, and the type patterns of sink rules) have one grammar,
// internal/glob's: * matches any run of characters, crossing '.' and '/';
// ? matches one character; everything else, '[' and '\' included,
// matches itself. `expr` is a CEL expression
// (github.com/google/cel-go), compiled once at load, over one variable,
// `event`, with the keys id, source, type, subject, origin (the Sluice
// source's name), datacontenttype, dataschema, severity (the level name),
// level (debug -1 … emergency 6), time (timestamp), sequence (uint),
// attributes (map) and data (the payload decoded from JSON when its
// datacontenttype is JSON or absent, pipeline.IsJSONContentType; else
// null).
// It must yield a boolean; a key missing from an event is an evaluation
// error, which counts as no match (a later route may select the event),
// counted in sluice_route_match_errors_total{route} and logged at most
// once a minute per route; with `on_error: dead_letter` on the route such
// events are dead-lettered for its sinks with reason "match failed"
// instead (on_error: no_match is the default). Use
// has(event.attributes.x) to test first.
//
// Transform values are Go text/template templates over the event's
// fields: .ID .Source .Type .Subject .Origin .Severity .DataContentType
// .DataSchema .Time .Sequence and .Attributes (use
// {{ index .Attributes "name" }}). A field that cannot exist is a config
// error; a template that fails on an event (a missing map key)
// dead-letters it with reason "transform failed". Transforms apply in the
// order rename, drop, set, type, subject, and cannot touch CloudEvents
// context attributes other than type and subject.
//
// An event reaches a sink once, through the first route in the file that
// selects it.
//
// # Errors
//
// Parse and Load return Errors, every problem sorted by position, one per
// line:
//
//	FILE:LINE:COL: PATH: MESSAGE
//	sluice.yaml:12:13: sinks[0].with: unknown key "pth" (did you mean "path"?)
//	sluice.yaml:14:18: sinks[0].retry.initial: want a duration such as 15s, got "abc"
//	sluice.yaml:20:10: routes[0].to[0]: route "all": unknown sink "archve" (defined sinks: archive, out)
//
// PATH is left out for problems with the document as a whole. YAML syntax
// errors carry a line but no column; they report column 1. Errors matches
// pipeline.ErrInvalidConfig with errors.Is, and each Error unwraps to its
// cause where there is one (pipeline.ErrUnknownType for an unknown type,
// or the error a Validate returned). A file that cannot be read is not an
// Errors but the wrapped fs error.
package config
