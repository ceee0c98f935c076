package keras

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

const corpusDir = "../../testdata/keras"

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

// analyseFixture runs what the scan engine will run on a fixture: for a
// .keras archive the member check, metadata.json and config.json; for a
// legacy .h5 the model_config and training_config attributes (read from
// their JSON copies in configs/, this package has no HDF5 reader).
func analyseFixture(t *testing.T, rel string) []finding.Finding {
	t.Helper()
	path := filepath.Join(corpusDir, rel)
	var out []finding.Finding
	switch filepath.Ext(rel) {
	case ".keras":
		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		var names []string
		members := map[string][]byte{}
		for _, f := range zr.File {
			names = append(names, f.Name)
			if f.Name == "config.json" || f.Name == "metadata.json" {
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				members[f.Name], _ = io.ReadAll(rc)
				rc.Close()
			}
		}
		if !IsKeras3Archive(names) {
			t.Fatalf("%s: not recognised as a Keras 3 archive: %v", rel, names)
		}
		out = append(out, CheckArchiveMembers(names)...)
		md := AnalyseMetadata(members["metadata.json"])
		if md.KerasVersion != "3.10.0" || md.DateSaved == "" {
			t.Errorf("%s: metadata %+v", rel, md)
		}
		out = append(out, md.Findings...)
		r := AnalyseConfig(members["config.json"], "config.json", Limits{})
		checkReport(t, rel, r)
		out = append(out, r.Findings...)
	case ".h5":
		stem := filepath.Base(rel)
		for _, attr := range []string{"model_config", "training_config"} {
			b, err := os.ReadFile(filepath.Join(corpusDir, "configs", stem+"."+attr+".json"))
			if err != nil {
				if attr == "model_config" {
					t.Fatal(err)
				}
				continue
			}
			r := AnalyseConfig(b, attr, Limits{})
			checkReport(t, rel, r)
			out = append(out, r.Findings...)
		}
	default:
		t.Fatalf("unknown fixture type %s", rel)
	}
	return out
}

func checkReport(t *testing.T, rel string, r Report) {
	t.Helper()
	if !r.Complete {
		ok := false
		for _, f := range r.Findings {
			ok = ok || f.Level >= finding.High
		}
		if !ok {
			t.Errorf("%s: incomplete without a high finding", rel)
		}
	}
}

func TestCorpus(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(corpusDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []manifestEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range entries {
		t.Run(e.File, func(t *testing.T) {
			lvl := parseLevel(e.ExpectMinSeverity)
			if lvl == 0 || e.Trick == "" || e.Note == "" || (e.Kind == "benign") != (e.Expect == "") {
				t.Fatalf("bad manifest entry %+v", e)
			}
			fs := analyseFixture(t, e.File)
			counts[e.Kind]++
			switch e.Kind {
			case "benign":
				for _, f := range fs {
					if f.Level > lvl {
						t.Errorf("benign file has %s %s: %s", f.Level, f.Rule, f.Message)
					}
				}
			case "malicious":
				for _, f := range fs {
					if f.Level >= lvl && (strings.Contains(f.Rule, e.Expect) || strings.Contains(f.Message, e.Expect)) {
						return
					}
				}
				t.Errorf("no finding at >= %s matching %q:%s", lvl, e.Expect, dump(Report{Findings: fs}))
			default:
				t.Fatalf("kind %q", e.Kind)
			}
		})
	}
	// Every fixture file is in the manifest.
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.File] = true
	}
	for _, dir := range []string{"benign", "malicious"} {
		files, _ := filepath.Glob(filepath.Join(corpusDir, dir, "*"))
		for _, f := range files {
			if rel := dir + "/" + filepath.Base(f); !listed[rel] {
				t.Errorf("%s is not in manifest.json", rel)
			}
		}
	}
	if counts["benign"] < 8 || counts["malicious"] < 15 {
		t.Errorf("corpus too small: %v", counts)
	}
}

func TestArchiveMembers(t *testing.T) {
	if !IsKeras3Archive([]string{"metadata.json", "config.json", "model.weights.h5"}) ||
		!IsKeras3Archive([]string{"config.json", "model.weights.npz"}) ||
		IsKeras3Archive([]string{"config.json"}) || IsKeras3Archive([]string{"x/config.json", "metadata.json"}) ||
		IsKeras3Archive([]string{"data.pkl", "version"}) {
		t.Fatal("IsKeras3Archive")
	}
	clean := CheckArchiveMembers([]string{"metadata.json", "config.json", "model.weights.h5", "assets/", "assets/string_lookup/vocabulary.txt"})
	if len(clean) != 0 {
		t.Fatalf("clean archive: %+v", clean)
	}
	for _, tc := range []struct {
		names []string
		rule  string
		lvl   finding.Level
	}{
		{[]string{"config.json", "layers.py"}, RuleArchiveCode, finding.High},
		{[]string{"config.json", "assets/lib/evil.SO"}, RuleArchiveCode, finding.High},
		{[]string{"config.json", "assets/tok.pkl"}, RuleArchivePickle, finding.Medium},
		{[]string{"config.json", "config.json"}, RuleArchiveDuplicate, finding.High},
		{[]string{"config.json", "../../etc/x"}, RuleArchivePath, finding.High},
		{[]string{"config.json", "/abs"}, RuleArchivePath, finding.High},
		{[]string{"config.json", "README.md"}, RuleArchiveUnexpected, finding.Low},
	} {
		fs := CheckArchiveMembers(tc.names)
		found := false
		for _, f := range fs {
			found = found || f.Rule == tc.rule && f.Level == tc.lvl
		}
		if !found {
			t.Errorf("%v: want %s/%s, got %+v", tc.names, tc.rule, tc.lvl, fs)
		}
	}
	// Many strays are capped per rule.
	var many []string
	for i := 0; i < 1000; i++ {
		many = append(many, "junk"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+".txt")
	}
	per := map[string]int{}
	for _, f := range CheckArchiveMembers(many) {
		per[f.Rule]++
	}
	if per[RuleArchiveUnexpected] != 16 || per[RuleArchiveDuplicate] != 16 {
		t.Errorf("not capped per rule: %v", per)
	}
}

func TestMetadata(t *testing.T) {
	md := AnalyseMetadata([]byte(`{"keras_version": "3.10.0", "date_saved": "2025-03-04@10:20:30"}`))
	if md.KerasVersion != "3.10.0" || md.DateSaved != "2025-03-04@10:20:30" || md.Backend != "" || len(md.Findings) != 0 {
		t.Fatalf("%+v", md)
	}
	md = AnalyseMetadata([]byte(`{"keras_version": "3.0.0", "backend": "jax"}`))
	if md.Backend != "jax" {
		t.Fatalf("%+v", md)
	}
	for _, bad := range []string{``, `{`, `[]`, `{"a": 1} x`, strings.Repeat(" ", 2<<20)} {
		md := AnalyseMetadata([]byte(bad))
		if len(md.Findings) != 1 || md.Findings[0].Rule != RuleMetadata || md.Findings[0].Level != finding.Low {
			t.Errorf("%.20q: %+v", bad, md)
		}
	}
}
