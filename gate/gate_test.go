package gate

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/policy"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/source"
	"github.com/hallmarkdev/hallmark/verify"
	"github.com/hallmarkdev/hallmark/verify/manifest"
)

func TestFileFormats(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    scan.FileResult
		want []string
	}{
		{"safetensors from PyTorch is not a PyTorch checkpoint", scan.FileResult{Format: "safetensors", Facts: &scan.Facts{Format: "safetensors", Framework: "pytorch", WeightFormats: []string{"safetensors"}}}, []string{"safetensors"}},
		{"a torch zip", scan.FileResult{Format: "zip", Facts: &scan.Facts{Format: "zip", Framework: "pytorch", PickleStreams: 1, Contains: []string{"pickle"}}}, []string{"pickle", "pickle-based", "pytorch", "zip"}},
		{"a bare pickle", scan.FileResult{Format: "pickle"}, []string{"pickle", "pickle-based"}},
		{"a GGUF in a tar layer", scan.FileResult{Format: "tar", Facts: &scan.Facts{Format: "tar", WeightFormats: []string{"gguf"}, Contains: []string{"gguf"}}}, []string{"gguf", "tar"}},
		{"joblib, zlib-compressed", scan.FileResult{Format: "zlib", Facts: &scan.Facts{Format: "zlib", Framework: "joblib", PickleStreams: 1, Contains: []string{"pickle"}}}, []string{"joblib", "pickle", "pickle-based", "zlib"}},
		{"joblib by its globals", scan.FileResult{Format: "pickle", Facts: &scan.Facts{Format: "pickle", Framework: "scikit-learn", Globals: []string{"joblib.numpy_pickle.NumpyArrayWrapper"}}}, []string{"joblib", "pickle", "pickle-based"}},
		{"a pickle in a gzip", scan.FileResult{Format: "gzip", Facts: &scan.Facts{Format: "gzip", Contains: []string{"pickle"}}}, []string{"gzip", "pickle", "pickle-based"}},
		{"an npz", scan.FileResult{Format: "zip", Facts: &scan.Facts{Format: "zip", Contains: []string{"numpy"}}}, []string{"numpy", "zip"}},
		{"a .keras zip", scan.FileResult{Format: "zip", Facts: &scan.Facts{Format: "zip", Framework: "keras", Contains: []string{"hdf5", "json"}}}, []string{"hdf5", "json", "keras", "zip"}},
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

// sign writes dir/model.sig over dir with the OMS test-vector key.
func sign(t *testing.T, dir string) []byte {
	t.Helper()
	keyPEM, err := os.ReadFile(filepath.Join("..", "verify", "testdata", "vectors", "keys", "certificate", "signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join("..", "verify", "testdata", "vectors", "keys", "certificate", "signing-key-pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := verify.NewKeySigner(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Compute(context.Background(), dir, manifest.Options{IgnoreGitPaths: true})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := manifest.Statement(m, manifest.SubjectName(dir))
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := verify.Sign(payload, signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.sig"), bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	return pub
}

// A signed file that is not there while the scan reads the folder, and
// is back when the signature is checked, must not pass: it was verified
// but never scanned.
func TestSignedFileAppearsAfterTheScan(t *testing.T) {
	dir := t.TempDir()
	evil, err := os.ReadFile(filepath.Join("..", "testdata", "pickles", "malicious", "g_os_system_p2.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type":"llama"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "evil.pkl"), evil, 0o644)
	pub := sign(t, dir)
	hidden := filepath.Join(t.TempDir(), "evil.pkl")
	if err := os.Rename(filepath.Join(dir, "evil.pkl"), hidden); err != nil {
		t.Fatal(err)
	}
	cfg := Config{FailOn: scan.Medium, Required: true, Signers: []Signer{{Name: "test key", Trust: verify.WithPublicKey(pub)}},
		IgnorePaths: []string{"model.sig"},
		Progress: func(done, total int, _ int64) {
			if done == total {
				os.Rename(hidden, filepath.Join(dir, "evil.pkl")) // back after the last file was scanned
			}
		}}
	out, err := Check(context.Background(), dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Failed() || !strings.Contains(strings.Join(out.Gate.Reasons, " "), "were not the bytes the scan read") {
		t.Fatalf("verdict %s, reasons %q", out.Gate.Verdict, out.Gate.Reasons)
	}
	// The same folder, untouched: the signature verifies over the scanned
	// bytes, and the scan sees the payload.
	cfg.Progress = nil
	out, err = Check(context.Background(), dir, cfg)
	if err != nil || out.Gate.Signature == nil || !out.Gate.Signature.Verified || len(out.Gate.Reasons) != 1 || !strings.Contains(out.Gate.Reasons[0], "pickle/dangerous-call") {
		t.Fatalf("untouched: %v %+v %q", err, out.Gate.Signature, out.Gate.Reasons)
	}
}
