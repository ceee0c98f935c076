package gate

import (
	"reflect"
	"testing"

	"github.com/hallmarkdev/hallmark/policy"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/source"
)

func TestFileFormats(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    scan.FileResult
		want []string
	}{
		{"safetensors from PyTorch is not a PyTorch checkpoint", scan.FileResult{Format: "safetensors", Facts: &scan.Facts{Format: "safetensors", Framework: "pytorch", WeightFormats: []string{"safetensors"}}}, []string{"safetensors"}},
		{"a torch zip", scan.FileResult{Format: "zip", Facts: &scan.Facts{Format: "zip", Framework: "pytorch", PickleStreams: 1}}, []string{"pickle-based", "pytorch", "zip"}},
		{"a bare pickle", scan.FileResult{Format: "pickle"}, []string{"pickle", "pickle-based"}},
		{"a GGUF in a tar layer", scan.FileResult{Format: "tar", Facts: &scan.Facts{Format: "tar", WeightFormats: []string{"gguf"}}}, []string{"gguf", "tar"}},
		{"joblib", scan.FileResult{Format: "zlib", Facts: &scan.Facts{Format: "zlib", Framework: "joblib", PickleStreams: 1}}, []string{"pickle-based", "zlib"}},
	} {
		if got := FileFormats(&tc.f); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAdmit(t *testing.T) {
	art := &source.Artifact{Files: []source.File{{Path: "a", Size: 10}, {Path: "b", Size: 3 << 30}}}
	for _, tc := range []struct {
		l    policy.SizeLimits
		want string
	}{
		{policy.SizeLimits{}, ""},
		{policy.SizeLimits{MaxFiles: 1}, "2 files, more than the policy's limits.max-files 1"},
		{policy.SizeLimits{MaxFileSize: 1 << 30}, "b is 3.0 GiB, more than the policy's limits.max-file-size 1.0 GiB"},
		{policy.SizeLimits{MaxTotalSize: 2 << 30}, "the model is 3.0 GiB, more than the policy's limits.max-total-size 2.0 GiB"},
	} {
		if got := admit(tc.l, art); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.l, got, tc.want)
		}
	}
}
