package tfgraph

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

// A tiny protobuf builder.
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

// attr builds a NodeDef attr map entry.
func attr(key string, value ...fld) fld { return sub(ndAttr, st(1, key), sub(2, value...)) }

func mkNode(name, op string, inputs []string, more ...fld) fld {
	fs := []fld{st(ndName, name), st(ndOp, op)}
	for _, in := range inputs {
		fs = append(fs, st(ndInput, in))
	}
	return sub(gdNode, append(fs, more...)...)
}

func constStr(name, v string) fld {
	return mkNode(name, "Const", nil, attr("dtype", vi(6, dtString)), attr("value", sub(avTensor, vi(tensorDtype, dtString), st(tensorStrings, v))))
}

// fnNode is a NodeDef inside a FunctionDef (field 3, not 1).
func fnNode(name, op string, inputs []string, more ...fld) fld {
	fs := []fld{st(ndName, name), st(ndOp, op)}
	for _, in := range inputs {
		fs = append(fs, st(ndInput, in))
	}
	return sub(fnNodeDef, append(fs, more...)...)
}

func savedModel(graph ...fld) []byte {
	return msg(vi(1, 1), sub(2, sub(1, st(4, "serve"), st(5, "2.15.0")), sub(2, graph...)))
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

func maxLevel(r Report) finding.Level {
	var l finding.Level
	for _, f := range r.Findings {
		l = max(l, f.Level)
	}
	return l
}

func TestPathProblem(t *testing.T) {
	tests := []struct {
		path     string
		complete bool
		want     string
	}{
		{"model", true, ""},
		{"variables/variables", true, ""},
		{"_temp/part", true, ""},
		{"a/../b", true, ""},
		{"a/..", false, ""}, // only a prefix: the last segment may go on
		{"../x", true, "climbs"},
		{"a/../../x", true, "climbs"},
		{"/etc/passwd", true, "absolute"},
		{"/tmp/", false, "absolute"},
		{`C:\x`, true, "absolute"},
		{"gs://bucket/x", true, "remote"},
		{"S3://bucket", false, "remote"},
		{"hdfs://nn/x", true, "remote"},
		{"https://evil.example/x", true, "remote"},
		{"file:///tmp/x", true, "file://"},
	}
	for _, tc := range tests {
		got := pathProblem(tc.path, tc.complete)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("pathProblem(%q, %v) = %q, want %q", tc.path, tc.complete, got, tc.want)
		}
	}
}

func TestScanCases(t *testing.T) {
	deep := sub(avFunc, st(1, "c"))
	lvl2 := sub(avFunc, st(1, "b"), sub(2, st(1, "k"), sub(2, deep)))
	deepFunc := sub(avFunc, st(1, "a"), sub(2, st(1, "k"), sub(2, lvl2)))
	assetDef := msg(sub(1, st(1, "Const:0")), st(2, "/etc/passwd"))
	tf1Assets := msg(vi(1, 1), sub(2, sub(1, st(5, "1.15.0")), sub(2, mkNode("x", "Const", nil)),
		sub(4, st(1, "saved_model_assets"), sub(2, sub(5, sub(1, st(1, "type.googleapis.com/tensorflow.AssetFileDef"), by(2, assetDef)))))))
	tests := []struct {
		name     string
		data     []byte
		lim      Limits
		rule     string
		level    finding.Level
		complete bool
	}{
		{"PyFuncStateless", savedModel(mkNode("p", "PyFuncStateless", nil, attr("token", st(avS, "pyfunc_9")))), Limits{}, RulePythonOp, finding.Critical, true},
		{"ReadFile path unknown", savedModel(mkNode("r", "ReadFile", []string{"arg"})), Limits{}, RuleFileOp, finding.High, true},
		{"TFRecordDataset", savedModel(constStr("f", "s3://b/x"), mkNode("d", "TFRecordDatasetV2", []string{"f"})), Limits{}, RuleFileOp, finding.High, true},
		{"InitializeTableFromTextFileV2", savedModel(mkNode("t", "InitializeTableFromTextFileV2", []string{"h", "asset"})), Limits{}, RuleFileOp, finding.High, true},
		{"ImmutableConst with region", savedModel(mkNode("c", "ImmutableConst", nil, attr("memory_region_name", st(avS, "/dev/mem")))), Limits{}, RuleFileOp, finding.High, true},
		{"DebugIdentity with urls", savedModel(mkNode("d", "DebugIdentity", []string{"x"}, attr("debug_urls", sub(avList, st(listS, "file:///tmp/dump"))))), Limits{}, RuleFileOp, finding.High, true},
		{"Rpc", savedModel(mkNode("rpc", "Rpc", []string{"a", "m", "r"})), Limits{}, RuleNetworkOp, finding.High, true},
		{"PrintV2 to file", savedModel(mkNode("p", "PrintV2", []string{"s"}, attr("output_stream", st(avS, "file:///tmp/x")))), Limits{}, RulePrintToFile, finding.High, true},
		{"func attr in a list", savedModel(mkNode("c", "Case", []string{"i"}, attr("branches", sub(avList, sub(listFunc, st(1, "f0")), sub(listFunc, st(1, "WriteFile")))))), Limits{}, RuleFileOp, finding.High, true},
		{"func attr nested in a func's attrs", savedModel(mkNode("c", "PartitionedCall", nil, attr("f", sub(avFunc, st(1, "outer"), sub(2, st(1, "inner"), sub(2, sub(avFunc, st(1, "EagerPyFunc")))))))), Limits{}, RulePythonOp, finding.Critical, true},
		{"SaveV2 absolute via Identity", savedModel(constStr("c", "/var/www/ckpt"), mkNode("i", "Identity", []string{"c:0"}), mkNode("s", "SaveV2", []string{"i", "n", "sl", "t"})), Limits{}, RuleCheckpointPath, finding.High, true},
		{"MergeV2Checkpoints climbing destination", savedModel(constStr("d", "../../../home/user/.bashrc"), mkNode("m", "MergeV2Checkpoints", []string{"p", "d"})), Limits{}, RuleCheckpointPath, finding.High, true},
		{"StringJoin remote prefix, unknown tail", savedModel(constStr("b", "gs://evil/"), mkNode("ph", "Placeholder", nil), mkNode("j", "StringJoin", []string{"b", "ph"}), mkNode("s", "SaveV2", []string{"j"})), Limits{}, RuleCheckpointPath, finding.High, true},
		{"asset file absolute in TF1 collection", tf1Assets, Limits{}, RuleAssetPath, finding.High, true},
		{"node cap", savedModel(mkNode("a", "NoOp", nil), mkNode("b", "NoOp", nil), mkNode("c", "NoOp", nil)), Limits{MaxNodes: 2}, RuleLimit, finding.High, false},
		{"function cap", savedModel(sub(gdLibrary, sub(libFunction), sub(libFunction))), Limits{MaxFunctions: 1}, RuleLimit, finding.High, false},
		{"attr depth cap", savedModel(mkNode("c", "PartitionedCall", nil, attr("f", deepFunc))), Limits{MaxDepth: 1}, RuleLimit, finding.High, false},
		{"truncated", savedModel(mkNode("a", "NoOp", nil))[:20], Limits{}, RuleMalformed, finding.High, false},
		{"no meta graph", msg(vi(1, 1), vi(3, 5)), Limits{}, RuleMalformed, finding.High, false},
		{"unknown kind", []byte("hello, world"), Limits{}, RuleMalformed, finding.High, false},
		{"2^63 length", append(msg(vi(1, 1)), 0x12, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), Limits{}, RuleMalformed, finding.High, false},
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

// The ops every SavedModel's saver and lookup layers use stay at low or
// below unless a Const path points away.
func TestBenignOpsStayLow(t *testing.T) {
	data := savedModel(
		constStr("save/filename/input", "model"),
		mkNode("save/filename", "PlaceholderWithDefault", []string{"save/filename/input"}),
		mkNode("save/Const", "PlaceholderWithDefault", []string{"save/filename"}),
		mkNode("save/SaveV2", "SaveV2", []string{"save/Const", "n", "s", "t"}),
		mkNode("save/RestoreV2", "RestoreV2", []string{"save/Const", "n", "s"}),
		mkNode("save/MergeV2Checkpoints", "MergeV2Checkpoints", []string{"p", "save/Const"}),
		mkNode("import", "LookupTableImportV2", []string{"h", "k", "v"}),
		mkNode("print", "PrintV2", []string{"s"}, attr("output_stream", st(avS, "stderr"))),
		mkNode("sc", "StatefulPartitionedCall", []string{"x"}, attr("f", sub(avFunc, st(1, "__inference_call_1")))),
		sub(gdLibrary, sub(libFunction, sub(fnSignature, st(1, "__inference__traced_save_9")),
			fnNode("StringJoin", "StringJoin", []string{"file_prefix", "Select:output:0"}),
			fnNode("ShardedFilename", "ShardedFilename", []string{"StringJoin:output:0", "s:output:0", "n:output:0"}),
			fnNode("SaveV2", "SaveV2", []string{"ShardedFilename:filename:0", "t", "s"}))),
	)
	r := scanBytes(data, Limits{})
	if maxLevel(r) > finding.Low || !r.Complete {
		t.Fatalf("complete=%v findings=%+v", r.Complete, r.Findings)
	}
	if !hasRule(r, RulePrint, finding.Low) || !hasRule(r, RuleTableImport, finding.Low) {
		t.Fatalf("low findings missing: %+v", r.Findings)
	}
	if r.Functions != 1 || r.Nodes != 12 {
		t.Fatalf("functions=%d nodes=%d", r.Functions, r.Nodes)
	}
	// The same saver with an absolute default filename is flagged.
	bad := bytes.Replace(data, []byte("\x05model"), []byte("\x05/root"), 1)
	if r := scanBytes(bad, Limits{}); !hasRule(r, RuleCheckpointPath, finding.High) {
		t.Fatalf("absolute saver path not flagged: %+v", r.Findings)
	}
}

func TestWhereNamesFunctionAndNode(t *testing.T) {
	data := savedModel(sub(gdLibrary, sub(libFunction, sub(fnSignature, st(1, "__inference_call_123")),
		fnNode("ReadFile_1", "ReadFile", []string{"p"}))))
	r := scanBytes(data, Limits{})
	want := "meta_graphs[0].graph_def.library.function[__inference_call_123].node_def[ReadFile_1]"
	if len(r.Findings) != 1 || r.Findings[0].Where != want {
		t.Fatalf("findings %+v", r.Findings)
	}
}

func TestFacts(t *testing.T) {
	data := msg(vi(1, 1), sub(2,
		sub(1, st(4, "serve"), st(4, "gpu"), st(5, "2.15.0")),
		sub(2, mkNode("x", "Placeholder", nil), mkNode("y", "Relu", []string{"x"}), mkNode("z", "Relu", []string{"y"})),
		sub(5, st(1, "serving_default"), sub(2)),
		sub(7, sub(1, sub(4, st(1, "_tf_keras_layer"), st(3, `{"class_name": "Dense"}`)))),
	))
	r := scanBytes(data, Limits{})
	if r.Kind != KindSavedModel || r.TFVersion != "2.15.0" || strings.Join(r.Tags, ",") != "serve,gpu" ||
		strings.Join(r.SignatureDefs, ",") != "serving_default" || strings.Join(r.Ops, ",") != "Placeholder,Relu" ||
		r.Nodes != 3 || len(r.KerasMetadata) != 1 || r.KerasMetadata[0] != `{"class_name": "Dense"}` {
		t.Fatalf("%+v", r)
	}
}

func TestKerasCaps(t *testing.T) {
	md := func(n int) fld { return sub(1, st(3, "root"), st(4, "_tf_keras_layer"), st(5, strings.Repeat("x", n))) }
	data := msg(md(10), md(100), md(10))
	r := ScanKind(bytes.NewReader(data), int64(len(data)), KindKerasMetadata, Limits{MaxKerasBytes: 50})
	if len(r.KerasMetadata) != 2 || r.Complete || !hasRule(r, RuleLimit, finding.High) {
		t.Fatalf("size cap: %d docs, complete=%v, %+v", len(r.KerasMetadata), r.Complete, r.Findings)
	}
	r = ScanKind(bytes.NewReader(data), int64(len(data)), KindKerasMetadata, Limits{MaxKerasMetadata: 1})
	if len(r.KerasMetadata) != 1 || r.Complete {
		t.Fatalf("count cap: %d docs, complete=%v", len(r.KerasMetadata), r.Complete)
	}
	r = ScanKind(bytes.NewReader(data), int64(len(data)), KindKerasMetadata, Limits{MaxKerasTotal: 115})
	if len(r.KerasMetadata) != 2 || r.Complete {
		t.Fatalf("total cap: %d docs, complete=%v", len(r.KerasMetadata), r.Complete)
	}
}

func TestFingerprintWrongType(t *testing.T) {
	data := msg(vi(1, 5), st(2, "not a hash"))
	r := ScanKind(bytes.NewReader(data), int64(len(data)), KindFingerprint, Limits{})
	if !hasRule(r, RuleMalformed, finding.High) {
		t.Fatalf("%+v", r.Findings)
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

func TestKind(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"saved model", savedModel(mkNode("x", "Placeholder", nil)), KindSavedModel},
		{"saved model graph_def first", msg(vi(1, 1), sub(2, sub(2, mkNode("x", "Placeholder", nil)))), KindSavedModel},
		{"graph def", msg(mkNode("input", "Placeholder", nil), sub(4, vi(1, 1482))), KindGraphDef},
		{"graph def internal op", msg(mkNode("a", "_Arg", nil)), KindGraphDef},
		{"keras metadata", msg(sub(1, sub(1, vi(1, 2), vi(2, 1)), st(3, "root"), st(4, "_tf_keras_sequential"), st(5, "{}"))), KindKerasMetadata},
		{"fingerprint", msg(vi(1, 0xfedcba9876543210), vi(2, 1<<60), vi(3, 5), vi(4, 6), vi(5, 7), sub(6, vi(1, 1))), KindFingerprint},
		{"meta graph", msg(sub(1, sub(2, sub(1, st(1, "Const"))), st(4, "serve")), sub(2, mkNode("x", "Const", nil))), KindMetaGraph},
		{"onnx", msg(vi(1, 8), st(2, "pytorch"), st(3, "2.1"), sub(7, sub(1, st(4, "Relu")))), ""},
		{"onnx ir 1", msg(vi(1, 1), st(2, "pytorch"), sub(7)), ""},
		{"fingerprint-like but large", append(msg(vi(1, 5), vi(2, 6), vi(3, 7)), make([]byte, 5000)...), ""},
		{"graph def with lowercase op", msg(mkNode("x", "placeholder", nil)), ""},
		{"pickle", []byte("\x80\x04\x95"), ""},
		{"empty", nil, ""},
	}
	for _, tc := range tests {
		size := int64(len(tc.head))
		if got := Kind(tc.head, size); got != tc.want {
			t.Errorf("%s: Kind = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// No ONNX fixture is taken for TensorFlow (the tie-break of onnx.Looks).
func TestKindRejectsONNX(t *testing.T) {
	var files []string
	filepath.Walk("../../testdata/onnx", func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".onnx") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Skip("no ONNX fixtures")
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if k := Kind(data[:min(len(data), 64<<10)], int64(len(data))); k != "" {
			t.Errorf("%s: Kind = %q", p, k)
		}
	}
}

// Function attributes given as AttrValue.placeholder are filled from the
// caller's attrs at instantiation: the path checks follow them.
func TestPlaceholderAttrs(t *testing.T) {
	ph := func(name string) fld { return st(avPlaceholder, name) }
	lib := func(fnName string, nodes ...fld) fld {
		return sub(gdLibrary, sub(libFunction, append([]fld{sub(fnSignature, st(1, fnName))}, nodes...)...))
	}
	call := func(fnName, key string, value ...fld) fld {
		return mkNode("call", "StatefulPartitionedCall", nil, attr("f", sub(avFunc, st(1, fnName), sub(2, st(1, key), sub(2, value...)))))
	}
	printFn := lib("f", fnNode("p", "PrintV2", []string{"x"}, attr("output_stream", ph("stream"))))
	regionFn := lib("g", fnNode("c", "ImmutableConst", nil, attr("memory_region_name", ph("region"))))
	tests := []struct {
		name  string
		data  []byte
		rule  string
		level finding.Level // highest level expected for rule; 0: no finding of rule above Low
		msg   string
	}{
		{"PrintV2 stream from caller", savedModel(call("f", "stream", st(avS, "file:///tmp/x")), printFn), RulePrintToFile, finding.High, "appends"},
		{"caller after library", savedModel(printFn, call("f", "stream", st(avS, "file:///tmp/x"))), RulePrintToFile, finding.High, "appends"},
		{"PrintV2 stream stderr from caller", savedModel(call("f", "stream", st(avS, "stderr")), printFn), RulePrintToFile, 0, ""},
		{"ImmutableConst region from caller", savedModel(call("g", "region", st(avS, "/etc/shadow")), regionFn), RuleFileOp, finding.High, "/etc/shadow"},
		{"region from a direct function call node", savedModel(mkNode("d", "g", nil, attr("region", st(avS, "/etc/shadow"))), regionFn), RuleFileOp, finding.High, "/etc/shadow"},
		{"DebugIdentity urls list from caller", savedModel(call("h", "urls", sub(avList, st(listS, "file:///tmp/dump"))),
			lib("h", fnNode("d", "DebugIdentity", []string{"x"}, attr("debug_urls", ph("urls"))))), RuleFileOp, finding.High, "file:///tmp/dump"},
		{"no caller", savedModel(regionFn), RuleFileOp, finding.High, "supplied by the caller"},
		{"caller forwards a placeholder", savedModel(call("g", "region", ph("outer")), regionFn), RuleFileOp, finding.High, "supplied by the caller"},
		{"PrintV2 placeholder without caller", savedModel(printFn), RulePrintToFile, finding.High, "supplied by the caller"},
		{"placeholder in the main graph", savedModel(mkNode("p", "PrintV2", []string{"x"}, attr("output_stream", ph("s")))), RulePrintToFile, finding.High, "supplied by the caller"},
		{"CacheDataset in memory", savedModel(constStr("f", ""), mkNode("c", "CacheDataset", []string{"ds", "f"})), RuleFileOp, 0, ""},
		{"CacheDatasetV2 to a path", savedModel(constStr("f", "/tmp/cache"), mkNode("c", "CacheDatasetV2", []string{"ds", "f", "m"})), RuleFileOp, finding.High, "/tmp/cache"},
		{"CacheDataset unknown filename", savedModel(mkNode("c", "CacheDataset", []string{"ds", "arg"})), RuleFileOp, finding.High, "not fixed"},
		{"MatchingFilesDataset", savedModel(constStr("g", "/home/*"), mkNode("m", "MatchingFilesDataset", []string{"g"})), RuleFileOp, finding.High, "/home/*"},
		{"SnapshotDatasetReader", savedModel(mkNode("r", "SnapshotDatasetReader", []string{"dir", "i"})), RuleFileOp, finding.High, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scanBytes(tc.data, Limits{})
			var got finding.Level
			var msgs []string
			for _, f := range r.Findings {
				if f.Rule == tc.rule && f.Level > got {
					got = f.Level
				}
				msgs = append(msgs, f.Message)
			}
			if tc.level == 0 {
				if got > finding.Low {
					t.Fatalf("%s at %v, want none above low: %v", tc.rule, got, msgs)
				}
				return
			}
			if got != tc.level || !strings.Contains(strings.Join(msgs, "\n"), tc.msg) {
				t.Fatalf("%s at %v, want %v with %q: %v", tc.rule, got, tc.level, tc.msg, msgs)
			}
		})
	}
}
