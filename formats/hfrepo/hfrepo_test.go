package hfrepo

import (
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

func rules(l finding.List) string {
	var out []string
	for _, f := range l.Findings {
		out = append(out, f.Rule+":"+f.Level.String())
	}
	return strings.Join(out, " ")
}

func TestAnalyseJSON(t *testing.T) {
	for _, c := range []struct {
		name, json string
		automap    []string
		templates  int
		want       string // substring of rules()
		keras      bool
	}{
		{name: "llama config", json: `{"architectures":["LlamaForCausalLM"],"model_type":"llama","max_position_embeddings":131072,"torch_dtype":"bfloat16"}`},
		{name: "auto_map", json: `{"auto_map":{"AutoConfig":"configuration_x.XConfig","AutoTokenizer":["tokenization_x.XTok",null]}}`, automap: []string{"AutoConfig=configuration_x.XConfig", "AutoTokenizer=tokenization_x.XTok"}},
		{name: "template string", json: `{"chat_template":"{{ messages }}"}`, templates: 1},
		{name: "template list", json: `{"chat_template":[{"name":"default","template":"a"},{"name":"tool_use","template":"b"}]}`, templates: 2},
		{name: "template null", json: `{"chat_template":null}`},
		{name: "template wrong shape", json: `{"chat_template":42}`, want: "hf/chat-template:medium"},
		{name: "duplicate template", json: `{"chat_template":"a","chat_template":"b"}`, templates: 2, want: "hf/duplicate-key:high"},
		{name: "duplicate other", json: `{"x":1,"x":2}`, want: "hf/duplicate-key:low"},
		{name: "trailing", json: `{"x":1} {}`, want: "hf/malformed-json:low"},
		{name: "broken", json: `{"x":`, want: "hf/malformed-json:low"},
		{name: "keras", json: `{"module":"keras","class_name":"Sequential","config":{}}`, keras: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := AnalyseJSON(strings.NewReader(c.json), Limits{})
			got := rules(rep.Findings)
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Errorf("findings %q, want %q", got, c.want)
			}
			if strings.Join(rep.AutoMap, ",") != strings.Join(c.automap, ",") {
				t.Errorf("auto_map %q, want %q", rep.AutoMap, c.automap)
			}
			if len(rep.Templates) != c.templates {
				t.Errorf("%d templates, want %d", len(rep.Templates), c.templates)
			}
			if rep.KerasConfig != c.keras {
				t.Errorf("keras %v", rep.KerasConfig)
			}
		})
	}
	rep := AnalyseJSON(strings.NewReader(`{"architectures":["LlamaForCausalLM"],"model_type":"llama","max_position_embeddings":131072,"torch_dtype":"bfloat16","quantization_config":{"quant_method":"gptq","bits":4}}`), Limits{})
	if rep.Architecture != "LlamaForCausalLM" || rep.ContextLength != 131072 || rep.Dtype != "bfloat16" || rep.Quantization != "gptq (4-bit)" {
		t.Errorf("facts %+v", rep)
	}
	big := AnalyseJSON(strings.NewReader(`{"x":"`+strings.Repeat("a", 100)+`"}`), Limits{MaxJSON: 50})
	if got := rules(big.Findings); got != "hf/too-large:medium" || big.Complete {
		t.Errorf("too large: %q complete=%v", got, big.Complete)
	}
}

func TestCodeModule(t *testing.T) {
	for ref, want := range map[string][2]string{
		"AutoModel=modeling_x.MyModel":      {"modeling_x.py", ""},
		"org/repo--modeling_x.MyModel":      {"modeling_x.py", "org/repo"},
		"AutoModel=sub.modeling_x.MyModel":  {"sub/modeling_x.py", ""},
		"AutoTokenizer=tokenization_x.XTok": {"tokenization_x.py", ""},
	} {
		f, r := CodeModule(ref)
		if f != want[0] || r != want[1] {
			t.Errorf("%s → %s %s, want %v", ref, f, r, want)
		}
	}
}

func TestAnalysePython(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"import os\nx = os.path.join('a', 'b')\nmodel.eval()\n", "hf/python-code:info"},
		{"import os\nos.system('echo hallmark-marker')\n", "hf/python-host-access:high"},
		{"import subprocess\n", "hf/python-host-access:high"},
		{"x = eval(s)\n", "hf/python-host-access:high"},
		{"# os.system('x') in a comment\n", "hf/python-code:info"},
		{"def f():\n    \"\"\"\n    >>> exec(open('x').read())\n    \"\"\"\n    return 1\n", "hf/python-code:info"},
		{"getattr(__import__('subprocess'), 'run')('x')\n", "hf/python-host-access:high"},
		{"import socket\n", "hf/python-host-access:high"},
		{"data = pickle.loads(blob)\n", "hf/python-host-access:medium"},
		{"s = '" + strings.Repeat("a", 100000) + "'; os.system('x')\n", "hf/python-host-access:high"},
	} {
		l, complete := AnalysePython(strings.NewReader(c.src), Limits{})
		if got := rules(l); !strings.Contains(got, c.want) || !complete {
			t.Errorf("%.60q: %q, want %q", c.src, got, c.want)
		}
	}
}

func TestModelCard(t *testing.T) {
	lic, base := ModelCard([]byte("---\nlicense: apache-2.0\nbase_model: \"org/base\"\ntags:\n- x\n---\n# Title\n"))
	if lic != "apache-2.0" || base != "org/base" {
		t.Errorf("%q %q", lic, base)
	}
	if lic, _ := ModelCard([]byte("# no front matter\nlicense: mit\n")); lic != "" {
		t.Errorf("licence from the body: %q", lic)
	}
}

func FuzzAnalyseJSON(f *testing.F) {
	for _, s := range []string{`{"auto_map":{"AutoModel":"m.M"},"chat_template":[{"name":"a","template":"b"}]}`, `{"a":1,"a":2}`, `{`, `{"chat_template":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := AnalyseJSONBytes(data, Limits{MaxJSON: 1 << 20})
		for _, fd := range rep.Findings.Findings {
			if fd.Rule == "" || fd.Level == 0 {
				t.Fatalf("bad finding %+v", fd)
			}
		}
		l, _ := AnalysePython(strings.NewReader(string(data)), Limits{})
		if len(l.Findings) == 0 {
			t.Fatal("python analysis reported nothing")
		}
	})
}
