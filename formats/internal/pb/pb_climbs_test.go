package pb

import "testing"

func TestClimbs(t *testing.T) {
	for p, want := range map[string]bool{
		"weights.bin": false, "a/../b": false, "./x": false, "a/b/../../c": false,
		"..": true, "../x": true, "a/../../x": true, `a\..\..\x`: true, "a/./../..": true,
	} {
		if got := Climbs(p, false); got != want {
			t.Errorf("Climbs(%q) = %v, want %v", p, got, want)
		}
	}
	if Climbs("a/..", true) || !Climbs("../x", true) {
		t.Error("lastOpen: the last segment must not count, the others must")
	}
}
