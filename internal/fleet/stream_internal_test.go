package fleet

import "testing"

func TestCovers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		p, q string
		want bool
	}{
		{"sluice.fleet.>", "sluice.fleet.>", true},
		{"sluice.fleet.>", "sluice.fleet.site1.>", true},
		{">", "sluice.fleet.>", true},
		{"sluice.*.>", "sluice.fleet.>", true},
		{"sluice.fleet.site1.>", "sluice.fleet.>", false},
		{"sluice.fleet.*", "sluice.fleet.>", false},
		{"other.>", "sluice.fleet.>", false},
		{"sluice.fleet", "sluice.fleet.>", false},
	} {
		if got := covers(c.p, c.q); got != c.want {
			t.Errorf("covers(%q, %q) = %v, want %v", c.p, c.q, got, c.want)
		}
	}
}
