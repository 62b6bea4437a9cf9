// Package tlsconfig is the one TLS configuration of Sluice's components:
// the tls: block of the http sink, the VES sink, the probe source (https
// probes) and the http source, and of any later component that speaks
// TLS (the Nova client of the VM-fault source, the LB worker's HTTP
// transport).
//
// Its lifecycle follows the components': Validate (and ValidateServer)
// check the fields without I/O, so that `sluice validate --no-provision`
// and a component's Validate stay pure; Provision reads the CA bundle and
// the key pair, which is where a missing or unreadable file is reported;
// Client and Server build a fresh *tls.Config from what was read.
//
// Defaults: TLS 1.2 or later, the system roots, certificate verification
// on. A client verifies the server's certificate against the system roots
// or tls.ca_file and the URL's host or tls.server_name; verification is
// off only with tls.insecure_skip_verify, which cannot be combined with
// tls.ca_file. A server presents tls.cert_file and tls.key_file; with
// tls.ca_file it also requires and verifies client certificates.
package tlsconfig
