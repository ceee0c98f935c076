package keras

import (
	"encoding/binary"
	"sort"
	"strconv"
)

// A light reader for CPython marshal data holding a code object, as
// Keras' func_dump writes it (marshal.dumps(fn.__code__)). It never builds
// Python objects: it walks the stream, keeps the strings a code object names
// (co_names) and the string constants (co_consts), and recurses into nested
// code objects. The marshal stream does not say which Python wrote it, so
// the code-object layouts of 3.0–3.7, 3.8–3.10 and 3.11–3.13 are tried in
// turn and the one that consumes the stream exactly wins.

const (
	mFlagRef = 0x80
)

type codeLayout struct {
	name     string
	ints     int // int32 fields before co_code
	trailing int // objects after co_firstlineno
}

var codeLayouts = []codeLayout{
	{"3.11-3.13", 5, 2}, // argcount posonly kwonly stacksize flags | code consts names localsplusnames localspluskinds filename name qualname | firstlineno | linetable exceptiontable
	{"3.8-3.10", 6, 1},  // argcount posonly kwonly nlocals stacksize flags | code consts names varnames freevars cellvars filename name | firstlineno | lnotab
	{"3.0-3.7", 5, 1},   // argcount kwonly nlocals stacksize flags | same 8 objects | firstlineno | lnotab
}

// mval is what the reader keeps of an object: strings and the items of
// sequences (so names tuples and const tuples can be read), nothing else.
type mval struct {
	str   string
	isStr bool
	items []mval
}

type mreader struct {
	b        []byte
	pos      int
	lay      codeLayout
	refs     []mval
	objs     int
	maxObjs  int
	maxDepth int
	err      string
	limit    bool
	names    []string
	strs     []string
	seen     map[string]bool
	codes    int
}

// codeInfo is what analyseMarshal learned about a payload.
type codeInfo struct {
	isCode bool   // starts with a code-object type byte
	parsed bool   // the whole code object was read under some layout
	layout string // the layout that read it
	names  []string
	strs   []string
	codes  int // code objects seen, nested included
	err    string
	limit  bool
}

func analyseMarshal(b []byte, maxObjs, maxDepth int) codeInfo {
	ci := codeInfo{}
	if len(b) == 0 || b[0]&^mFlagRef != 'c' {
		if len(b) == 0 {
			ci.err = "empty payload"
		} else {
			ci.err = "first byte 0x" + strconv.FormatUint(uint64(b[0]), 16) + " is not a marshal code object"
		}
		return ci
	}
	ci.isCode = true
	var best *mreader
	for _, lay := range codeLayouts {
		r := &mreader{b: b, lay: lay, maxObjs: maxObjs, maxDepth: maxDepth, seen: map[string]bool{}}
		r.object(0)
		if r.err == "" && r.pos == len(b) {
			best = r
			break
		}
		if best == nil && r.err == "" {
			best = r
		}
		if r.limit && best == nil {
			ci.limit = true
		}
	}
	if best == nil {
		ci.err = "code object does not parse under any CPython 3.x layout"
		return ci
	}
	ci.parsed = true
	ci.limit = false
	ci.layout = best.lay.name
	ci.names, ci.strs, ci.codes = best.names, best.strs, best.codes
	return ci
}

func (r *mreader) fail(msg string) {
	if r.err == "" {
		r.err = msg
	}
}

func (r *mreader) u8() int {
	if r.pos >= len(r.b) {
		r.fail("truncated")
		return 0
	}
	v := r.b[r.pos]
	r.pos++
	return int(v)
}

func (r *mreader) i32() int64 {
	if len(r.b)-r.pos < 4 {
		r.fail("truncated")
		r.pos = len(r.b)
		return 0
	}
	v := int32(binary.LittleEndian.Uint32(r.b[r.pos:]))
	r.pos += 4
	return int64(v)
}

func (r *mreader) skip(n int64) {
	if n < 0 || n > int64(len(r.b)-r.pos) {
		r.fail("length runs past the end")
		r.pos = len(r.b)
		return
	}
	r.pos += int(n)
}

// count checks a sequence length against the bytes left: every item takes
// at least one byte, so a larger count is a lie and is rejected before any
// allocation.
func (r *mreader) count(n int64) int {
	if n < 0 || n > int64(len(r.b)-r.pos) {
		r.fail("count runs past the end")
		r.pos = len(r.b)
		return 0
	}
	return int(n)
}

func (r *mreader) str(n int64) mval {
	if n < 0 || n > int64(len(r.b)-r.pos) {
		r.fail("length runs past the end")
		r.pos = len(r.b)
		return mval{}
	}
	s := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	if len(s) > 4096 {
		s = s[:4096] // evidence only
	}
	return mval{str: string(s), isStr: true}
}

func (r *mreader) object(depth int) mval {
	if r.err != "" {
		return mval{}
	}
	if depth > r.maxDepth {
		r.limit = true
		r.fail("nesting deeper than " + strconv.Itoa(r.maxDepth))
		return mval{}
	}
	r.objs++
	if r.objs > r.maxObjs {
		r.limit = true
		r.fail("more than " + strconv.Itoa(r.maxObjs) + " objects")
		return mval{}
	}
	code := r.u8()
	if r.err != "" {
		return mval{}
	}
	flag := code&mFlagRef != 0
	typ := byte(code &^ mFlagRef)
	ref := -1
	if flag {
		// CPython reserves a containers' ref slot before reading its items and
		// appends a scalar's after; both give the same numbering.
		ref = len(r.refs)
		r.refs = append(r.refs, mval{})
	}
	var v mval
	switch typ {
	case '0', 'N', 'F', 'T', 'S', '.':
	case 'i':
		r.skip(4)
	case 'I', 'g':
		r.skip(8)
	case 'y':
		r.skip(16)
	case 'f':
		r.skip(int64(r.u8()))
	case 'x':
		r.skip(int64(r.u8()))
		r.skip(int64(r.u8()))
	case 'l':
		n := r.i32()
		if n < 0 {
			n = -n
		}
		if n > int64(len(r.b)) {
			r.fail("long runs past the end")
			break
		}
		r.skip(2 * n)
	case 's', 't', 'u', 'a', 'A':
		v = r.str(r.i32())
	case 'z', 'Z':
		v = r.str(int64(r.u8()))
	case 'r':
		i := r.i32()
		if i < 0 || i >= int64(len(r.refs)) {
			r.fail("reference to an unknown object")
			break
		}
		return r.refs[i]
	case '(', '[', '<', '>':
		v = r.seq(r.count(r.i32()), depth)
	case ')':
		v = r.seq(r.count(int64(r.u8())), depth)
	case '{':
		for r.err == "" {
			if r.pos < len(r.b) && r.b[r.pos] == '0' {
				r.pos++
				break
			}
			r.object(depth + 1)
			r.object(depth + 1)
		}
	case ':': // slice (3.14)
		r.object(depth + 1)
		r.object(depth + 1)
		r.object(depth + 1)
	case 'c':
		r.code(depth)
	default:
		r.fail("unknown marshal type " + strconv.QuoteRune(rune(typ)))
	}
	if ref >= 0 && r.err == "" {
		r.refs[ref] = v
	}
	return v
}

func (r *mreader) seq(n int, depth int) mval {
	v := mval{}
	for i := 0; i < n && r.err == ""; i++ {
		it := r.object(depth + 1)
		if it.isStr || it.items != nil {
			v.items = append(v.items, it)
		}
	}
	if v.items == nil {
		v.items = []mval{} // a sequence, even if it kept nothing
	}
	return v
}

func (r *mreader) code(depth int) {
	r.codes++
	for i := 0; i < r.lay.ints; i++ {
		r.i32()
	}
	r.object(depth + 1) // co_code
	consts := r.object(depth + 1)
	names := r.object(depth + 1)
	for i := 0; i < 5; i++ { // varnames/localsplusnames .. name/qualname
		r.object(depth + 1)
	}
	r.i32() // firstlineno
	for i := 0; i < r.lay.trailing; i++ {
		r.object(depth + 1)
	}
	if r.err != "" {
		return
	}
	for _, n := range names.items {
		if n.isStr {
			r.add(&r.names, n.str)
		}
	}
	r.consts(consts, 0)
}

func (r *mreader) consts(v mval, depth int) {
	if depth > 16 {
		return
	}
	if v.isStr {
		r.add(&r.strs, v.str)
		return
	}
	for _, it := range v.items {
		r.consts(it, depth+1)
	}
}

func (r *mreader) add(to *[]string, s string) {
	key := s
	if to == &r.names {
		key = "n:" + s
	} else {
		key = "s:" + s
	}
	if r.seen[key] || len(*to) >= 256 {
		return
	}
	r.seen[key] = true
	*to = append(*to, s)
}

// dangerousCodeNames are names whose presence in a lambda's bytecode (as a
// global or attribute it loads, or a string it passes) shows it reaches
// the operating system, the interpreter or the network.
var dangerousCodeNames = map[string]bool{
	"os": true, "posix": true, "nt": true, "sys": true, "subprocess": true, "system": true,
	"popen": true, "Popen": true, "spawnl": true, "spawnv": true, "spawnve": true, "spawnlp": true,
	"execl": true, "execle": true, "execlp": true, "execv": true, "execve": true, "execvp": true,
	"fork": true, "forkpty": true, "kill": true, "run": true, "call": true, "check_call": true,
	"check_output": true, "getoutput": true, "getstatusoutput": true,
	"eval": true, "exec": true, "compile": true, "__import__": true, "import_module": true,
	"importlib": true, "builtins": true, "__builtins__": true, "__builtin__": true,
	"getattr": true, "setattr": true, "delattr": true, "globals": true, "locals": true, "vars": true,
	"__globals__": true, "__subclasses__": true, "__class__": true, "__bases__": true, "__mro__": true,
	"__code__": true, "__reduce__": true, "__reduce_ex__": true, "__getattribute__": true,
	"open": true, "remove": true, "unlink": true, "rmtree": true, "shutil": true, "rename": true,
	"socket": true, "connect": true, "urllib": true, "urlopen": true, "urlretrieve": true,
	"request": true, "requests": true, "http": true, "httplib": true, "ftplib": true, "smtplib": true,
	"webbrowser": true, "pty": true, "ctypes": true, "cdll": true, "CDLL": true, "pickle": true,
	"cPickle": true, "marshal": true, "loads": true, "load": true, "runpy": true, "run_path": true,
	"run_module": true, "code": true, "interact": true, "breakpoint": true, "input": true,
	"pdb": true, "multiprocessing": true, "threading": true, "signal": true, "tempfile": true,
	"base64": true, "b64decode": true, "codecs": true, "decode": true, "write_file": true,
	"read_file": true, "gfile": true, "py_function": true, "numpy_function": true, "py_func": true,
	"get_file": true, "pip": true, "setuptools": true, "dill": true, "joblib": true, "torch": true,
}

// dangerousIn returns the names and strings of ci that are in
// dangerousCodeNames, sorted.
func (ci codeInfo) dangerous() []string {
	set := map[string]bool{}
	for _, n := range ci.names {
		if dangerousCodeNames[n] {
			set[n] = true
		}
	}
	for _, s := range ci.strs {
		if dangerousCodeNames[s] {
			set[s] = true
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
