package keras

import (
	"strconv"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// lambdaLayer judges a Lambda layer. Keras 2 / tf.keras write
// config.function as func_dump's [base64 code, defaults, closure] with
// function_type "lambda", or a function name with function_type "function"
// and its module; Keras 3 writes {"class_name": "__lambda__", "config":
// {"code", "defaults", "closure"}} or a serialized function reference. The
// same three shapes exist for output_shape and mask.
func (w *walker) lambdaLayer(o node) {
	w.rep.Lambdas++
	name := w.layerName(o)
	cfg, ok := w.member(o, "config")
	if !ok || cfg.kind != kObject {
		return // nothing Keras could build; the walk still visits what is there
	}
	for _, f := range [][3]string{
		{"function", "function_type", "module"},
		{"output_shape", "output_shape_type", "output_shape_module"},
		{"mask", "mask_type", "mask_module"},
	} {
		v, ok := w.member(cfg, f[0])
		if !ok {
			continue
		}
		ftype, _ := w.str(cfg, f[1])
		desc := "Lambda layer" + quoteName(name)
		if f[0] != "function" {
			desc += " (" + f[0] + ")"
		}
		n := w.pushKeys("config", f[0])
		switch {
		case v.kind == kObject:
			c, _ := w.str(v, "class_name")
			switch {
			case c == "__lambda__":
				w.handled[v.first] = true
				w.lambdaObject(v, desc)
			case c == "__tuple__" || ftype == "lambda":
				// tf.keras' SavedModel metadata (json_utils) writes func_dump's
				// tuple as {"class_name": "__tuple__", "items": [code, …]}.
				items, ok := w.member(v, "items")
				if !ok || items.kind != kArray {
					items = v
				}
				m := w.pushKeys("items")
				w.payload(items, desc)
				w.pop(m)
			}
			// Any other object is a serialized reference: the walk judges it.
		case ftype == "lambda" || ftype == "" && f[0] == "function" && (v.kind == kString || v.kind == kArray):
			w.payload(v, desc)
		case ftype == "function" && v.kind == kString:
			var mod *string
			if m, ok := w.str(cfg, f[2]); ok {
				mod = &m
			}
			w.judgeRef(mod, v.s, true, "", desc+" function")
		}
		w.pop(n)
	}
}

// lambdaObject judges a Keras 3 {"class_name": "__lambda__"} object: the
// Lambda layer form keeps the code in config.code, serialization_lib's
// generic form keeps func_dump's tuple in config.value.
func (w *walker) lambdaObject(o node, desc string) {
	cfg, ok := w.member(o, "config")
	if ok && cfg.kind == kObject {
		for _, key := range []string{"code", "value"} {
			if v, ok := w.member(cfg, key); ok && (v.kind == kString || v.kind == kArray) {
				n := w.pushKeys("config", key)
				w.payload(v, desc)
				w.pop(n)
				return
			}
		}
	}
	w.add(RuleLambda, finding.High, desc+" is a serialized Python lambda without a code string; Keras cannot load it, but it marks an attempt to embed code", "")
}

// payload judges func_dump output: the base64 string, or a list whose
// first element is it.
func (w *walker) payload(v node, desc string) {
	code, ok := "", false
	switch v.kind {
	case kString:
		code, ok = v.s, true
	case kArray:
		if k := w.kids(v); len(k) > 0 && k[0].idx == 0 && k[0].kind == kString {
			code, ok = k[0].s, true
		}
	}
	if !ok || code == "" {
		w.add(RuleLambda, finding.High, desc+" is declared as a Python lambda but its code is missing or not a string", "")
		return
	}
	w.judgeCode(code, desc)
}

func (w *walker) judgeCode(code, desc string) {
	if max := 2 * w.lim.MaxCodeBytes; len(code) > max {
		w.limit(desc + ": its code string is larger than the decode cap")
		code = code[:max]
	}
	// Keras' func_load: base64 (binascii's lenient decoder), falling back to
	// the raw_unicode_escape bytes of the string when that fails.
	raw, ok := pyBase64Decode(code)
	if !ok {
		raw = rawUnicodeEscape(code)
	}
	if len(raw) > w.lim.MaxCodeBytes {
		raw = raw[:w.lim.MaxCodeBytes]
	}
	ci := analyseMarshal(raw, w.lim.MaxMarshalObjects, w.lim.MaxMarshalDepth)
	if ci.limit {
		w.limit(desc + ": its bytecode exceeds the marshal reader's caps")
	}
	if !ci.isCode {
		w.add(RuleLambda, finding.High, desc+" carries a function payload that is not a marshalled code object ("+ci.err+
			"); Keras cannot run it, but it marks an attempt to embed code", hexPrefix(raw))
		return
	}
	msg := desc + " carries marshalled Python bytecode that runs when the model is loaded (CVE-2024-3660)"
	if d := ci.dangerous(); len(d) > 0 {
		msg += "; it uses " + strings.Join(d, ", ")
	}
	w.add(RuleLambda, finding.Critical, msg, codeEvidence(ci))
}

func codeEvidence(ci codeInfo) string {
	var b strings.Builder
	if d := ci.dangerous(); len(d) > 0 {
		b.WriteString("dangerous=[" + strings.Join(d, " ") + "] ")
	}
	if len(ci.names) > 0 {
		b.WriteString("names=[" + strings.Join(limitList(ci.names, 24), " ") + "] ")
	}
	if len(ci.strs) > 0 {
		q := make([]string, 0, 8)
		for _, s := range limitList(ci.strs, 8) {
			q = append(q, strconv.Quote(finding.Shorten(s, 80)))
		}
		b.WriteString("strings=[" + strings.Join(q, " ") + "] ")
	}
	if ci.parsed {
		b.WriteString("(CPython " + ci.layout + " code object)")
	} else {
		b.WriteString("(code object not fully parsed: " + ci.err + ")")
	}
	return b.String()
}

func limitList(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func hexPrefix(b []byte) string {
	const hexd = "0123456789abcdef"
	n := min(len(b), 16)
	out := make([]byte, 0, 3*n+8)
	out = append(out, "bytes: "...)
	for i := 0; i < n; i++ {
		out = append(out, hexd[b[i]>>4], hexd[b[i]&15], ' ')
	}
	return strings.TrimSpace(string(out))
}

// pyBase64Decode decodes like CPython's binascii.a2b_base64 in its default
// (non-strict) mode: characters outside the alphabet are skipped, a
// completing pad ends the data, and a dangling quad is an error.
func pyBase64Decode(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s)*3/4+3)
	quad, pads := 0, 0
	var left byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return nil, false // str.encode("ascii") fails first
		}
		if c == '=' {
			pads++
			if quad >= 2 && quad+pads >= 4 {
				return out, true
			}
			continue
		}
		var v byte
		switch {
		case c >= 'A' && c <= 'Z':
			v = c - 'A'
		case c >= 'a' && c <= 'z':
			v = c - 'a' + 26
		case c >= '0' && c <= '9':
			v = c - '0' + 52
		case c == '+':
			v = 62
		case c == '/':
			v = 63
		default:
			continue
		}
		pads = 0
		switch quad {
		case 0:
			left, quad = v, 1
		case 1:
			out = append(out, left<<2|v>>4)
			left, quad = v&0x0f, 2
		case 2:
			out = append(out, left<<4|v>>2)
			left, quad = v&0x03, 3
		case 3:
			out = append(out, left<<6|v)
			left, quad = 0, 0
		}
	}
	return out, quad == 0
}

// rawUnicodeEscape is str.encode("raw_unicode_escape"): code points below
// 256 become one byte, others \uXXXX or \UXXXXXXXX.
func rawUnicodeEscape(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < 0x100:
			out = append(out, byte(r))
		case r <= 0xffff:
			out = append(out, '\\', 'u')
			out = append(out, hex4(uint32(r), 4)...)
		default:
			out = append(out, '\\', 'U')
			out = append(out, hex4(uint32(r), 8)...)
		}
	}
	return out
}

func hex4(v uint32, digits int) []byte {
	const hexd = "0123456789abcdef"
	b := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		b[i] = hexd[v&15]
		v >>= 4
	}
	return b
}
