package onnx

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
	"google.golang.org/protobuf/encoding/protowire"
)

// A tiny protobuf builder for hand-made models.
type fld func([]byte) []byte

func msg(fs ...fld) []byte {
	var b []byte
	for _, f := range fs {
		b = f(b)
	}
	return b
}
func vi(n protowire.Number, v uint64) fld {
	return func(b []byte) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, n, protowire.VarintType), v)
	}
}
func by(n protowire.Number, v []byte) fld {
	return func(b []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, n, protowire.BytesType), v)
	}
}
func st(n protowire.Number, v string) fld   { return by(n, []byte(v)) }
func sub(n protowire.Number, fs ...fld) fld { return by(n, msg(fs...)) }
func raw(v []byte) fld                      { return func(b []byte) []byte { return append(b, v...) } }

func kv(n protowire.Number, k, v string) fld { return sub(n, st(1, k), st(2, v)) }

func model(graph ...fld) []byte {
	return msg(vi(1, 8), st(2, "test"), sub(7, graph...), sub(8, vi(2, 15)))
}

func scanBytes(b []byte, lim Limits) Report {
	return Scan(bytes.NewReader(b), int64(len(b)), lim)
}

func hasRule(r Report, rule string, min finding.Level) bool {
	for _, f := range r.Findings {
		if f.Rule == rule && f.Level >= min {
			return true
		}
	}
	return false
}

func extTensor(name, loc string, more ...fld) fld {
	fs := []fld{vi(1, 4), vi(1, 4), vi(2, 1), st(8, name), kv(13, "location", loc)}
	fs = append(fs, more...)
	fs = append(fs, vi(14, 1))
	return sub(5, fs...)
}

func TestLocationProblem(t *testing.T) {
	tests := []struct {
		loc   string
		level finding.Level
		want  string
	}{
		{"weights.bin", 0, ""},
		{"sub/dir/weights.bin", 0, ""},
		{"a/../b", 0, ""},
		{"./model.onnx.data", 0, ""},
		{"a/../../x", finding.High, "climbs"},
		{"../x", finding.High, "climbs"},
		{`a\..\..\x`, finding.High, "climbs"},
		{"/etc/passwd", finding.High, "absolute"},
		{"/dev/zero", finding.High, "device"},
		{"/proc/self/environ", finding.High, "device"},
		{`C:\Windows\win.ini`, finding.High, "drive"},
		{"c:foo", finding.High, "drive"},
		{`\\server\share\x`, finding.High, "UNC"},
		{"//server/share", finding.High, "UNC"},
		{`\Windows\x`, finding.High, "absolute"},
		{"w.bin\x00/../../../etc/passwd", finding.High, "NUL"},
		{"", finding.Medium, "empty"},
	}
	for _, tc := range tests {
		got, lvl := LocationProblem(tc.loc)
		if lvl != tc.level || !strings.Contains(got, tc.want) || (tc.want == "") != (got == "") {
			t.Errorf("LocationProblem(%q) = %q, %v; want %q, %v", tc.loc, got, lvl, tc.want, tc.level)
		}
	}
}

func TestScanCases(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		lim      Limits
		rule     string
		level    finding.Level
		complete bool
	}{
		{"empty file", nil, Limits{}, RuleMalformed, finding.High, false},
		{"no graph", msg(vi(1, 8), st(2, "x")), Limits{}, RuleMalformed, finding.High, false},
		{"2^63 length", append(msg(vi(1, 8)), 0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), Limits{}, RuleMalformed, finding.High, false},
		{"bad varint", append(msg(vi(1, 8)), 0x28, 0xff), Limits{}, RuleMalformed, finding.High, false},
		{"external absolute", model(extTensor("w", "/etc/passwd")), Limits{}, RuleExternalPath, finding.High, true},
		{"external EXTERNAL without location", model(sub(5, vi(1, 2), vi(2, 1), st(8, "w"), vi(14, 1))), Limits{}, RuleExternalValue, finding.Medium, true},
		{"external offset negative", model(extTensor("w", "w.bin", kv(13, "offset", "-1"))), Limits{}, RuleExternalValue, finding.Medium, true},
		{"external unknown data_location", model(sub(5, vi(1, 2), vi(2, 1), st(8, "w"), kv(13, "location", "w.bin"), vi(14, 7))), Limits{}, RuleExternalValue, finding.Medium, true},
		{"negative dim", model(sub(5, vi(1, 1<<64-1), vi(2, 1), st(8, "w"))), Limits{}, RuleBadTensor, finding.Medium, true},
		{"overflowing dims", model(sub(5, vi(1, 1<<62), vi(1, 1<<62), vi(2, 1), st(8, "w"))), Limits{}, RuleBadTensor, finding.Medium, true},
		{"raw_data short", model(sub(5, vi(1, 4), vi(2, 1), st(8, "w"), by(9, make([]byte, 8)))), Limits{}, RuleTensorSize, finding.Medium, true},
		{"huge doc_string", msg(vi(1, 8), st(6, strings.Repeat("A", 2000)), sub(7, st(2, "g"))), Limits{MaxTextBytes: 1000}, RuleLargeText, finding.Low, true},
		{"huge metadata", msg(vi(1, 8), sub(7, st(2, "g")), kv(14, "k", strings.Repeat("A", 2000))), Limits{MaxTextBytes: 1000}, RuleLargeText, finding.Low, true},
		{"node cap", model(sub(1, st(4, "Relu")), sub(1, st(4, "Relu")), sub(1, st(4, "Relu"))), Limits{MaxNodes: 2}, RuleLimit, finding.High, false},
		{"tensor cap", model(sub(5, st(8, "a")), sub(5, st(8, "b"))), Limits{MaxTensors: 1}, RuleLimit, finding.High, false},
		{"custom domain", model(sub(1, st(4, "Evil"), st(7, "org.evil"))), Limits{}, RuleCustomDomain, finding.Medium, true},
		{"ai.onnx.contrib native op", model(sub(1, st(4, "StringSplit"), st(7, "ai.onnx.contrib"))), Limits{}, RuleCustomDomain, finding.Medium, true},
		{"contrib sub-domain", model(sub(1, st(4, "Conv"), st(7, "com.microsoft.nchwc"))), Limits{}, RuleContribDomain, finding.Info, true},
		{"PyFunc in any domain", model(sub(1, st(4, "PyFunc"), st(7, "my.ops"))), Limits{}, RulePythonOp, finding.High, true},
		// Domain and attributes before the name: the walk does not depend on field order.
		{"reordered node fields", model(sub(1, st(7, "ai.onnx.contrib"), sub(5, st(1, "t"), sub(5, kv(13, "location", "../x"), vi(14, 1))), st(4, "PyOp"), st(3, "n"))), Limits{}, RuleExternalPath, finding.High, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scanBytes(tc.data, tc.lim)
			if !hasRule(r, tc.rule, tc.level) {
				t.Fatalf("no %s >= %s in %+v", tc.rule, tc.level, r.Findings)
			}
			if r.Complete != tc.complete {
				t.Fatalf("Complete = %v, want %v", r.Complete, tc.complete)
			}
		})
	}
}

func TestReorderedNodeWhere(t *testing.T) {
	r := scanBytes(model(sub(1, st(7, "ai.onnx.contrib"), st(4, "PyOp"), st(3, "late_name"))), Limits{})
	if !hasRule(r, RulePythonOp, finding.High) || r.Findings[0].Where != "graph.node[late_name]" {
		t.Fatalf("findings %+v", r.Findings)
	}
}

func TestFacts(t *testing.T) {
	data := msg(
		vi(1, 9), st(2, "pytorch"), st(3, "2.1.0"), st(4, "ai.example"), vi(5, 3),
		sub(7,
			sub(1, st(1, "x"), st(1, "w"), st(2, "y"), st(3, "mm"), st(4, "MatMul")),
			st(2, "main"),
			sub(5, vi(1, 4), vi(1, 3), vi(2, 1), st(8, "w"), by(9, make([]byte, 48))),
			sub(5, vi(2, 10), st(8, "s")), // scalar FLOAT16
			sub(11, st(1, "x")), sub(11, st(1, "w")),
			sub(12, st(1, "y")),
		),
		sub(8, vi(2, 17)), sub(8, st(1, "ai.onnx.ml"), vi(2, 3)),
		kv(14, "converter", "hallmark-test"),
		sub(25, st(1, "f"), st(10, "local"), sub(7, st(4, "Relu"))),
	)
	r := scanBytes(data, Limits{})
	if !r.Complete || len(r.Findings) != 0 {
		t.Fatalf("complete=%v findings=%+v", r.Complete, r.Findings)
	}
	check := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("IRVersion", r.IRVersion, int64(9))
	check("ProducerName", r.ProducerName, "pytorch")
	check("ProducerVersion", r.ProducerVersion, "2.1.0")
	check("Domain", r.Domain, "ai.example")
	check("ModelVersion", r.ModelVersion, int64(3))
	check("GraphName", r.GraphName, "main")
	check("Inputs", strings.Join(r.Inputs, ","), "x")
	check("Outputs", strings.Join(r.Outputs, ","), "y")
	check("Nodes", r.Nodes, 2)
	check("Initializers", r.Initializers, 2)
	check("Parameters", r.Parameters, int64(13))
	check("Dtypes", strings.Join(r.Dtypes, ","), "FLOAT,FLOAT16")
	check("Functions", r.Functions, 1)
	check("Opsets", len(r.Opsets), 2)
	check("Opset[1]", r.Opsets[1], Opset{Domain: "ai.onnx.ml", Version: 3})
	check("Metadata", r.Metadata["converter"], "hallmark-test")
}

// A model split over two graph fields is merged by protobuf parsers: nodes
// in the second one are still checked.
func TestDuplicateGraphFieldsMerged(t *testing.T) {
	data := msg(vi(1, 8), sub(7, st(2, "g")), sub(7, extTensor("w", "/etc/shadow")))
	r := scanBytes(data, Limits{})
	if !hasRule(r, RuleExternalPath, finding.High) {
		t.Fatalf("findings %+v", r.Findings)
	}
}

// Unknown fields, including groups, are skipped as protobuf runtimes do.
func TestUnknownFieldsSkipped(t *testing.T) {
	data := msg(vi(1, 8), raw([]byte{0xfb, 0x07, 0x08, 0x01, 0xfc, 0x07}), sub(99, st(1, "x")), sub(7, st(2, "g")))
	r := scanBytes(data, Limits{})
	if !r.Complete || len(r.Findings) != 0 || r.GraphName != "g" {
		t.Fatalf("%+v", r)
	}
}

func TestExternalDataCap(t *testing.T) {
	var g []fld
	for i := 0; i < 5; i++ {
		g = append(g, extTensor("w", "weights.bin"))
	}
	r := scanBytes(model(g...), Limits{MaxExternal: 3})
	if len(r.ExternalData) != 3 || r.Complete || !hasRule(r, RuleLimit, finding.High) {
		t.Fatalf("ext=%d complete=%v findings=%+v", len(r.ExternalData), r.Complete, r.Findings)
	}
}

type errReader struct{}

func (errReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("I/O error") }

func TestReadErrorIsFinding(t *testing.T) {
	r := Scan(errReader{}, 100, Limits{})
	if r.Complete || !hasRule(r, RuleMalformed, finding.High) {
		t.Fatalf("%+v", r)
	}
}

func TestLooks(t *testing.T) {
	savedModel := msg(vi(1, 1), sub(2, sub(1, st(4, "serve"), st(5, "2.13.0")), sub(2, sub(1, st(1, "x"), st(2, "Placeholder")))))
	fingerprint := msg(vi(1, 0xfedcba9876543210), vi(2, 0x1234567890), vi(3, 77), vi(4, 88), vi(5, 99), sub(6, vi(1, 1)))
	graphDef := msg(sub(1, st(1, "x"), st(2, "Placeholder")), sub(4, vi(1, 1205)))
	tests := []struct {
		name string
		head []byte
		want bool
	}{
		{"minimal model", model(st(2, "g")), true},
		{"graph first after ir_version", msg(vi(1, 7), sub(7, sub(1, st(4, "Relu")))), true},
		{"graph cut by head", msg(vi(1, 7), st(2, "pytorch"), st(3, "1.13"), raw([]byte{0x3a, 0xff, 0xff, 0x03, 0x0a, 0x10})), true},
		{"savedmodel", savedModel, false},
		{"fingerprint", fingerprint, false},
		{"graphdef", graphDef, false},
		{"only ir_version", msg(vi(1, 8)), false},
		{"no ir_version first", model(st(2, "g"))[2:], false},
		{"ir_version too big", msg(vi(1, 99), st(2, "x"), sub(7)), false},
		{"binary producer", msg(vi(1, 8), by(2, []byte{0x0a, 0x02, 0x08, 0x01})), false},
		{"wrong wire type", msg(vi(1, 8), vi(2, 5)), false},
		{"unknown field", msg(vi(1, 8), st(9, "x")), false},
		{"pickle", []byte("\x80\x04\x95\x10\x00\x00\x00"), false},
		{"zip", []byte("PK\x03\x04\x14\x00"), false},
		{"empty", nil, false},
	}
	for _, tc := range tests {
		if got := Looks(tc.head); got != tc.want {
			t.Errorf("%s: Looks = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// No TensorFlow fixture is taken for ONNX (the tie-break with tfgraph.Kind).
func TestLooksRejectsTF(t *testing.T) {
	var files []string
	filepath.Walk("../../testdata/tf", func(p string, fi os.FileInfo, err error) error {
		if err == nil && (strings.HasSuffix(p, ".pb") || strings.HasSuffix(p, ".meta")) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Skip("no TensorFlow fixtures")
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if Looks(data[:min(len(data), 64<<10)]) {
			t.Errorf("%s: Looks = true", p)
		}
	}
}
