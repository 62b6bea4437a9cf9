// Package packaging holds what `task package` turns into the Debian
// package (nfpm.yaml, the systemd unit, the default config, the scripts).
// Its only Go code is the integration test that builds the .deb, installs
// it, runs the service and purges it (deb_test.go, build tag integration).
package packaging
