package modelcard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

const leaderboard = "https://huggingface.co/spaces/HuggingFaceH4/open_llm_leaderboard?query=example/hermes-neural-7b-slerp"

// leaderboardResult is one Open LLM Leaderboard row of merge-slerp-7b.md.
func leaderboardResult(name, typ, config, split, metric, metricName, value string) Result {
	return Result{Task: "text-generation", TaskName: "Text Generation", Dataset: name, DatasetType: typ,
		DatasetConfig: config, Split: split, Metric: metric, Name: metricName, Value: value,
		Source: "Open LLM Leaderboard", SourceURL: leaderboard}
}

// want is what a fixture must give: the exact Card and the rule ids of
// the findings (with their levels).
type want struct {
	card     *Card
	rules    []string
	levels   []finding.Level
	complete bool
}

var cardTests = map[string]want{
	"llama-3.1-instruct.md": {complete: true, card: &Card{
		License:     "llama3.1",
		BaseModels:  []string{"meta-llama/Llama-3.1-8B"},
		PipelineTag: "text-generation",
		Languages:   []string{"en", "de", "fr", "it", "pt", "hi", "es", "th"},
		LibraryName: "transformers",
		Tags:        []string{"facebook", "meta", "pytorch", "llama", "llama-3"},
		ExtraGated:  true,
	}},
	"mistral-7b.md": {complete: true, card: &Card{
		License: "apache-2.0", PipelineTag: "text-generation", Languages: []string{"en"}, Tags: []string{"pretrained"},
	}},
	"merge-slerp-7b.md": {complete: true, card: &Card{
		License:           "apache-2.0",
		BaseModels:        []string{"teknium/OpenHermes-2.5-Mistral-7B", "Intel/neural-chat-7b-v3-3"},
		BaseModelRelation: "merge",
		Datasets:          []string{"teknium/OpenHermes-2.5", "Open-Orca/SlimOrca"},
		PipelineTag:       "text-generation",
		Languages:         []string{"en"},
		Tags:              []string{"merge", "mergekit", "lazymergekit", "teknium/OpenHermes-2.5-Mistral-7B", "Intel/neural-chat-7b-v3-3"},
		ModelName:         "hermes-neural-7b-slerp",
		Results: []Result{
			leaderboardResult("AI2 Reasoning Challenge (25-Shot)", "ai2_arc", "ARC-Challenge", "test", "acc_norm", "normalized accuracy", "66.55290102389078"),
			leaderboardResult("HellaSwag (10-Shot)", "hellaswag", "", "validation", "acc_norm", "normalized accuracy", "85.26"),
			leaderboardResult("MMLU (5-Shot)", "cais/mmlu", "all", "test", "acc", "accuracy", "63.79"),
			leaderboardResult("TruthfulQA (0-shot)", "truthful_qa", "multiple_choice", "validation", "mc2", "", "59.9"),
			leaderboardResult("Winogrande (5-shot)", "winogrande", "winogrande_xl", "validation", "acc", "accuracy", "79.95"),
			leaderboardResult("GSM8k (5-shot)", "gsm8k", "main", "test", "acc", "accuracy", "69.6"),
			func() Result {
				r := leaderboardResult("GSM8k (5-shot)", "gsm8k", "main", "test", "exact_match", "strict match", "0.696")
				r.Verified = true
				return r
			}(),
		},
	}},
	"gguf-quantized.md": {complete: true, card: &Card{
		License:           "apache-2.0",
		LicenseLink:       "https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/LICENSE",
		BaseModels:        []string{"Qwen/Qwen2.5-7B-Instruct"},
		BaseModelRelation: "quantized",
		PipelineTag:       "text-generation",
		Languages:         []string{"en"},
		Tags:              []string{"chat", "gguf", "llama.cpp"},
	}},
	"license-other.md": {complete: true, card: &Card{
		License:     "other",
		LicenseName: "qwen",
		LicenseLink: "https://huggingface.co/Qwen/Qwen2.5-72B-Instruct/blob/main/LICENSE",
		BaseModels:  []string{"Qwen/Qwen2.5-72B"},
		PipelineTag: "text-generation",
		Languages:   []string{"en"},
		LibraryName: "transformers",
		Tags:        []string{"chat"},
	}},
	"autotrain-co2-number.md": {complete: true, card: &Card{
		Datasets:  []string{"example-user/autotrain-data-imdb-sentiment"},
		Languages: []string{"en"},
		Tags:      []string{"autotrain", "text-classification"},
		CO2:       &CO2{Emissions: "0.0283729273312463"},
	}},
	"co2-object.md": {complete: true, card: &Card{
		License:     "bigscience-bloom-rail-1.0",
		PipelineTag: "text-generation",
		Languages:   []string{"ak", "ar", "en", "fr", "zu"},
		CO2: &CO2{
			Emissions:            "24700000",
			Source:               "Estimating the Carbon Footprint of BLOOM, a 176B Parameter Language Model. https://arxiv.org/abs/2211.02001",
			TrainingType:         "pre-training",
			GeographicalLocation: "Orsay, France",
			HardwareUsed:         "384 A100 80GB GPUs",
		},
	}},
	"peft-adapter.md": {complete: true, card: &Card{
		License:           "apache-2.0",
		BaseModels:        []string{"mistralai/Mistral-7B-Instruct-v0.2"},
		BaseModelRelation: "adapter",
		Datasets:          []string{"HuggingFaceH4/no_robots"},
		PipelineTag:       "text-generation",
		LibraryName:       "peft",
		Tags:              []string{"trl", "sft", "generated_from_trainer"},
		ModelName:         "mistral-7b-no-robots-lora",
	}},
	"crlf.md": {complete: true, card: &Card{
		License:     "apache-2.0",
		Datasets:    []string{"s2orc", "flax-sentence-embeddings/stackexchange_xml", "ms_marco", "gooaq"},
		PipelineTag: "sentence-similarity",
		Languages:   []string{"en"},
		LibraryName: "sentence-transformers",
		Tags:        []string{"sentence-transformers", "feature-extraction", "sentence-similarity", "transformers"},
	}},
	"no-front-matter.md":    {complete: true},
	"empty-front-matter.md": {complete: true, card: &Card{}},
	"broken-yaml.md":        {rules: []string{RuleMalformed}, levels: []finding.Level{finding.Low}},
	"billion-laughs.md":     {rules: []string{RuleAliasBomb}, levels: []finding.Level{finding.Medium}},
	"alias-amplify.md":      {rules: []string{RuleAliasBomb}, levels: []finding.Level{finding.Medium}},
	"duplicate-key.md": {complete: true, rules: []string{RuleDuplicateKey}, levels: []finding.Level{finding.Low}, card: &Card{
		License:     "other", // the last value, as PyYAML
		LicenseName: "example-research-only",
		LicenseLink: "LICENSE",
		PipelineTag: "text-generation",
		Languages:   []string{"en"},
	}},
	"edge-values.md": {complete: true, card: func() *Card {
		cv := Result{Task: "automatic-speech-recognition", Dataset: "mozilla-foundation/common_voice_11_0",
			DatasetType: "mozilla-foundation/common_voice_11_0", DatasetConfig: "fr", Split: "test",
			DatasetRevision: "5503434ddd753f426f4b38109466949a1217c2bb"}
		with := func(metric, name, value string, verified bool) Result {
			r := cv
			r.Metric, r.Name, r.Value, r.Verified = metric, name, value, verified
			return r
		}
		return &Card{
			License:     "mit",
			Licenses:    []string{"mit", "apache-2.0"},
			BaseModels:  []string{"padded/model-id"},
			Datasets:    []string{"wikimedia/wikipedia"},
			PipelineTag: "fill-mask",
			Languages:   []string{"no", "nn", "en", "42"}, // YAML 1.1 reads `no` as false
			LibraryName: "7",
			// control and bidi characters dropped, breaks made spaces,
			// the duplicate, the non-scalars, null and "" skipped;
			// `yes` is YAML 1.1 true.
			Tags:      []string{"tab here", "bell and reversed text", "line one line two", "true"},
			ModelName: "edge-case-model",
			Results: []Result{
				with("wer", "", "20.0 ± 1.2", false),
				with("cer", "", "12345678901234567890", false), // beyond int64, exact
				with("loss", "", "1e-7", false),
				// per-class (a list), by-split (a mapping), missing and null values skipped
				with("Only A Name", "Only A Name", "3", false),
				with("flag", "", "true", true),
				{Task: "text-classification", Dataset: "IMDb", DatasetType: "imdb", Split: "test", Metric: "accuracy", Value: "0.93"},
			},
			CO2: &CO2{Emissions: "1.5 kg (estimated)"},
		}
	}()},
}

func parseFile(t *testing.T, path string, lim Limits) Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(f, lim)
}

func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/cards/*.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			w, ok := cardTests[name]
			if !ok {
				t.Fatalf("fixture %s has no expectation in cardTests", name)
			}
			rep := parseFile(t, path, Limits{})
			if !reflect.DeepEqual(rep.Card, w.card) {
				got, _ := json.MarshalIndent(rep.Card, "", "  ")
				exp, _ := json.MarshalIndent(w.card, "", "  ")
				t.Errorf("card:\n got %s\nwant %s", got, exp)
			}
			var rules []string
			var levels []finding.Level
			for _, f := range rep.Findings {
				rules = append(rules, f.Rule)
				levels = append(levels, f.Level)
			}
			if !reflect.DeepEqual(rules, w.rules) || !reflect.DeepEqual(levels, w.levels) {
				t.Errorf("findings %v %v, want %v %v (%+v)", rules, levels, w.rules, w.levels, rep.Findings)
			}
			if rep.Complete != w.complete {
				t.Errorf("complete = %v, want %v", rep.Complete, w.complete)
			}
			checkInvariants(t, rep, DefaultLimits())
		})
	}
	for name := range cardTests {
		if !seen[name] {
			t.Errorf("expectation for missing fixture %s", name)
		}
	}
}

func TestFrontMatterBoundaries(t *testing.T) {
	lic := &Card{License: "mit"}
	tests := []struct {
		name string
		in   string
		card *Card
	}{
		{"plain", "---\nlicense: mit\n---\n# x\n", lic},
		{"utf8 bom", "\xEF\xBB\xBF---\nlicense: mit\n---\n", lic},
		{"bom and crlf", "\xEF\xBB\xBF---\r\nlicense: mit\r\n---\r\nbody\r\n", lic},
		{"closing at eof", "---\nlicense: mit\n---", lic},
		{"closing with blanks", "---\nlicense: mit\n--- \t\nbody", lic},
		{"closing with blanks and crlf", "---\r\nlicense: mit\r\n---  \r\nbody", lic},
		{"longer rule does not close", "---\nlicense: mit\n----\n---\n", nil}, // ---- is YAML text here: not valid
		{"no newline after opening", "---license: mit\n---\n", nil},
		{"blank after opening marker", "--- \nlicense: mit\n---\n", nil},
		{"leading blank line", "\n---\nlicense: mit\n---\n", nil},
		{"utf16 bom", "\xFF\xFE---\nlicense: mit\n---\n", nil},
		{"never closed", "---\nlicense: mit\n# heading\n", nil},
		{"only the opening", "---\n", nil},
		{"only dashes", "---", nil},
		{"empty file", "", nil},
		{"empty front matter", "---\n---\n", &Card{}},
		{"comment only", "---\n# nothing\n---\n", &Card{}},
		{"body has a second block", "---\nlicense: mit\n---\n---\nlicense: other\n---\n", lic},
		{"closing inside a block scalar ends it anyway", "---\nlicense: mit\nx: |\n  text\n---\n  more\n", lic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := Parse(strings.NewReader(tc.in), Limits{})
			if tc.name == "longer rule does not close" {
				// "----" is not a closing line, so the block runs to the
				// next "---" and holds a plain scalar after a mapping:
				// malformed, never a card with the wrong content.
				if rep.Card != nil || len(rep.Findings) != 1 || rep.Findings[0].Rule != RuleMalformed {
					t.Fatalf("got %+v", rep)
				}
				return
			}
			if !reflect.DeepEqual(rep.Card, tc.card) {
				t.Fatalf("card = %+v, want %+v", rep.Card, tc.card)
			}
			if len(rep.Findings) != 0 || !rep.Complete {
				t.Fatalf("findings %+v complete %v", rep.Findings, rep.Complete)
			}
		})
	}
}

// countingReader serves src and then, if endless, 'a: b' lines forever,
// counting what was read.
type countingReader struct {
	src     []byte
	endless bool
	n       int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if len(c.src) == 0 {
		if !c.endless {
			return 0, io.EOF
		}
		c.src = bytes.Repeat([]byte("a: b\n"), 1000)
	}
	k := copy(p, c.src)
	c.src = c.src[k:]
	c.n += int64(k)
	return k, nil
}

func TestReadsOnlyTheFrontMatter(t *testing.T) {
	// A 64 MiB README body after a small front matter is never read.
	head := "---\nlicense: mit\n---\n"
	cr := &countingReader{src: []byte(head), endless: true}
	rep := Parse(cr, Limits{})
	if rep.Card == nil || rep.Card.License != "mit" || !rep.Complete {
		t.Fatalf("got %+v", rep)
	}
	if cr.n > int64(len(head))+4096 {
		t.Fatalf("read %d bytes for a %d-byte front matter", cr.n, len(head))
	}
	// A README without front matter costs one buffer.
	cr = &countingReader{src: []byte("# title\n"), endless: true}
	if rep := Parse(cr, Limits{}); rep.Card != nil || cr.n > 4096 {
		t.Fatalf("read %d bytes, card %+v", cr.n, rep.Card)
	}
}

func TestTooLarge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		lim     Limits
		endless bool
		body    string
	}{
		{"endless front matter", Limits{}, true, ""},
		{"small cap", Limits{MaxFrontMatter: 100}, false, strings.Repeat("tags: x\n", 20)},
		{"one long line", Limits{MaxFrontMatter: 1000}, false, "license: " + strings.Repeat("x", 100000) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "---\n" + tc.body
			if !tc.endless {
				src += "---\n"
			}
			cr := &countingReader{src: []byte(src), endless: tc.endless}
			rep := Parse(cr, tc.lim)
			if rep.Card != nil || rep.Complete || len(rep.Findings) != 1 {
				t.Fatalf("got %+v", rep)
			}
			f := rep.Findings[0]
			if f.Rule != RuleTooLarge || f.Level != finding.Low || f.Offset != 4 {
				t.Fatalf("finding %+v", f)
			}
			max := tc.lim.withDefaults().MaxFrontMatter
			if cr.n > max+closingSlack+4+4096 {
				t.Fatalf("read %d bytes with a cap of %d", cr.n, max)
			}
		})
	}
	// Exactly at the cap is fine; the cap counts the YAML, not the markers.
	body := "license: mit\n" + strings.Repeat("#", 86) + "\n" // 100 bytes
	rep := Parse(strings.NewReader("---\n"+body+"---\n"), Limits{MaxFrontMatter: int64(len(body))})
	if rep.Card == nil || rep.Card.License != "mit" || len(rep.Findings) != 0 {
		t.Fatalf("at the cap: %+v", rep)
	}
	rep = Parse(strings.NewReader("---\n"+body+"---\n"), Limits{MaxFrontMatter: int64(len(body) - 1)})
	if rep.Card != nil || len(rep.Findings) != 1 || rep.Findings[0].Rule != RuleTooLarge {
		t.Fatalf("one over the cap: %+v", rep)
	}
}

// errReader fails after serving src.
type errReader struct{ src []byte }

func (e *errReader) Read(p []byte) (int, error) {
	if len(e.src) == 0 {
		return 0, errors.New("disk on fire")
	}
	k := copy(p, e.src)
	e.src = e.src[k:]
	return k, nil
}

func TestReadError(t *testing.T) {
	for _, src := range []string{"", "---\nlicense: mit\n"} {
		rep := Parse(&errReader{src: []byte(src)}, Limits{})
		if rep.Card != nil || rep.Complete || len(rep.Findings) != 1 {
			t.Fatalf("%q: %+v", src, rep)
		}
		if f := rep.Findings[0]; f.Rule != RuleMalformed || f.Level != finding.Low || !strings.Contains(f.Evidence, "disk on fire") {
			t.Fatalf("%q: %+v", src, f)
		}
	}
}

func TestMalformed(t *testing.T) {
	for _, tc := range []struct{ name, yaml, msg string }{
		{"a list", "- a\n- b\n", "list, not a mapping"},
		{"a string", "just some text\n", "string, not a mapping"},
		{"a number", "42\n", "number, not a mapping"},
		{"tab indentation", "tags:\n\t- a\n", "not valid YAML"},
		{"unclosed flow", "tags: [a, b\n", "not valid YAML"},
		{"too deep", "tags: " + strings.Repeat("[", 20000) + "\n", "not valid YAML"},
		{"list as key", "? [a]\n: b\n", "not valid YAML"},
		{"undefined alias", "license: *nope\n", "not valid YAML"},
		{"invalid utf-8", "license: \xff\xfe\n", "not valid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Parse(strings.NewReader("---\n"+tc.yaml+"---\n"), Limits{})
			if rep.Card != nil || rep.Complete || len(rep.Findings) != 1 {
				t.Fatalf("got %+v", rep)
			}
			f := rep.Findings[0]
			if f.Rule != RuleMalformed || f.Level != finding.Low || !strings.Contains(f.Message, tc.msg) || f.Where != "front matter" {
				t.Fatalf("finding %+v", f)
			}
			checkInvariants(t, rep, DefaultLimits())
		})
	}
}

func TestDuplicateKeys(t *testing.T) {
	// Nested duplicates count too.
	rep := Parse(strings.NewReader("---\nco2_eq_emissions:\n  emissions: 1\n  emissions: 2\n---\n"), Limits{})
	if rep.Card == nil || rep.Card.CO2 == nil || rep.Card.CO2.Emissions != "2" {
		t.Fatalf("card %+v", rep.Card)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Rule != RuleDuplicateKey || !rep.Complete {
		t.Fatalf("findings %+v", rep.Findings)
	}
	// Overriding a merged key is not a duplicate.
	rep = Parse(strings.NewReader("---\nbase: &b {emissions: 1, source: x}\nco2_eq_emissions:\n  <<: *b\n  emissions: 5\n---\n"), Limits{})
	if rep.Card == nil || rep.Card.CO2 == nil || *rep.Card.CO2 != (CO2{Emissions: "5", Source: "x"}) || len(rep.Findings) != 0 {
		t.Fatalf("merge: %+v %+v", rep.Card, rep.Findings)
	}
}

func TestScalarShapes(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		card       *Card
	}{
		{"base_model string", "base_model: org/m\n", &Card{BaseModels: []string{"org/m"}}},
		{"datasets list", "datasets: [a, b, a]\n", &Card{Datasets: []string{"a", "b"}}},
		{"language string", "language: fr\n", &Card{Languages: []string{"fr"}}},
		{"norwegian scalar", "language: no\n", &Card{Languages: []string{"no"}}},
		{"tags as one string", "tags: single\n", &Card{Tags: []string{"single"}}},
		{"license mapping skipped", "license: {name: x}\n", &Card{}},
		{"license number", "license: 2\n", &Card{License: "2"}},
		{"license empty list", "license: []\n", &Card{}},
		{"license list of junk", "license: [[a], {b: c}, ~]\n", &Card{}},
		{"null values", "license:\nbase_model: ~\ntags:\n", &Card{}},
		{"co2 empty object", "co2_eq_emissions: {}\n", &Card{}},
		{"co2 null", "co2_eq_emissions: ~\n", &Card{}},
		{"co2 list skipped", "co2_eq_emissions: [1, 2]\n", &Card{}},
		{"co2 object without emissions", "co2_eq_emissions: {source: codecarbon}\n", &Card{CO2: &CO2{Source: "codecarbon"}}},
		{"co2 integer", "co2_eq_emissions: 149200\n", &Card{CO2: &CO2{Emissions: "149200"}}},
		{"co2 float exponent", "co2_eq_emissions: 2.5e+21\n", &Card{CO2: &CO2{Emissions: "2.5e+21"}}},
		{"co2 nan", "co2_eq_emissions: .nan\n", &Card{CO2: &CO2{Emissions: "NaN"}}},
		{"co2 negative inf", "co2_eq_emissions: -.inf\n", &Card{CO2: &CO2{Emissions: "-Inf"}}},
		{"integer key ignored", "1: license\nlicense: mit\n", &Card{License: "mit"}},
		{"case matters", "License: mit\nLICENSE: apache-2.0\n", &Card{}},
		{"extra_gated key", "extra_gated_heading: Access\n", &Card{ExtraGated: true}},
		{"model-index not a list", "model-index: {name: x}\n", &Card{}},
		{"model-index name only", "model-index:\n- name: m\n", &Card{ModelName: "m"}},
		{"timestamp stays text", "license_name: 2024-07-23\n", &Card{LicenseName: "2024-07-23"}},
		{"binary tag", "license_name: !!binary aGFsbG1hcms=\n", &Card{LicenseName: "hallmark"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Parse(strings.NewReader("---\n"+tc.yaml+"---\n"), Limits{})
			if !reflect.DeepEqual(rep.Card, tc.card) || len(rep.Findings) != 0 || !rep.Complete {
				got, _ := json.Marshal(rep.Card)
				t.Fatalf("card %s findings %+v", got, rep.Findings)
			}
		})
	}
}

func TestStringCaps(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6000 bytes
	y := fmt.Sprintf("license: %s\nlicense_link: %s\ntags: [%s]\nco2_eq_emissions: {source: %q}\n", long, long, long, "a\x00b\x1bc\u2028d\u2066e\ufefff")
	rep := Parse(strings.NewReader("---\n"+y+"---\n"), Limits{})
	c := rep.Card
	if c == nil {
		t.Fatalf("no card: %+v", rep.Findings)
	}
	if !strings.HasSuffix(c.License, "…") || len(c.License) > maxID+len("…") || !utf8.ValidString(c.License) {
		t.Errorf("license %d bytes", len(c.License))
	}
	if !strings.HasSuffix(c.LicenseLink, "…") || len(c.LicenseLink) > maxText+len("…") || len(c.LicenseLink) < maxText-1 {
		t.Errorf("license_link %d bytes", len(c.LicenseLink))
	}
	if len(c.Tags) != 1 || len(c.Tags[0]) > maxID+len("…") {
		t.Errorf("tags %v", c.Tags)
	}
	if c.CO2 == nil || c.CO2.Source != "abc def" {
		t.Errorf("co2 %+v", c.CO2)
	}
	// A string far beyond any cap is cut before it is cleaned.
	huge := strings.Repeat("x", 500000)
	if got := clean(huge, maxID); got != strings.Repeat("x", maxID)+"…" {
		t.Errorf("clean(huge) = %d bytes", len(got))
	}
	// Invalid UTF-8 in a cut string stays valid.
	if got := clean("ab\xffcd", 10); got != "ab\uFFFDcd" {
		t.Errorf("clean(invalid) = %q", got)
	}
	if got := clean("  lots \r\n of\t\tspace  ", 100); got != "lots of space" {
		t.Errorf("clean(space) = %q", got)
	}
}

func TestListCaps(t *testing.T) {
	var b strings.Builder
	b.WriteString("---\ntags:\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "- t%d\n", i)
	}
	b.WriteString("model-index:\n- name: m\n  results:\n")
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&b, "  - task: {type: t}\n    dataset: {type: d%d}\n    metrics:\n    - {type: a, value: 1}\n    - {type: b, value: 2}\n", i)
	}
	b.WriteString("---\n")
	rep := Parse(strings.NewReader(b.String()), Limits{MaxList: 4})
	c := rep.Card
	if c == nil || rep.Complete {
		t.Fatalf("got %+v", rep)
	}
	if !reflect.DeepEqual(c.Tags, []string{"t0", "t1", "t2", "t3"}) || len(c.Results) != 4 {
		t.Fatalf("tags %v results %d", c.Tags, len(c.Results))
	}
	if c.Results[3].DatasetType != "d1" || c.Results[3].Metric != "b" {
		t.Fatalf("results %+v", c.Results)
	}
	var where []string
	for _, f := range rep.Findings {
		if f.Rule != RuleLimit || f.Level != finding.Low {
			t.Fatalf("finding %+v", f)
		}
		where = append(where, f.Where)
	}
	if !reflect.DeepEqual(where, []string{"tags", "model-index"}) {
		t.Fatalf("where %v", where)
	}
	// Exactly MaxList entries is complete.
	rep = Parse(strings.NewReader("---\ntags: [a, b, c, d]\n---\n"), Limits{MaxList: 4})
	if !rep.Complete || len(rep.Findings) != 0 || len(rep.Card.Tags) != 4 {
		t.Fatalf("at the cap: %+v", rep)
	}
}

// TestHostileWithinLimits: front matter just under 1 MiB that yaml.v2's
// alias-ratio check lets through must still finish quickly with bounded
// memory, and the string amplifier must be refused.
func TestHostileWithinLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("parses several 1 MiB documents")
	}
	var dense strings.Builder
	dense.WriteString("---\nbig: &big [" + strings.Repeat("x,", 599) + "x]\nplain: [" + strings.Repeat("y,", 449999) + "y]\ntags: [")
	dense.WriteString(strings.Repeat("*big,", 1499) + "*big]\n---\n")
	rep := Parse(strings.NewReader(dense.String()), Limits{})
	checkInvariants(t, rep, DefaultLimits())
	if rep.Card == nil || len(rep.Card.Tags) != 0 { // lists of lists: no tag strings
		t.Fatalf("dense: %+v", rep)
	}

	long := strings.Repeat("A", 200000)
	amp := "---\ns: &s " + long + "\nplain: [" + strings.Repeat("y,", 100000) + "y]\ntags: [" + strings.Repeat("*s,", 100) + "*s]\n---\n"
	rep = Parse(strings.NewReader(amp), Limits{})
	if rep.Card != nil || len(rep.Findings) != 1 || rep.Findings[0].Rule != RuleAliasBomb || rep.Complete {
		t.Fatalf("amplifier: %+v", rep)
	}

	laughs := "---\nl0: &l0 [" + strings.Repeat("a,", 99) + "a]\n"
	for i := 1; i < 8; i++ {
		laughs += fmt.Sprintf("l%d: &l%d [%s*l%d]\n", i, i, strings.Repeat(fmt.Sprintf("*l%d,", i-1), 99), i-1)
	}
	rep = Parse(strings.NewReader(laughs+"---\n"), Limits{})
	if rep.Card != nil || len(rep.Findings) != 1 || rep.Findings[0].Rule != RuleAliasBomb {
		t.Fatalf("laughs: %+v", rep)
	}
}

func TestRules(t *testing.T) {
	ids := map[string]bool{}
	for _, d := range Rules {
		if !strings.HasPrefix(d.ID, "modelcard/") || d.Short == "" || len(d.Help) < 80 || ids[d.ID] {
			t.Errorf("bad doc %+v", d)
		}
		ids[d.ID] = true
	}
	for _, id := range []string{RuleMalformed, RuleTooLarge, RuleAliasBomb, RuleDuplicateKey, RuleLimit} {
		if !ids[id] {
			t.Errorf("rule %s undocumented", id)
		}
	}
	if len(ids) != 5 {
		t.Errorf("%d docs for 5 rules", len(ids))
	}
}

func TestDefaultLimits(t *testing.T) {
	if d := DefaultLimits(); d.MaxFrontMatter != 1<<20 || d.MaxList != 1000 {
		t.Fatalf("%+v", d)
	}
	if (Limits{}).withDefaults() != DefaultLimits() || (Limits{MaxFrontMatter: -1, MaxList: -5}).withDefaults() != DefaultLimits() {
		t.Fatal("zero or negative limits must mean defaults")
	}
	rep := Parse(strings.NewReader("---\nlicense: mit\n---\n"), Limits{MaxFrontMatter: 1<<63 - 1, MaxList: 1<<63 - 1})
	if rep.Card == nil || rep.Card.License != "mit" || len(rep.Findings) != 0 {
		t.Fatalf("huge limits: %+v", rep)
	}
}

// checkInvariants holds for every input.
func checkInvariants(t *testing.T, rep Report, lim Limits) {
	t.Helper()
	known := map[string]bool{}
	for _, d := range Rules {
		known[d.ID] = true
	}
	refused := false
	for _, f := range rep.Findings {
		if !known[f.Rule] || f.Level < finding.Info || f.Level > finding.Critical || f.Message == "" {
			t.Fatalf("bad finding %+v", f)
		}
		if strings.ContainsAny(f.Message+f.Evidence+f.Where, "\n\r\x00") || !utf8.ValidString(f.Evidence) {
			t.Fatalf("finding not one clean line: %q", f.Evidence)
		}
		switch f.Rule {
		case RuleMalformed, RuleTooLarge, RuleAliasBomb:
			refused = true
		}
	}
	if !rep.Complete && len(rep.Findings) == 0 {
		t.Fatal("incomplete without a finding")
	}
	if refused && rep.Card != nil {
		t.Fatal("a refused card must be nil")
	}
	if rep.Card == nil {
		return
	}
	if _, err := json.Marshal(rep.Card); err != nil {
		t.Fatal(err)
	}
	checkStrings(t, reflect.ValueOf(*rep.Card), lim)
}

// checkStrings walks every string and list of a Card.
func checkStrings(t *testing.T, v reflect.Value, lim Limits) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if len(s) > maxText+len("…") || !utf8.ValidString(s) || s != strings.TrimSpace(s) {
			t.Fatalf("string not capped or cleaned: %q", finding.Shorten(s, 80))
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x2028 || r == 0x2029 {
				t.Fatalf("control character %U in %q", r, s)
			}
		}
	case reflect.Slice:
		if v.Len() > lim.MaxList {
			t.Fatalf("list of %d beyond %d", v.Len(), lim.MaxList)
		}
		for i := 0; i < v.Len(); i++ {
			checkStrings(t, v.Index(i), lim)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			checkStrings(t, v.Field(i), lim)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			checkStrings(t, v.Elem(), lim)
		}
	}
}
