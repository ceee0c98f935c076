package gguf

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// FuzzGGUF: any input is scanned without panicking, within its caps,
// deterministically, and every finding is well-formed and documented.
func FuzzGGUF(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.gguf"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) <= 1<<20 {
			f.Add(b)
		}
	}
	for _, b := range [][]byte{
		nil,
		[]byte("GGUF"),
		base().bytes(),
		func() []byte { g := base(); g.version = 1; return rebuild(g).bytes() }(),
		func() []byte { g := base(); g.be = true; return rebuild(g).bytes() }(),
		func() []byte { g := base(); g.nkv = u64p(1 << 62); return g.bytes() }(),
		func() []byte {
			g := base()
			g.kv("x", tArray, g.arr(tArray, 2, append(g.arr(tBool, 1, []byte{3}), g.arr(tString, 1, g.str("s"))...)))
			return g.bytes()
		}(),
		func() []byte {
			g := base()
			g.kvStr(templateKey+".rag", "{{ x }}")
			g.kvU32("general.alignment", 64)
			return g.bytes()
		}(),
		func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{256, 1 << 62}, 12, 96)
			return g.bytes()
		}(),
	} {
		f.Add(b)
	}
	docs := map[string]bool{}
	for _, d := range Rules {
		docs[d.ID] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxKVs: 64, MaxTensors: 64, MaxKey: 256, MaxString: 512, MaxTemplate: 1024, MaxDepth: 3, MaxGeneral: 4}
		r := Scan(bytes.NewReader(data), int64(len(data)), lim)
		if !r.Complete && len(r.Findings) == 0 {
			t.Fatal("incomplete without a finding")
		}
		for _, fd := range r.Findings {
			if fd.Rule == "" || !docs[fd.Rule] || fd.Level < finding.Info || fd.Level > finding.Critical || fd.Message == "" || fd.Offset < -1 || strings.ContainsAny(fd.Message, "\n\r") {
				t.Fatalf("bad finding %+v", fd)
			}
		}
		if r.Parameters < 0 || r.KVs < 0 || r.Tensors < 0 || len(r.General) > 4 {
			t.Fatalf("facts out of range: %+v", r)
		}
		for _, tp := range r.Templates {
			if len(tp.Text) > 1024 || tp.Offset < 0 || tp.Offset+int64(len(tp.Text)) > int64(len(data)) || string(data[tp.Offset:tp.Offset+int64(len(tp.Text))]) != tp.Text {
				t.Fatalf("template %q at %d is not the file's bytes", tp.Name, tp.Offset)
			}
		}
		// The same bytes through a reader that returns one byte at a time.
		r2 := Scan(&oneByte{data}, int64(len(data)), lim)
		if !reflect.DeepEqual(r, r2) {
			t.Fatal("a byte-at-a-time reader gives a different report")
		}
	})
}

type oneByte struct{ b []byte }

func (o *oneByte) Read(p []byte) (int, error) {
	if len(o.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = o.b[0]
	o.b = o.b[1:]
	return 1, nil
}
