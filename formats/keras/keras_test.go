package keras

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// lambdaB64 is the func_dump code string of the corpus' marker lambda
// (CPython 3.11 marshal of `lambda x: __import__('os').system('echo hallmark-marker') or x`).
var lambdaB64 = func() string {
	b, err := os.ReadFile("../../testdata/keras/configs/lambda_top_tf215.h5.model_config.json")
	if err != nil {
		panic(err)
	}
	var cfg struct {
		Config struct {
			Layers []struct {
				ClassName string `json:"class_name"`
				Config    struct {
					Function []any `json:"function"`
				} `json:"config"`
			} `json:"layers"`
		} `json:"config"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		panic(err)
	}
	for _, l := range cfg.Config.Layers {
		if l.ClassName == "Lambda" {
			return l.Config.Function[0].(string)
		}
	}
	panic("no Lambda in fixture")
}()

func maxLevel(r Report) finding.Level {
	var m finding.Level
	for _, f := range r.Findings {
		m = max(m, f.Level)
	}
	return m
}

func has(r Report, rule string, lvl finding.Level) bool {
	for _, f := range r.Findings {
		if f.Rule == rule && f.Level == lvl {
			return true
		}
	}
	return false
}

func dump(r Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString("\n  " + f.Level.String() + " " + f.Rule + " @" + f.Where + ": " + f.Message + " | " + f.Evidence)
	}
	return b.String()
}

func q(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestAnalyseConfigRules(t *testing.T) {
	k3lambda := `{"class_name": "__lambda__", "config": {"code": ` + q(lambdaB64) + `, "defaults": null, "closure": null}}`
	tests := []struct {
		name   string
		json   string
		rule   string        // expected rule ("" = none)
		level  finding.Level // at exactly this level
		maxLvl finding.Level // if set: no finding above this
	}{
		{"keras3 dense is clean", `{"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": 2,
			"kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null}},
			"registered_name": null}`, "", 0, finding.Info},
		{"functional registered_name is not custom", `{"module": "keras.src.models.functional", "class_name": "Functional",
			"config": {"name": "f", "layers": []}, "registered_name": "Functional"}`, "", 0, finding.Info},
		{"keras 2 Custom>Adam is Keras' own", `{"optimizer_config": {"class_name": "Custom>Adam", "config": {"name": "Adam"}}}`, "", 0, finding.Info},
		{"keras_hub registration", `{"module": "keras_hub.src.models.gemma.gemma_backbone", "class_name": "GemmaBackbone",
			"config": {}, "registered_name": "keras_hub>GemmaBackbone"}`, "", 0, finding.Info},
		{"builtins function keras loss", `{"module": "builtins", "class_name": "function", "config": "mean_squared_error", "registered_name": "function"}`,
			"", 0, finding.Info},
		{"keras 2 lambda", `{"class_name": "Lambda", "config": {"name": "l", "function": [` + q(lambdaB64) + `, null, null], "function_type": "lambda", "module": "__main__"}}`,
			RuleLambda, finding.Critical, 0},
		{"keras 2 lambda as plain string", `{"class_name": "Lambda", "config": {"name": "l", "function": ` + q(lambdaB64) + `, "function_type": "lambda"}}`,
			RuleLambda, finding.Critical, 0},
		{"keras 2 lambda output_shape", `{"class_name": "Lambda", "config": {"name": "l", "function": "relu", "function_type": "function", "module": "keras.activations",
			"output_shape": [` + q(lambdaB64) + `, null, null], "output_shape_type": "lambda"}}`, RuleLambda, finding.Critical, 0},
		{"keras 3 lambda layer", `{"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l", "function": ` + k3lambda + `}}`,
			RuleLambda, finding.Critical, 0},
		{"keras 3 __lambda__ value form", `{"class_name": "__lambda__", "config": {"value": [` + q(lambdaB64) + `, null, null]}}`,
			RuleLambda, finding.Critical, 0},
		{"lambda in a TimeDistributed in a Sequential in a Functional", `{"class_name": "Functional", "config": {"layers": [
			{"class_name": "Sequential", "config": {"layers": [{"class_name": "TimeDistributed", "config": {"layer":
			{"module": "keras.layers", "class_name": "Lambda", "config": {"function": ` + k3lambda + `}}}}]}}]}}`, RuleLambda, finding.Critical, 0},
		{"lambda in an RNN cell list", `{"class_name": "RNN", "config": {"cell": {"class_name": "StackedRNNCells", "config": {"cells": [
			{"class_name": "Lambda", "config": {"function": [` + q(lambdaB64) + `], "function_type": "lambda"}}]}}}}`, RuleLambda, finding.Critical, 0},
		{"tf_keras qualname Lambda", `{"module": "tf_keras.layers", "class_name": "core.Lambda", "config": {"function": [` + q(lambdaB64) + `], "function_type": "lambda"}}`,
			RuleLambda, finding.Critical, 0},
		{"raw unicode escape fallback", `{"class_name": "__lambda__", "config": {"code": "\u00e3\u0000\u0000"}}`, RuleLambda, finding.Critical, 0},
		{"lambda payload that is not code", `{"class_name": "Lambda", "config": {"function": ["aGVsbG8=", null, null], "function_type": "lambda"}}`,
			RuleLambda, finding.High, finding.High},
		{"lambda without code", `{"class_name": "__lambda__", "config": {"defaults": null}}`, RuleLambda, finding.High, finding.High},
		{"lambda referencing os.system", `{"class_name": "Lambda", "config": {"function": "system", "function_type": "function", "module": "os"}}`,
			RuleModuleReference, finding.Critical, 0},
		{"lambda referencing a custom function", `{"class_name": "Lambda", "config": {"function": "my_fn", "function_type": "function", "module": "__main__"}}`,
			RuleCustomObject, finding.Medium, finding.Medium},
		{"os.system function", `{"module": "os", "class_name": "function", "config": "system", "registered_name": null}`, RuleModuleReference, finding.Critical, 0},
		{"os system class style", `{"module": "os", "class_name": "system", "config": {}, "registered_name": null}`, RuleModuleReference, finding.Critical, 0},
		{"subprocess.Popen", `{"module": "subprocess", "class_name": "Popen", "config": {}}`, RuleModuleReference, finding.Critical, 0},
		{"builtins exec", `{"module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"}`, RuleModuleReference, finding.Critical, 0},
		{"builtins max", `{"module": "builtins", "class_name": "function", "config": "max", "registered_name": "function"}`, RuleModuleReference, finding.High, finding.High},
		{"builtins custom function", `{"module": "builtins", "class_name": "function", "config": "my_loss", "registered_name": "function"}`, RuleCustomObject, finding.Medium, finding.Medium},
		{"builtins registered custom function", `{"module": "builtins", "class_name": "function", "config": "pkg>my_loss", "registered_name": "function"}`, RuleCustomObject, finding.Medium, finding.Medium},
		{"builtins class", `{"module": "builtins", "class_name": "eval", "config": {}}`, RuleModuleReference, finding.Critical, 0},
		{"dunder in module path", `{"module": "keras.__builtins__", "class_name": "function", "config": "x"}`, RuleModuleReference, finding.Critical, 0},
		{"__main__ attribute path", `{"module": "__main__", "class_name": "function", "config": "os.system"}`, RuleModuleReference, finding.Critical, 0},
		{"numpy is not allowed", `{"module": "numpy", "class_name": "function", "config": "load"}`, RuleModuleReference, finding.High, finding.High},
		{"numpy.testing is dangerous", `{"module": "numpy.testing", "class_name": "function", "config": "measure"}`, RuleModuleReference, finding.Critical, 0},
		{"third-party module", `{"module": "my_project.layers", "class_name": "Attention", "config": {}, "registered_name": "my_project>Attention"}`,
			RuleModuleReference, finding.High, finding.High},
		{"registered custom with null module", `{"module": null, "class_name": "NestedDenseModel", "config": {}, "registered_name": "pkg>NestedDenseModel"}`,
			RuleCustomObject, finding.Medium, finding.Medium},
		{"legacy unknown class", `{"class_name": "MyLayer", "config": {"name": "m"}}`, RuleCustomObject, finding.Medium, finding.Medium},
		{"legacy Addons optimizer", `{"class_name": "Addons>AdamW", "config": {}}`, RuleCustomObject, finding.Medium, finding.Medium},
		{"get_file", `{"module": "keras.utils", "class_name": "function", "config": "get_file", "registered_name": null}`, RuleGetFile, finding.Critical, 0},
		{"get_file under keras.src", `{"module": "keras.src.utils.file_utils", "class_name": "function", "config": "get_file"}`, RuleGetFile, finding.Critical, 0},
		{"enable_unsafe_deserialization", `{"module": "keras.config", "class_name": "function", "config": "enable_unsafe_deserialization"}`,
			RuleUnsafeToggle, finding.Critical, 0},
		{"keras.src.saving function", `{"module": "keras.src.saving.saving_lib", "class_name": "function", "config": "load_model"}`,
			RuleNonModelingAPI, finding.High, finding.High},
		{"keras.models.load_model", `{"module": "keras.models", "class_name": "function", "config": "load_model"}`, RuleNonModelingAPI, finding.High, finding.High},
		{"keras visualization gadget", `{"class_name": "Lambda", "config": {"function": {"module": "keras.visualization", "class_name": "function",
			"config": "plot_image_gallery", "registered_name": null}}}`, RuleNonModelingAPI, finding.High, finding.High},
		{"keras application constructor", `{"module": "keras.applications.resnet50", "class_name": "function", "config": "ResNet50"}`,
			RuleNonModelingAPI, finding.High, finding.High},
		{"keras preprocess_input is fine", `{"module": "keras.applications.resnet50", "class_name": "function", "config": "preprocess_input"}`,
			"", 0, finding.Info},
		{"tensorflow typespec is fine", `{"class_name": "__typespec__", "spec_name": "TensorSpec", "module": "tensorflow.python.framework.tensor", "config": [[null, 3], "float32", null], "registered_name": null}`,
			"", 0, finding.Info},
		{"tensorflow io module", `{"module": "tensorflow.io", "class_name": "function", "config": "write_file"}`, RuleModuleReference, finding.High, finding.High},
		{"torch module wrapper", `{"module": "keras.layers", "class_name": "TorchModuleWrapper", "config": {"name": "t", "module": "gAJjcG9zaXgKc3lzdGVtCi4="}}`,
			RuleTorchModuleWrapper, finding.Critical, 0},
		{"TFOpLambda math", `{"class_name": "TFOpLambda", "config": {"name": "tf.math.add", "function": "math.add"}}`, RuleTFOp, finding.Info, finding.Info},
		{"TFOpLambda py_function", `{"class_name": "TFOpLambda", "config": {"function": "py_function"}}`, RuleTFOp, finding.High, finding.High},
		{"TFOpLambda raw_ops WriteFile", `{"class_name": "TFOpLambda", "config": {"function": "raw_ops.WriteFile"}}`, RuleTFOp, finding.High, finding.High},
		{"TFOpLambda keras get_file", `{"class_name": "TFOpLambda", "config": {"function": "keras.utils.get_file"}}`, RuleTFOp, finding.High, finding.High},
		{"TFOpLambda print to file", `{"class_name": "TFOpLambda", "config": {"function": "print"}, "inbound_nodes": [["x", 0, 0, {"output_stream": "file:///tmp/x"}]]}`,
			RuleTFOp, finding.High, finding.High},
		{"registered_name fallback get_file", `{"module": "keras.src.utils", "class_name": "Dense", "config": {}, "registered_name": "get_file"}`,
			RuleGetFile, finding.Critical, 0},
		{"registered_name fallback unsafe toggle", `{"module": "keras.src.saving.serialization_lib", "class_name": "function", "config": "x", "registered_name": "enable_unsafe_deserialization"}`,
			RuleNonModelingAPI, finding.High, 0},
		{"registered_name fallback unsafe toggle in keras.config", `{"module": "keras.config", "class_name": "Dense", "config": {}, "registered_name": "enable_unsafe_deserialization"}`,
			RuleUnsafeToggle, finding.Critical, 0},
		{"registered_name fallback builtins exec", `{"module": "builtins", "class_name": "Dense", "config": {}, "registered_name": "exec"}`,
			RuleModuleReference, finding.Critical, 0},
		{"registered_name Functional is fine", `{"module": "keras.src.models.functional", "class_name": "Functional", "config": {}, "registered_name": "Functional"}`,
			"", 0, finding.Info},
		{"registered_name package is not a fallback", `{"module": "keras.layers", "class_name": "Dense", "config": {}, "registered_name": "keras>get_file"}`,
			"", 0, finding.Info},
		{"tf.print module reference", `{"module": "tensorflow", "class_name": "function", "config": "print", "registered_name": "function",
			"inbound_nodes": [{"args": ["x"], "kwargs": {"output_stream": "file:///tmp/x"}}]}`, RuleModuleReference, finding.High, finding.High},
		{"logging_ops.print_v2 module reference", `{"module": "tensorflow.python.ops.logging_ops", "class_name": "function", "config": "print_v2"}`,
			RuleModuleReference, finding.High, finding.High},
		{"tf.data.experimental.save", `{"module": "tensorflow.data.experimental", "class_name": "function", "config": "save"}`,
			RuleModuleReference, finding.High, finding.High},
		{"tf.load_op_library", `{"module": "tensorflow", "class_name": "function", "config": "load_op_library"}`,
			RuleModuleReference, finding.High, finding.High},
		{"tf.io.gfile.copy", `{"module": "tensorflow.io.gfile", "class_name": "function", "config": "copy"}`,
			RuleModuleReference, finding.High, finding.High},
		{"tf.distribute.Server", `{"module": "tensorflow.distribute", "class_name": "Server", "config": {}}`,
			RuleModuleReference, finding.High, finding.High},
		{"global_state safe_mode_saving", `{"module": "keras.src.backend.common.global_state", "class_name": "function", "config": "set_global_attribute",
			"inbound_nodes": [{"args": ["safe_mode_saving", false], "kwargs": {}}]}`, RuleUnsafeToggle, finding.Critical, 0},
		{"global_state other setter", `{"module": "keras.src.backend.common.global_state", "class_name": "function", "config": "set_global_attribute",
			"inbound_nodes": [{"args": ["floatx", "float16"], "kwargs": {}}]}`, RuleNonModelingAPI, finding.High, finding.High},
		{"TFOpLambda tf.io.decode_jpeg", `{"class_name": "TFOpLambda", "config": {"function": "io.decode_jpeg"}}`, RuleTFOp, finding.Info, finding.Info},
		{"TFOpLambda tf.io.decode_raw", `{"class_name": "TFOpLambda", "config": {"function": "io.decode_raw"}}`, RuleTFOp, finding.Info, finding.Info},
		{"TFOpLambda tf.io.read_file", `{"class_name": "TFOpLambda", "config": {"function": "io.read_file"}}`, RuleTFOp, finding.High, finding.High},
		{"TFOpLambda tf.io.gfile.glob", `{"class_name": "TFOpLambda", "config": {"function": "io.gfile.glob"}}`, RuleTFOp, finding.High, finding.High},
		{"TFOpLambda tf.io.TFRecordWriter", `{"class_name": "TFOpLambda", "config": {"function": "io.TFRecordWriter"}}`, RuleTFOp, finding.High, finding.High},
		{"TFOpLambda tf.io.decode_proto", `{"class_name": "TFOpLambda", "config": {"function": "io.decode_proto"}}`, RuleTFOp, finding.High, finding.High},
		{"TFOpLambda print_v2 to file", `{"class_name": "TFOpLambda", "config": {"function": "print_v2"}, "inbound_nodes": [["x", 0, 0, {"output_stream": "file:///tmp/x"}]]}`,
			RuleTFOp, finding.High, finding.High},
		{"TFOpLambda print to stderr", `{"class_name": "TFOpLambda", "config": {"function": "print"}}`, RuleTFOp, finding.Info, finding.Info},
		{"TFOpLambda odd symbol", `{"class_name": "TFOpLambda", "config": {"function": "os;rm"}}`, RuleTFOp, finding.High, finding.High},
		{"TensorFlowOpLayer ReadFile", `{"class_name": "TensorFlowOpLayer", "config": {"node_def": {"name": "r", "op": "ReadFile"}}}`, RuleTFOp, finding.High, finding.High},
		{"ClassMethod", `{"class_name": "ClassMethod", "config": {"cls_symbol": "RaggedTensor", "method_name": "from_row_lengths"}}`, RuleTFOp, finding.Info, finding.Info},
		{"vocabulary relative path", `{"class_name": "StringLookup", "config": {"vocabulary": "vocab.txt"}}`, RuleFileReference, finding.Low, finding.Low},
		{"vocabulary remote path", `{"class_name": "TextVectorization", "config": {"vocabulary": "gs://bucket/vocab"}}`, RuleFileReference, finding.Medium, finding.Medium},
		{"vocabulary list is fine", `{"class_name": "StringLookup", "config": {"vocabulary": ["a", "b"]}}`, "", 0, finding.Info},
		{"TFSMLayer", `{"module": "keras.layers", "class_name": "TFSMLayer", "config": {"filepath": "/models/x", "call_endpoint": "serve"}}`,
			RuleFileReference, finding.High, finding.High},
		{"metric wrapper custom fn", `{"class_name": "MeanMetricWrapper", "config": {"fn": "my_metric"}}`, RuleCustomObject, finding.Medium, finding.Medium},
		{"metric wrapper keras fn", `{"class_name": "MeanMetricWrapper", "config": {"fn": "sparse_categorical_accuracy"}}`, "", 0, finding.Info},
		{"duplicate key", `{"class_name": "Dense", "class_name": "Dense", "config": {}}`, RuleDuplicateKey, finding.Medium, finding.Medium},
		{"duplicate class_name: the last one counts", `{"class_name": "Dense", "config": {"function": [` + q(lambdaB64) + `], "function_type": "lambda"}, "class_name": "Lambda"}`,
			RuleLambda, finding.Critical, 0},
		{"duplicate key in a big object", `{"a0":1,"a1":1,"a2":1,"a3":1,"a4":1,"a5":1,"a6":1,"a7":1,"a8":1,"a9":1,"b0":1,"b1":1,"b2":1,"b3":1,"b4":1,"b5":1,"b6":1,"b7":1,"a3":2}`,
			RuleDuplicateKey, finding.Medium, finding.Medium},
		{"python json literals", `{"class_name": "ReLU", "config": {"max_value": Infinity, "threshold": -Infinity, "x": NaN, "y": -0.5e-3}}`, "", 0, finding.Info},
		{"malformed", `{"class_name": "Dense", "config": {`, RuleMalformed, finding.High, finding.High},
		{"trailing data", `{} {}`, RuleMalformed, finding.High, finding.High},
		{"not an object", `[1, 2]`, RuleMalformed, finding.High, finding.High},
		{"control character", "{\"a\": \"x\ty\"}", RuleMalformed, finding.High, finding.High},
		{"invalid utf-8", "{\"a\": \"\xff\"}", RuleMalformed, finding.High, finding.High},
		{"surrogatepass utf-8 is accepted", "{\"a\": \"\xed\xa0\x80\"}", "", 0, finding.Info},
		{"leading zero", `{"a": 01}`, RuleMalformed, finding.High, finding.High},
		{"bad escape", `{"a": "\x"}`, RuleMalformed, finding.High, finding.High},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := AnalyseConfig([]byte(tc.json), "config.json", Limits{})
			if tc.rule != "" && !has(r, tc.rule, tc.level) {
				t.Fatalf("want %s at %s, got:%s", tc.rule, tc.level, dump(r))
			}
			if tc.maxLvl != 0 && maxLevel(r) > tc.maxLvl {
				t.Fatalf("want nothing above %s, got:%s", tc.maxLvl, dump(r))
			}
			for _, f := range r.Findings {
				if f.Rule == "" || f.Level == 0 || strings.ContainsAny(f.Message, "\n\r") || !strings.HasPrefix(f.Where, "config.json") {
					t.Errorf("bad finding %+v", f)
				}
			}
		})
	}
}

func TestLambdaEvidence(t *testing.T) {
	r := AnalyseConfig([]byte(`{"class_name": "Lambda", "config": {"name": "evil", "function": [`+q(lambdaB64)+`, null, null], "function_type": "lambda"}}`), "model_config", Limits{})
	if len(r.Findings) != 1 {
		t.Fatalf("want one finding:%s", dump(r))
	}
	f := r.Findings[0]
	for _, want := range []string{"dangerous=[__import__ os system]", `"echo hallmark-marker"`, "3.11-3.13"} {
		if !strings.Contains(f.Evidence, want) {
			t.Errorf("evidence %q lacks %q", f.Evidence, want)
		}
	}
	if !strings.Contains(f.Message, `"evil"`) || f.Where != "model_config:config.function" || f.Offset != -1 {
		t.Errorf("finding %+v", f)
	}
	if r.Lambdas != 1 || r.ClassName != "Lambda" || r.ModelName != "evil" {
		t.Errorf("facts %+v", r)
	}
}

func TestFacts(t *testing.T) {
	b, err := os.ReadFile("../../testdata/keras/configs/lstm_bidirectional_timedistributed.keras.config.json")
	if err != nil {
		t.Fatal(err)
	}
	r := AnalyseConfig(b, "config.json", Limits{})
	want := []string{"Bidirectional", "Dense", "Embedding", "InputLayer", "LSTM", "TimeDistributed"}
	if r.ClassName != "Sequential" || r.ModelName != "tagger" || r.Layers != 7 || !slices.Equal(r.LayerClasses, want) ||
		r.Lambdas != 0 || len(r.CustomObjects) != 0 || !r.Complete || len(r.Findings) != 0 {
		t.Fatalf("facts %+v%s", r, dump(r))
	}

	r = AnalyseConfig([]byte(`{"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {}}, {"class_name": "MyLayer", "config": {}},
		{"class_name": "Foo>Bar", "config": {}}], "keras_version": "2.2.4", "backend": "tensorflow"}`), "", Limits{})
	if r.Layers != 3 || r.KerasVersion != "2.2.4" || r.Backend != "tensorflow" || !slices.Equal(r.CustomObjects, []string{"Foo>Bar", "MyLayer"}) {
		t.Fatalf("facts %+v%s", r, dump(r))
	}

	b, _ = os.ReadFile("../../testdata/keras/configs/cve_2025_49655_torch_wrapper.keras.config.json")
	r = AnalyseConfig(b, "config.json", Limits{})
	if len(r.Embedded) != 1 || r.Embedded[0].Kind != "torch.save" || r.Embedded[0].Data[0] != 0x80 ||
		!strings.HasSuffix(r.Embedded[0].Where, "config.layers[1].config.module") {
		t.Fatalf("embedded %+v", r.Embedded)
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	r := AnalyseConfig([]byte(`{"a": `+deep+`}`), "", Limits{})
	if r.Complete || !has(r, RuleLimit, finding.High) {
		t.Fatalf("deep nesting:%s", dump(r))
	}
	r = AnalyseConfig([]byte(`{"a": ["x", "y", "z", "w"]}`), "", Limits{MaxNodes: 3})
	if r.Complete || !has(r, RuleLimit, finding.High) {
		t.Fatalf("node cap:%s", dump(r))
	}
	r = AnalyseConfig([]byte(`{"class_name": "Lambda", "config": {}}`), "", Limits{MaxConfigBytes: 10})
	if r.Complete || !has(r, RuleLimit, finding.High) || !strings.Contains(r.Findings[0].Evidence, "Lambda") {
		t.Fatalf("size cap:%s", dump(r))
	}
	// Numbers in arrays are not kept: a big numeric array stays under the node cap.
	nums := "[" + strings.Repeat("1.5,", 50000) + "2]"
	r = AnalyseConfig([]byte(`{"class_name": "Normalization", "config": {"mean": `+nums+`}}`), "", Limits{MaxNodes: 100})
	if !r.Complete || len(r.Findings) != 0 {
		t.Fatalf("numeric array:%s", dump(r))
	}
	// A huge lambda payload is capped, reported, and still critical.
	big := base64.StdEncoding.EncodeToString(append([]byte{0xe3}, make([]byte, 4000)...))
	r = AnalyseConfig([]byte(`{"class_name": "__lambda__", "config": {"code": "`+big+`"}}`), "", Limits{MaxCodeBytes: 1000})
	if r.Complete || !has(r, RuleLimit, finding.High) || !has(r, RuleLambda, finding.Critical) {
		t.Fatalf("code cap:%s", dump(r))
	}
	if DefaultLimits() != (Limits{}).withDefaults() {
		t.Fatal("zero Limits must mean defaults")
	}
}

func TestEncodings(t *testing.T) {
	src := `{"class_name": "Lambda", "config": {"function": ["` + lambdaB64[:40] + `"], "function_type": "lambda"}}`
	utf16le := func(s string, bom bool) []byte {
		var b []byte
		if bom {
			b = append(b, 0xff, 0xfe)
		}
		for _, r := range s {
			b = append(b, byte(r), byte(r>>8))
		}
		return b
	}
	utf32be := func(s string) []byte {
		var b []byte
		for _, r := range s {
			b = append(b, 0, 0, byte(r>>8), byte(r))
		}
		return b
	}
	for name, data := range map[string][]byte{
		"utf-16 with BOM":   utf16le(src, true),
		"utf-16-le, no BOM": utf16le(src, false),
		"utf-32-be, no BOM": utf32be(src),
		"utf-8 with BOM":    append([]byte{0xef, 0xbb, 0xbf}, src...),
	} {
		r := AnalyseConfig(data, "", Limits{})
		if !has(r, RuleLambda, finding.Critical) && !has(r, RuleLambda, finding.High) {
			t.Errorf("%s: lambda not seen:%s", name, dump(r))
		}
		lvl := finding.Medium
		if name == "utf-8 with BOM" {
			lvl = finding.Low
		}
		if !has(r, RuleEncoding, lvl) {
			t.Errorf("%s: no encoding finding:%s", name, dump(r))
		}
	}
	r := AnalyseConfig([]byte{0xff, 0xfe, 0x41}, "", Limits{})
	if !has(r, RuleMalformed, finding.High) || r.Complete {
		t.Errorf("odd utf-16:%s", dump(r))
	}
}

func TestPyBase64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"aGVsbG8=", "hello", true},
		{"aGVs\nbG8=\n", "hello", true},
		{"aGVsbG8=trailing junk", "hello", true},
		{"a!G@V#s", "hel", true},
		{"aGVsbG8", "", false},
		{"aGVsb", "", false},
		{"aGVs\u00e9", "", false},
	} {
		got, ok := pyBase64Decode(tc.in)
		if ok != tc.ok || ok && string(got) != tc.want {
			t.Errorf("%q: got %q %v", tc.in, got, ok)
		}
	}
	if got := string(rawUnicodeEscape("a\u00e3\u20ac")); got != "a\xe3\\u20ac" {
		t.Errorf("rawUnicodeEscape: %q", got)
	}
}

func TestRulesDocumented(t *testing.T) {
	ids := map[string]bool{}
	for _, d := range Rules {
		if !strings.HasPrefix(d.ID, "keras/") || d.Short == "" || len(d.Help) < 80 || ids[d.ID] {
			t.Errorf("bad doc %+v", d)
		}
		ids[d.ID] = true
	}
	// Every rule constant in the package is documented.
	src, _ := os.ReadFile("rules.go")
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "Rule") && strings.Contains(line, `= "keras/`) {
			id := strings.Trim(strings.TrimSpace(strings.SplitN(line, "=", 2)[1]), `"`)
			if !ids[id] {
				t.Errorf("rule %s has no doc", id)
			}
		}
	}
}

func TestConfigsDirAllAnalysed(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/keras/configs/*.json")
	if len(files) < 20 {
		t.Fatalf("only %d configs", len(files))
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		r := AnalyseConfig(b, filepath.Base(f), Limits{})
		if !r.Complete && !strings.Contains(f, "malformed") {
			t.Errorf("%s incomplete:%s", f, dump(r))
		}
	}
}
