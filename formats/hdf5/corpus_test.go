package hdf5

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

type manifestEntry struct {
	File              string `json:"file"`
	Kind              string `json:"kind"`
	Trick             string `json:"trick"`
	ExpectMinSeverity string `json:"expect_min_severity"`
	Expect            string `json:"expect"`
	Note              string `json:"note"`
}

func parseLevel(s string) finding.Level {
	for l := finding.Info; l <= finding.Critical; l++ {
		if l.String() == s {
			return l
		}
	}
	return 0
}

// TestCorpus runs Scan over every fixture of the manifest. Benign files
// stay at or below their level; malicious ones give a finding at or above
// theirs whose rule or message contains the expected text. Fixtures whose
// expectation is not an hdf5/ rule (the Keras Lambda models) are judged by
// the Keras checks of the scan engine; here the HDF5 layer must read them
// cleanly and hand over a model_config that contains the expected text.
func TestCorpus(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(fixtures, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []manifestEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.File] = true
		t.Run(e.File, func(t *testing.T) {
			lvl := parseLevel(e.ExpectMinSeverity)
			if lvl == 0 || (e.Kind != "benign" && e.Kind != "malicious") || e.Trick == "" || e.Note == "" {
				t.Fatalf("bad manifest entry %+v", e)
			}
			rep := scanBytes(fixture(t, e.File), Limits{})
			checkInvariants(t, e.File, rep)
			switch {
			case e.Kind == "benign":
				if e.Expect != "" || maxLevel(rep) > lvl {
					t.Errorf("benign file above %s:%s", lvl, dump(rep))
				}
			case !strings.HasPrefix(e.Expect, "hdf5/"):
				if !rep.Complete || maxLevel(rep) > finding.Low || !strings.Contains(rep.RootAttrs["model_config"], e.Expect) {
					t.Errorf("Keras-level fixture: complete=%v model_config has %q: %v%s", rep.Complete, e.Expect,
						strings.Contains(rep.RootAttrs["model_config"], e.Expect), dump(rep))
				}
			default:
				ok := false
				for _, f := range rep.Findings {
					if f.Level >= lvl && (strings.Contains(f.Rule, e.Expect) || strings.Contains(f.Message, e.Expect)) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("no %q finding at >= %s:%s", e.Expect, lvl, dump(rep))
				}
			}
		})
	}
	for _, dir := range []string{"benign", "malicious"} {
		ents, _ := os.ReadDir(filepath.Join(fixtures, dir))
		for _, e := range ents {
			if !listed[dir+"/"+e.Name()] {
				t.Errorf("%s/%s is not in the manifest", dir, e.Name())
			}
		}
	}
}
