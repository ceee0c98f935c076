package policy_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/policy"
)

func TestFormatsCheck(t *testing.T) {
	var (
		denyPickles  = policy.Formats{Deny: []string{"pickle-based"}}
		denyPickle   = policy.Formats{Deny: []string{"pickle"}}
		denyArchives = policy.Formats{Deny: []string{"archives"}}
		safeOnly     = policy.Formats{Allow: []string{"safetensors", "gguf", "json", "text"}}
		full         = policy.Formats{Deny: []string{"pickle-based"}, Allow: []string{"safetensors", "gguf", "json", "text"}}
		torch        = policy.Formats{Allow: []string{"pytorch"}}
		numpy        = policy.Formats{Allow: []string{"numpy"}}
		pickles      = policy.Formats{Allow: []string{"pickle-based"}}
		archives     = policy.Formats{Allow: []string{"archives"}}
		zipOnly      = policy.Formats{Allow: []string{"zip"}}
		keras        = policy.Formats{Allow: []string{"keras"}}
		joblib       = policy.Formats{Allow: []string{"joblib"}}
		both         = policy.Formats{Allow: []string{"pytorch"}, Deny: []string{"pytorch"}}
	)
	const (
		deniedPB   = "format pickle-based is denied by the policy (formats.deny)"
		deniedP    = "format pickle is denied by the policy (formats.deny)"
		deniedArch = "format archives is denied by the policy (formats.deny)"
	)
	tests := []struct {
		name    string
		f       policy.Formats
		formats []string
		want    string
	}{
		{"no policy", policy.Formats{}, []string{"pickle"}, ""},
		{"no formats", full, nil, ""},

		// deny
		{"deny group: pickle", denyPickles, []string{"pickle"}, deniedPB},
		{"deny group: pytorch", denyPickles, []string{"zip", "pytorch"}, deniedPB},
		{"deny group: joblib", denyPickles, []string{"joblib", "zlib"}, deniedPB},
		{"deny group: marked by scanner", denyPickles, []string{"numpy", "pickle-based"}, deniedPB},
		{"deny group: example from the brief", denyPickles, []string{"zip", "pytorch", "pickle-based"}, deniedPB},
		{"deny group: plain numpy passes", denyPickles, []string{"numpy"}, ""},
		{"deny group: safetensors passes", denyPickles, []string{"safetensors"}, ""},
		{"deny pickle: pytorch holds one", denyPickle, []string{"zip", "pytorch"}, deniedP},
		{"deny pickle: numpy object array is not a pickle file", denyPickle, []string{"numpy", "pickle-based"}, ""},
		{"deny archives: zip", denyArchives, []string{"zip"}, deniedArch},
		{"deny archives: zlib", denyArchives, []string{"zlib", "joblib"}, deniedArch},
		{"deny archives: 7z", denyArchives, []string{"7z"}, deniedArch},
		{"deny archives: gguf passes", denyArchives, []string{"gguf"}, ""},
		{"deny single format", policy.Formats{Deny: []string{"onnx"}}, []string{"onnx"}, "format onnx is denied by the policy (formats.deny)"},
		{"deny names the first deny entry that matches", policy.Formats{Deny: []string{"zip", "pytorch"}}, []string{"pytorch", "zip"}, "format zip is denied by the policy (formats.deny)"},
		{"deny wins over allow", both, []string{"pytorch"}, "format pytorch is denied by the policy (formats.deny)"},
		{"deny applies to non-model formats", policy.Formats{Deny: []string{"python"}}, []string{"python"}, "format python is denied by the policy (formats.deny)"},

		// allow
		{"allow: listed", safeOnly, []string{"safetensors"}, ""},
		{"allow: gguf", safeOnly, []string{"gguf"}, ""},
		{"allow: not listed", safeOnly, []string{"onnx"}, "format onnx is not in formats.allow"},
		{"allow: configs pass", safeOnly, []string{"json"}, ""},
		{"allow: code passes", safeOnly, []string{"python"}, ""},
		{"allow: templates pass", safeOnly, []string{"jinja"}, ""},
		{"allow: unknown passes", safeOnly, []string{"unknown"}, ""},
		{"allow: text passes a list without text", policy.Formats{Allow: []string{"onnx"}}, []string{"text"}, ""},
		{"allow: names the most specific", safeOnly, []string{"zip", "pytorch", "pickle-based"}, "format pytorch is not in formats.allow"},
		{"allow: deny first", full, []string{"zip", "pytorch", "pickle-based"}, deniedPB},
		{"allow: full, safetensors", full, []string{"safetensors"}, ""},
		{"allow: full, tensorflow", full, []string{"tensorflow"}, "format tensorflow is not in formats.allow"},
		{"allow: one format in the list is enough only if all are", safeOnly, []string{"safetensors", "onnx"}, "format onnx is not in formats.allow"},
		{"allow pytorch: its zip and pickle", torch, []string{"zip", "pytorch", "pickle-based"}, ""},
		{"allow pytorch: legacy tar", torch, []string{"tar", "pytorch", "pickle"}, ""},
		{"allow pytorch: a bare pickle is not pytorch", torch, []string{"pickle"}, "format pickle is not in formats.allow"},
		{"allow pytorch: a zip holding a pickle is not pytorch", torch, []string{"zip", "pickle"}, "format pickle is not in formats.allow"},
		{"allow numpy: plain", numpy, []string{"numpy"}, ""},
		{"allow numpy: npz", numpy, []string{"zip", "numpy"}, ""},
		{"allow numpy: object array needs pickles allowed", numpy, []string{"numpy", "pickle-based"}, "format pickle-based is not in formats.allow"},
		{"allow numpy and pickle-based: object array", policy.Formats{Allow: []string{"numpy", "pickle-based"}}, []string{"numpy", "pickle-based"}, ""},
		{"allow numpy and pickle: object array", policy.Formats{Allow: []string{"numpy", "pickle"}}, []string{"numpy", "pickle-based"}, ""},
		{"allow pickle-based: pytorch is in the group, with its zip", pickles, []string{"zip", "pytorch", "pickle-based"}, ""},
		{"allow pickle-based: a zip holding a pickle", pickles, []string{"zip", "pickle"}, "format zip is not in formats.allow"},
		{"allow pickle-based: joblib", pickles, []string{"joblib"}, ""},
		{"allow pickle-based: pickle", pickles, []string{"pickle"}, ""},
		{"allow zip: a zip holding a pickle", zipOnly, []string{"zip", "pickle", "pickle-based"}, "format pickle is not in formats.allow"},
		{"allow zip: pytorch", zipOnly, []string{"zip", "pytorch"}, "format pytorch is not in formats.allow"},
		{"allow zip: plain zip", zipOnly, []string{"zip"}, ""},
		{"allow archives: gzip", archives, []string{"gzip"}, ""},
		{"allow archives: label only", archives, []string{"archives"}, ""},
		{"allow archives: archive of safetensors", archives, []string{"tar", "safetensors"}, "format safetensors is not in formats.allow"},
		{"allow safetensors: label without member", safeOnly, []string{"archives"}, "format archives is not in formats.allow"},
		{"allow keras: zip", keras, []string{"zip", "keras"}, ""},
		{"allow keras: hdf5", keras, []string{"hdf5", "keras"}, ""},
		{"allow keras: hdf5 alone", keras, []string{"hdf5"}, "format hdf5 is not in formats.allow"},
		{"allow joblib: compressed", joblib, []string{"zlib", "joblib", "pickle-based"}, ""},
		{"allow: a name Check does not know fails closed", safeOnly, []string{"link"}, "format link is not in formats.allow"},
		{"allow: unknown names are one line", safeOnly, []string{"a\nb"}, `format "a\nb" is not in formats.allow`},
		{"deny: a name Check does not know passes", denyPickles, []string{"link"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Check(tt.formats); got != tt.want {
				t.Errorf("%+v.Check(%q) = %q, want %q", tt.f, tt.formats, got, tt.want)
			}
		})
	}
}

// Check gives the same answer through a parsed policy.
func TestFormatsFromPolicy(t *testing.T) {
	p, err := policy.Parse([]byte("version: 1\nformats:\n  deny: [pickle-based]\n  allow: [safetensors, gguf, json, text]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Formats.Check([]string{"zip", "pytorch", "pickle-based"}); got != "format pickle-based is denied by the policy (formats.deny)" {
		t.Errorf("pytorch: %q", got)
	}
	if got := p.Formats.Check([]string{"onnx"}); got != "format onnx is not in formats.allow" {
		t.Errorf("onnx: %q", got)
	}
	if got := p.Formats.Check([]string{"gguf"}); got != "" {
		t.Errorf("gguf: %q", got)
	}
}

func TestSuppressionMatches(t *testing.T) {
	tests := []struct {
		s          policy.Suppression
		rule, path string
		want       bool
	}{
		{policy.Suppression{Rule: "pickle/unknown-global"}, "pickle/unknown-global", "model.pkl", true},
		{policy.Suppression{Rule: "pickle/unknown-global"}, "pickle/unknown-global", "a/b/c.pkl", true},
		{policy.Suppression{Rule: "pickle/unknown-global"}, "pickle/unknown-call", "model.pkl", false},
		{policy.Suppression{Rule: "pickle/unknown-global"}, "pickle/unknown-global-x", "model.pkl", false},
		{policy.Suppression{Rule: "pickle/unknown-global", Path: "legacy/*.pkl"}, "pickle/unknown-global", "legacy/old.pkl", true},
		{policy.Suppression{Rule: "pickle/unknown-global", Path: "legacy/*.pkl"}, "pickle/unknown-global", "legacy/sub/old.pkl", false},
		{policy.Suppression{Rule: "pickle/unknown-global", Path: "legacy/*.pkl"}, "pickle/unknown-global", "old.pkl", false},
		{policy.Suppression{Rule: "pickle/unknown-global", Path: "legacy/*.pkl"}, "pickle/unknown-global", "other/legacy/old.pkl", false},
		{policy.Suppression{Rule: "pickle/unknown-global", Path: "legacy/*.pkl"}, "pickle/unknown-call", "legacy/old.pkl", false},
		{policy.Suppression{Rule: "zip/gap", Path: "model-?.zip"}, "zip/gap", "model-1.zip", true},
		{policy.Suppression{Rule: "zip/gap", Path: "model-?.zip"}, "zip/gap", "model-10.zip", false},
		{policy.Suppression{Rule: "zip/gap", Path: "model-[0-9].zip"}, "zip/gap", "model-7.zip", true},
		{policy.Suppression{Rule: "zip/gap", Path: "model.zip"}, "zip/gap", "model.zip", true},
		{policy.Suppression{Rule: "zip/gap", Path: "model.zip"}, "zip/gap", "Model.zip", false},
		{policy.Suppression{Rule: "zip/gap", Path: "*"}, "zip/gap", "a/model.zip", false},
		{policy.Suppression{Rule: "zip/gap", Path: "*/*"}, "zip/gap", "a/model.zip", true},
		{policy.Suppression{Rule: "zip/gap", Path: "[bad"}, "zip/gap", "[bad", false},
	}
	for _, tt := range tests {
		if got := tt.s.Matches(tt.rule, tt.path); got != tt.want {
			t.Errorf("%+v.Matches(%q, %q) = %v, want %v", tt.s, tt.rule, tt.path, got, tt.want)
		}
	}
}

func TestSuppressionExpired(t *testing.T) {
	p, err := policy.Parse([]byte("version: 1\nsuppress:\n  - rule: zip/gap\n    reason: r\n    expires: 2027-01-31\n  - rule: zip/gap\n    reason: r\n    expires: \"2027-01-31T10:00:00+02:00\"\n  - rule: zip/gap\n    reason: r\n"))
	if err != nil {
		t.Fatal(err)
	}
	day, at, never := p.Suppress[0], p.Suppress[1], p.Suppress[2]
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		s    policy.Suppression
		now  string
		want bool
	}{
		{day, "2027-01-30T12:00:00Z", false},
		{day, "2027-01-31T00:00:00Z", false},
		{day, "2027-01-31T23:59:59.999999999Z", false},
		{day, "2027-02-01T00:00:00Z", true},
		// The day ends in UTC, wherever the gate runs.
		{day, "2027-01-31T23:30:00-01:00", true},
		{day, "2027-02-01T00:30:00+01:00", false},
		{at, "2027-01-31T07:59:59Z", false},
		{at, "2027-01-31T08:00:00Z", false},
		{at, "2027-01-31T08:00:00.000000001Z", true},
		{never, "9999-12-31T23:59:59Z", false},
	}
	for _, tt := range tests {
		if got := tt.s.Expired(utc(tt.now)); got != tt.want {
			t.Errorf("%s expiring %v: Expired(%s) = %v, want %v", tt.s.Source, tt.s.Expires, tt.now, got, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "1", want: 1},
		{in: "1024", want: 1024},
		{in: "007", want: 7},
		{in: "1B", want: 1},
		{in: "1KB", want: 1000},
		{in: "1MB", want: 1e6},
		{in: "1GB", want: 1e9},
		{in: "1TB", want: 1e12},
		{in: "1KiB", want: 1 << 10},
		{in: "1MiB", want: 1 << 20},
		{in: "20GiB", want: 20 << 30},
		{in: "200GiB", want: 200 << 30},
		{in: "3TiB", want: 3 << 40},
		{in: "512 MB", want: 512e6},
		{in: "9223372036854775807", want: math.MaxInt64},
		{in: "9223372036854775807B", want: math.MaxInt64},
		{in: "8388607TiB", want: 8388607 << 40},
		{in: "9223372036854775808", wantErr: "too large"},
		{in: "8388608TiB", wantErr: "too large"},
		{in: "99999999999999999999999GiB", wantErr: "too large"},
		{in: "", wantErr: "is not a size"},
		{in: "GiB", wantErr: "is not a size"},
		{in: "-1", wantErr: "is not a size"},
		{in: "+1", wantErr: "is not a size"},
		{in: "1.5GiB", wantErr: "is not a size"},
		{in: "1e9", wantErr: "is not a size"},
		{in: "20gib", wantErr: "is not a size"},
		{in: "20Gib", wantErr: "is not a size"},
		{in: "20 gigabytes", wantErr: "is not a size"},
		{in: "1PB", wantErr: "is not a size"},
		{in: "1PiB", wantErr: "is not a size"},
		{in: "1  GiB", wantErr: "is not a size"},
		{in: " 1GiB", wantErr: "is not a size"},
		{in: "1GiB ", wantErr: "is not a size"},
		{in: "1\tGiB", wantErr: "is not a size"},
		{in: "1_000", wantErr: "is not a size"},
		{in: "١٢", wantErr: "is not a size"},
		{in: strings.Repeat("9", 5000), wantErr: "too large"},
	}
	for _, tt := range tests {
		got, err := policy.ParseSize(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSize(%q) = %d, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			if err != nil && len(err.Error()) > 300 {
				t.Errorf("ParseSize(%q): error of %d bytes", tt.in, len(err.Error()))
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}
