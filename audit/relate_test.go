package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ONNX external data is checked against the folder: a sibling that is a
// link is high (the runtime follows it), a missing one medium, a regular
// file fine.
func TestONNXExternalDataFolder(t *testing.T) {
	model, err := os.ReadFile("../testdata/onnx/benign/external_data/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	weights, err := os.ReadFile("../testdata/onnx/benign/external_data/weights.bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		setup   func(dir string) error
		rule    string
		atLeast string
	}{
		{"regular file", func(dir string) error { return os.WriteFile(filepath.Join(dir, "weights.bin"), weights, 0o644) }, "", ""},
		{"link", func(dir string) error { return os.Symlink("/etc/hostname", filepath.Join(dir, "weights.bin")) }, "onnx/external-data-link", "high"},
		{"missing", func(dir string) error { return nil }, "onnx/external-data-missing", "medium"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := c.setup(dir); err != nil {
				t.Fatal(err)
			}
			res, err := Run(context.Background(), []string{dir}, Config{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range res.Findings() {
				if c.rule != "" && f.Rule == c.rule && f.Severity.String() == c.atLeast {
					found = true
				}
			}
			if c.rule == "" {
				if m := res.max(); m.String() != "info" && m != 0 {
					t.Errorf("regular external data flagged at %s:%s", m, describe(res))
				}
				return
			}
			if !found {
				t.Errorf("no %s at %s:%s", c.rule, c.atLeast, describe(res))
			}
		})
	}
}

// External data reached through a linked directory (weights -> /etc) is
// the same as naming the link.
func TestONNXExternalDataThroughLinkedDir(t *testing.T) {
	src, err := os.ReadFile("../testdata/onnx/benign/external_data/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	// Point the model's location at sub/wts.bin (same length, so the
	// protobuf stays valid) and make sub a link.
	model := []byte(strings.Replace(string(src), "weights.bin", "sub/wts.bin", 1))
	if string(model) == string(src) {
		t.Skip("fixture's location has another name")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(os.TempDir(), filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), []string{dir}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings() {
		if f.Rule == "onnx/external-data-link" && f.Severity.String() == "high" {
			return
		}
	}
	t.Errorf("no high onnx/external-data-link:%s", describe(res))
}
