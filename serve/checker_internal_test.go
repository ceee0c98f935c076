package serve

import (
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/policy"
)

// A verdict lives a day at most, and never past the next expiry of a
// suppression (the verdict it allowed must be made again without it).
func TestValidUntil(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	if got := validUntil(nil, now); !got.Equal(now.Add(verdictTTL)) {
		t.Errorf("no policy: %s", got)
	}
	p := &policy.Policy{Suppress: []policy.Suppression{
		{Expires: now.Add(-time.Hour)},    // already expired: not a bound
		{Expires: now.Add(3 * time.Hour)}, // the bound
		{Expires: now.Add(48 * time.Hour)},
		{},
	}}
	if got := validUntil(p, now); !got.Equal(now.Add(3 * time.Hour)) {
		t.Errorf("with suppressions: %s", got)
	}
}

func TestPinnedRef(t *testing.T) {
	for in, want := range map[string]string{
		"oci://r.example:5000/a/b:v1":          "oci://r.example:5000/a/b@sha256:x",
		"oci://r.example/a/b":                  "oci://r.example/a/b@sha256:x",
		"oci://r.example:5000/a/b@sha256:old":  "oci://r.example:5000/a/b@sha256:x",
		"oci://r.example/a/b:v1@sha256:either": "oci://r.example/a/b@sha256:x",
	} {
		if got := pinnedRef(in, "sha256:x"); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
