package scan

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/source"
)

// ggufWithTemplate writes a minimal GGUF v3: a few general.* keys, the
// template under key, and no tensors.
func ggufWithTemplate(key, tmpl string) []byte {
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	str := func(s string) { le(uint64(len(s))); b.WriteString(s) }
	b.WriteString("GGUF")
	le(uint32(3))
	le(uint64(0)) // tensors
	le(uint64(3)) // key/values
	str("general.architecture")
	le(uint32(8))
	str("llama")
	str("general.alignment")
	le(uint32(4))
	le(uint32(32))
	str(key)
	le(uint32(8))
	str(tmpl)
	return b.Bytes()
}

func bytesFile(name string, data []byte) source.File {
	return source.File{Path: name, Size: int64(len(data)), Open: func() (source.Reader, error) { return nopCloserT{bytes.NewReader(data)}, nil }}
}

type nopCloserT struct{ *bytes.Reader }

func (nopCloserT) Close() error { return nil }

// Every real chat template in the corpus, carried the three ways models
// carry them (GGUF metadata, tokenizer_config.json, chat_template.jinja),
// gives no finding at medium or above, and its hash lands in the facts.
func TestRealChatTemplatesClean(t *testing.T) {
	files, err := filepath.Glob("../testdata/chat-templates/*.jinja")
	if err != nil || len(files) < 258 {
		t.Fatalf("want the 258 real templates, found %d (%v)", len(files), err)
	}
	e := New(Config{})
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := string(raw)
		cfg, _ := json.Marshal(map[string]any{"bos_token": "<s>", "chat_template": tmpl, "tokenizer_class": "PreTrainedTokenizerFast"})
		for _, f := range []source.File{
			bytesFile("model.gguf", ggufWithTemplate("tokenizer.chat_template", tmpl)),
			bytesFile("named.gguf", ggufWithTemplate("tokenizer.chat_template.tool_use", tmpl)),
			bytesFile("tokenizer_config.json", cfg),
			bytesFile("chat_template.jinja", raw),
		} {
			res := e.File(context.Background(), f, filepath.Base(p)+"/"+f.Path)
			if res.Max() >= Medium || !res.Complete {
				t.Errorf("%s as %s: max %s complete %v:%s", filepath.Base(p), f.Path, res.Max(), res.Complete, describeFile(res))
				continue
			}
			if res.Facts == nil || len(res.Facts.ChatTemplates) != 1 || res.Facts.ChatTemplates[0].Size != len(tmpl) {
				t.Errorf("%s as %s: template not in the facts: %+v", filepath.Base(p), f.Path, res.Facts)
			}
		}
	}
}

// A template payload is flagged wherever the model carries it.
func TestTemplatePayloadEverywhere(t *testing.T) {
	payload := "{{ cycler.__init__.__globals__.os.popen('echo hallmark-marker').read() }}"
	cfg, _ := json.Marshal(map[string]any{"chat_template": []map[string]string{{"name": "default", "template": "{{ messages }}"}, {"name": "rag", "template": payload}}})
	e := New(Config{})
	for _, f := range []source.File{
		bytesFile("model.gguf", ggufWithTemplate("tokenizer.chat_template", payload)),
		bytesFile("named.gguf", ggufWithTemplate("tokenizer.chat_template.rag", payload)),
		bytesFile("tokenizer_config.json", cfg),
		bytesFile("chat_template.jinja", []byte(payload)),
	} {
		res := e.File(context.Background(), f, f.Path)
		ok := false
		for _, fd := range res.Findings {
			if strings.HasPrefix(fd.Rule, "template/") && fd.Severity == Critical && fd.Location != "" {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: payload not flagged critical with a location:%s", f.Path, describeFile(res))
		}
	}
}
