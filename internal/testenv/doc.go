// Package testenv states what a test needs from the machine it runs on.
//
// A developer's quick run may lack what a test needs (root, for one), and
// such a test skips, saying what it needs. The test command (`task test`,
// which CI runs) sets SLUICE_TEST_ALL=1 and promises that every test runs:
// there, a test that cannot run is a failure, never a silent skip.
package testenv
