package tfgraph

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

func documented(rule string) bool {
	for _, d := range Rules {
		if d.ID == rule {
			return d.Short != "" && d.Help != ""
		}
	}
	return false
}

func checkInvariants(t *testing.T, data []byte, r Report, lim Limits) {
	t.Helper()
	if !r.Complete && len(r.Findings) == 0 {
		t.Fatal("Complete=false without a finding")
	}
	for _, f := range r.Findings {
		if f.Rule == "" || f.Level < finding.Info || f.Level > finding.Critical || f.Message == "" || !documented(f.Rule) {
			t.Fatalf("bad finding %+v", f)
		}
		if f.Offset < -1 || f.Offset > int64(len(data)) {
			t.Fatalf("offset %d outside the file (%d bytes): %+v", f.Offset, len(data), f)
		}
	}
	lim = lim.withDefaults()
	if len(r.Ops) > lim.MaxOps || len(r.Tags) > lim.MaxList || len(r.SignatureDefs) > lim.MaxList || len(r.KerasMetadata) > lim.MaxKerasMetadata {
		t.Fatalf("a fact grew past its cap: %+v", r)
	}
	total := 0
	for _, md := range r.KerasMetadata {
		if len(md) > lim.MaxKerasBytes {
			t.Fatalf("metadata of %d bytes", len(md))
		}
		total += len(md)
	}
	if total > lim.MaxKerasTotal {
		t.Fatalf("metadata total %d bytes", total)
	}
}

var allKinds = []string{KindSavedModel, KindGraphDef, KindMetaGraph, KindKerasMetadata, KindFingerprint}

// FuzzTF: Kind, Scan and ScanKind (every kind) never panic and keep their
// invariants, with default and with tiny limits.
func FuzzTF(f *testing.F) {
	filepath.Walk(corpusDir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && (strings.HasSuffix(p, ".pb") || strings.HasSuffix(p, ".meta")) {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
		return nil
	})
	f.Add([]byte{})
	f.Add(savedModel(constStr("b", "gs://evil/"), mkNode("j", "StringJoin", []string{"b", "j"}), mkNode("s", "SaveV2", []string{"j"})))
	f.Add(savedModel(mkNode("i", "Identity", []string{"i"}), mkNode("r", "ReadFile", []string{"i"})))
	f.Add(savedModel(mkNode("c", "PartitionedCall", nil, attr("f", sub(avFunc, st(1, "PyFunc"), sub(2, st(1, "k"), sub(2, sub(avList, sub(listFunc, st(1, "ReadFile"))))))))))
	f.Add(append(msg(vi(1, 1)), 0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f))
	f.Add(msg(vi(1, 5), vi(2, 6), vi(3, 7), sub(6, vi(1, 1)), st(7, "uuid")))
	f.Fuzz(func(t *testing.T, data []byte) {
		Kind(data, int64(len(data)))
		r := Scan(bytes.NewReader(data), int64(len(data)), Limits{})
		checkInvariants(t, data, r, Limits{})
		small := Limits{MaxDepth: 1, MaxNodes: 5, MaxFunctions: 2, MaxMetaGraphs: 1, MaxOps: 2, MaxList: 1,
			MaxKerasMetadata: 1, MaxKerasBytes: 16, MaxKerasTotal: 20, MaxStringBytes: 8, MaxInputs: 2, MaxEvalNodes: 2,
			MaxEvalBytes: 16, MaxPending: 1}
		for _, k := range allKinds {
			r = ScanKind(bytes.NewReader(data), int64(len(data)), k, Limits{})
			checkInvariants(t, data, r, Limits{})
			r = ScanKind(bytes.NewReader(data), int64(len(data)), k, small)
			checkInvariants(t, data, r, small)
		}
	})
}
