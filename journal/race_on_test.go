//go:build race

package journal_test

// raceEnabled says the race detector is on (tests then scale down what is
// only slow under it).
const raceEnabled = true
