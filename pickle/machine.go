package pickle

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Limits caps what the engine holds in memory for one file. The defaults
// live in internal/limits; a zero field takes the floor given here.
type Limits struct {
	MaxOperand     int64 // bytes of one string/bytes operand kept (longer ones are skipped)
	MaxStack       int   // values on the stack before the machine degrades
	MaxMemo        int   // memo entries before the machine degrades
	MaxFindings    int   // distinct findings per file
	MaxNestedDepth int   // pickles inside pickles
	MaxNestedBytes int64 // total bytes of nested pickles scanned per file
	MaxStreams     int   // stacked pickles per file
	ResyncWindow   int64 // bytes searched for a next pickle after junk
	MaxResyncs     int   // junk regions searched per file
	MaxAltViews    int   // re-parses for FRAME parser differentials
}

func (l Limits) withFloors() Limits {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set64 := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	set64(&l.MaxOperand, 1<<20)
	set(&l.MaxStack, 1<<20)
	set(&l.MaxMemo, 1<<20)
	set(&l.MaxFindings, 256)
	set(&l.MaxNestedDepth, 3)
	set64(&l.MaxNestedBytes, 64<<20)
	set(&l.MaxStreams, 4096)
	set64(&l.ResyncWindow, 64<<10)
	set(&l.MaxResyncs, 16)
	set(&l.MaxAltViews, 4)
	return l
}

// Options configure Scan.
type Options struct {
	Policy *Policy // nil: Default()
	Limits Limits
	Base   int64 // offset of the reader's first byte in its file
	// ReaderAt, when set, is the same stream with random access (offsets
	// relative to Base). It lets the engine re-read the stream the way
	// CPython's C unpickler would after a FRAME violation.
	ReaderAt io.ReaderAt
	Size     int64

	depth       int
	nestedBytes *int64
}

// Report is what Scan found in one stream of stacked pickles.
type Report struct {
	Findings []Finding
	Streams  int      // pickles that ended with STOP
	Opcodes  int64    // opcodes decoded
	Protocol int      // highest PROTO seen
	Globals  []string // distinct globals referenced, sorted (at most 512)
	End      int64    // offset where parsing stopped
	Complete bool     // every byte up to the end of the input was parsed as pickle
	Degraded bool     // a state cap was reached and values were no longer tracked
	Trailing bool     // bytes that are not a pickle follow a pickle
}

// Max returns the highest level among the findings, or 0.
func (r *Report) Max() Level {
	var m Level
	for _, f := range r.Findings {
		if f.Level > m {
			m = f.Level
		}
	}
	return m
}

// Scan reads stacked pickles from r to its end and reports what loading
// them would import and call. It never evaluates anything, never allocates
// more than the limits allow, and keeps what it saw before any error.
func Scan(r io.Reader, opt Options) *Report {
	if opt.Policy == nil {
		opt.Policy = Default()
	}
	opt.Limits = opt.Limits.withFloors()
	if opt.nestedBytes == nil {
		var n int64
		opt.nestedBytes = &n
	}
	m := &machine{opt: &opt, pol: opt.Policy, lim: opt.Limits, rep: &Report{}, findIdx: map[string]int{}, globals: map[string]bool{}}
	m.run(NewDecoder(r, opt.Base, opt.Limits.MaxOperand), false)
	for i, alt := range m.altResumes {
		if i >= m.lim.MaxAltViews {
			break
		}
		// The view of CPython's C unpickler after a FRAME violation: the
		// opcode's operand is read from the frame end and parsing goes on
		// from there, so what linear parsers saw as data is scanned too.
		m.altView(alt, fmt.Sprintf("in the C-unpickler view from offset %d: ", alt.at))
	}
	for _, alt := range m.joblibViews {
		// pickle.load (not joblib) parses joblib's raw array bytes as opcodes.
		m.altView(alt, fmt.Sprintf("in the pickle.load view (joblib reads raw array bytes there) from offset %d: ", alt.at))
	}
	rep := m.rep
	for g := range m.globals {
		rep.Globals = append(rep.Globals, g)
	}
	sort.Strings(rep.Globals)
	if len(rep.Globals) > 512 {
		rep.Globals = rep.Globals[:512]
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		if rep.Findings[i].Level != rep.Findings[j].Level {
			return rep.Findings[i].Level > rep.Findings[j].Level
		}
		return rep.Findings[i].Offset < rep.Findings[j].Offset
	})
	return rep
}

// altView is where a FRAME violation makes the C unpickler read on.
type altView struct {
	at      int64
	op      Opcode
	operand bool
}

// classify is Policy.Classify with a per-file cache: model pickles call
// the same few globals thousands of times.
func (m *machine) classify(g Global) Class {
	if c, ok := m.classCache[g]; ok {
		return c
	}
	c := m.pol.Classify(g)
	if m.classCache == nil {
		m.classCache = map[Global]Class{}
	}
	if len(m.classCache) < 4096 {
		m.classCache[g] = c
	}
	return c
}

// altView scans the stream again from alt.at as another loader would read
// it; only what it imports and calls is kept, not its parse errors.
func (m *machine) altView(alt altView, prefix string) {
	opt := m.opt
	if opt.ReaderAt == nil || alt.at < opt.Base || (opt.Size > 0 && alt.at >= opt.Base+opt.Size) {
		return
	}
	rest := int64(1<<62) - alt.at
	if opt.Size > 0 {
		rest = opt.Base + opt.Size - alt.at
	}
	var r io.Reader = io.NewSectionReader(opt.ReaderAt, alt.at-opt.Base, rest)
	base := alt.at
	if alt.operand {
		r = io.MultiReader(strings.NewReader(string([]byte{byte(alt.op)})), r)
		base--
	}
	sub := &machine{opt: m.opt, pol: m.pol, lim: m.lim, rep: &Report{}, findIdx: map[string]int{}, globals: map[string]bool{}, prefix: prefix}
	sub.run(NewDecoder(r, base, m.lim.MaxOperand), true)
	for _, f := range sub.rep.Findings {
		if f.Rule == RuleMalformed || f.Rule == RuleTrailing {
			continue
		}
		m.add(f)
	}
	for g := range sub.globals {
		m.globals[g] = true
	}
}

type ref struct {
	pos    int64
	called bool
}

type machine struct {
	opt *Options
	pol *Policy
	lim Limits
	rep *Report

	stack     []*Value
	marks     []int
	memo      map[int64]*Value
	overrides map[Global]*Value
	refs      map[Global]*ref
	refOrder  []Global
	produced  bool // this stream imported or called something
	degraded  bool
	lastStrs  [2]*Value

	findIdx     map[string]int
	dropped     int
	globals     map[string]bool
	altResumes  []altView
	joblibViews []altView // where raw joblib array data starts
	prefix      string
	midStream   bool
	classCache  map[Global]Class
	dec         *Decoder
	broken      bool // some stream could not be parsed to its end
}

var errUnderflow = errors.New("unpickling stack underflow")

func (m *machine) resetStream() {
	m.stack = m.stack[:0]
	m.marks = m.marks[:0]
	m.memo = map[int64]*Value{}
	m.overrides = nil
	m.refs = map[Global]*ref{}
	m.refOrder = m.refOrder[:0]
	m.produced = false
	m.degraded = false
	m.lastStrs = [2]*Value{}
}

// run scans stacked pickles until the input ends.
func (m *machine) run(dec *Decoder, alt bool) {
	resyncs := 0
	for stream := 0; ; stream++ {
		if stream >= m.lim.MaxStreams {
			m.find(RuleLimit, LevelHigh, dec.Pos(), Global{}, "", fmt.Sprintf("more than %d stacked pickles; the rest of the file was not scanned", m.lim.MaxStreams), "")
			m.rep.End = dec.Pos()
			return
		}
		b, err := dec.r.Peek(1)
		if len(b) == 0 {
			if dec.frameEnd > dec.Pos() {
				// CPython reads a whole frame before running any of it, so
				// this pickle fails at its FRAME: malformed, fail closed.
				m.broken = true
				m.find(RuleMalformed, LevelHigh, dec.Pos(), Global{}, "", fmt.Sprintf("malformed pickle: a FRAME declares %d bytes past the end of the file", dec.frameEnd-dec.Pos()), "")
			}
			m.rep.End = dec.Pos()
			m.rep.Complete = (err == io.EOF || err == nil) && !m.broken
			return
		}
		start := dec.Pos()
		if !Opcode(b[0]).Valid() {
			if alt {
				m.rep.End = start
				return // another loader's view ends where its parse does
			}
			if stream == 0 {
				m.find(RuleMalformed, LevelHigh, start, Global{}, "", fmt.Sprintf("not a pickle: invalid opcode byte 0x%02x at the start", b[0]), "")
				m.rep.End = start
				return
			}
			if !m.resync(dec, &resyncs, start) {
				return
			}
			continue
		}
		err = m.stream(dec, alt && stream == 0)
		m.flushRefs()
		if err == nil {
			m.rep.Streams++
			continue
		}
		m.broken = true
		if alt {
			m.rep.End = dec.Pos()
			return
		}
		if stream == 0 || m.produced {
			var de *DecodeError
			msg := err.Error()
			if errors.As(err, &de) && strings.Contains(de.Msg, "stream ends") {
				msg = "truncated pickle: " + msg
			} else {
				msg = "malformed pickle: " + msg
			}
			m.find(RuleMalformed, LevelHigh, start, Global{}, "", msg+" (what came before was still scanned)", "")
		}
		if !m.resync(dec, &resyncs, dec.Pos()) {
			return
		}
	}
}

// resync looks for the next pickle after bytes that are not one, within a
// bounded window; it reports the junk once.
func (m *machine) resync(dec *Decoder, resyncs *int, junkAt int64) bool {
	if b, _ := dec.r.Peek(1); len(b) == 0 {
		m.rep.End = dec.Pos()
		m.rep.Complete = true
		return false
	}
	m.rep.Trailing = true
	if *resyncs == 0 {
		m.find(RuleTrailing, LevelLow, junkAt, Global{}, "", fmt.Sprintf("data at offset %d is not a pickle; searched for further pickles after it", junkAt), "")
	}
	*resyncs++
	if *resyncs > m.lim.MaxResyncs {
		m.rep.End = dec.Pos()
		return false
	}
	for searched := int64(0); searched < m.lim.ResyncWindow; searched++ {
		b, _ := dec.r.Peek(2)
		if len(b) < 2 {
			if len(b) == 1 {
				dec.r.Discard(1)
				dec.pos++
			}
			m.rep.End = dec.Pos()
			m.rep.Complete = !m.broken
			return false
		}
		if b[0] == byte(PROTO) && b[1] >= 2 && b[1] <= 5 {
			return true
		}
		dec.r.Discard(1)
		dec.pos++
	}
	m.rep.End = dec.Pos()
	m.find(RuleTrailing, LevelLow, dec.Pos(), Global{}, "", fmt.Sprintf("no pickle found in the %d bytes after offset %d; the rest of the file was not scanned as pickle", m.lim.ResyncWindow, junkAt), "")
	return false
}

// stream runs one pickle to STOP. It returns nil at STOP.
// midStream says the stream is entered in the middle (an alternative view):
// stack underflows then mean state from before, not a malformed pickle.
func (m *machine) stream(dec *Decoder, midStream bool) error {
	m.resetStream()
	m.midStream = midStream
	m.dec = dec
	var op Op
	for {
		err := dec.next(&op)
		if err != nil {
			if err == io.EOF {
				return &DecodeError{Pos: dec.Pos(), Msg: "stream ends before STOP"}
			}
			return err
		}
		m.rep.Opcodes++
		if op.FrameIssue != "" {
			m.find(RuleFrame, LevelCritical, op.Pos, Global{}, "", op.FrameIssue+": CPython's C unpickler and linear parsers read different opcodes from here", "")
			if op.AltResume >= 0 {
				m.altResumes = append(m.altResumes, altView{op.AltResume, op.Code, op.AltOperand})
			}
		}
		if op.Code == STOP {
			if !m.degraded {
				if _, err := m.pop(); err != nil {
					return &DecodeError{Pos: op.Pos, Op: "STOP", Msg: err.Error()}
				}
			}
			return nil
		}
		var serr error
		if m.degraded {
			m.stepDegraded(&op)
		} else {
			serr = m.step(&op)
		}
		if serr != nil {
			return &DecodeError{Pos: op.Pos, Op: op.Code.Name(), Msg: serr.Error()}
		}
	}
}

func (m *machine) push(v *Value) {
	if len(m.stack) >= m.lim.MaxStack {
		m.degrade(fmt.Sprintf("stack deeper than %d values", m.lim.MaxStack))
		return
	}
	m.stack = append(m.stack, v)
}

func (m *machine) fence() int {
	if n := len(m.marks); n > 0 {
		return m.marks[n-1]
	}
	return 0
}

func (m *machine) pop() (*Value, error) {
	if len(m.stack) <= m.fence() {
		if m.midStream && len(m.marks) == 0 {
			return vUnknown, nil
		}
		return nil, errUnderflow
	}
	v := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

func (m *machine) top() (*Value, error) {
	if len(m.stack) <= m.fence() {
		if m.midStream && len(m.marks) == 0 {
			return vUnknown, nil
		}
		return nil, errUnderflow
	}
	return m.stack[len(m.stack)-1], nil
}

func (m *machine) popMark() ([]*Value, error) {
	n := len(m.marks)
	if n == 0 {
		return nil, errors.New("could not find MARK")
	}
	k := m.marks[n-1]
	m.marks = m.marks[:n-1]
	items := m.stack[k:]
	m.stack = m.stack[:k]
	return items, nil
}

func (m *machine) degrade(why string) {
	if m.degraded {
		return
	}
	m.degraded = true
	m.rep.Degraded = true
	m.find(RuleLimit, LevelHigh, -1, Global{}, "", why+": values are no longer tracked in this pickle, only its imports and call opcodes", "")
	m.stack = nil
	m.marks = nil
	m.memo = map[int64]*Value{}
}

func strValue(op *Op) *Value {
	k := KStr
	if op.Bytes {
		k = KBytes
	}
	return &Value{Kind: k, S: op.Str, Trunc: op.Trunc, N: op.Len}
}

// step applies one opcode as CPython's unpickler would, symbolically.
func (m *machine) step(op *Op) error {
	switch op.Code {
	case MARK:
		m.marks = append(m.marks, len(m.stack))
	case POP:
		if n := len(m.marks); n > 0 && m.marks[n-1] == len(m.stack) {
			m.marks = m.marks[:n-1]
			return nil
		}
		_, err := m.pop()
		return err
	case POP_MARK:
		_, err := m.popMark()
		return err
	case DUP:
		v, err := m.top()
		if err != nil {
			return err
		}
		m.push(v)
	case FLOAT, BINFLOAT:
		m.push(vFloat)
	case INT:
		switch op.Bool {
		case 0:
			m.push(vFalse)
		case 1:
			m.push(vTrue)
		default:
			m.push(intValue(op.Int, op.IntOK))
		}
	case BININT, BININT1, BININT2, LONG, LONG1, LONG4:
		m.push(intValue(op.Int, op.IntOK))
	case NONE:
		m.push(vNone)
	case NEWTRUE:
		m.push(vTrue)
	case NEWFALSE:
		m.push(vFalse)
	case STRING, BINSTRING, SHORT_BINSTRING, UNICODE, BINUNICODE, SHORT_BINUNICODE, BINUNICODE8,
		BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8:
		v := strValue(op)
		m.lastStrs[0], m.lastStrs[1] = m.lastStrs[1], v
		m.push(v)
	case PERSID:
		m.persistent(&Value{Kind: KStr, S: op.Str}, op.Pos)
	case BINPERSID:
		pid, err := m.pop()
		if err != nil {
			return err
		}
		m.persistent(pid, op.Pos)
	case REDUCE:
		args, err := m.pop()
		if err != nil {
			return err
		}
		fn, err := m.pop()
		if err != nil {
			return err
		}
		m.push(m.call(fn, args, nil, op.Code, op.Pos))
	case GLOBAL:
		m.push(m.global(Global{op.Str, op.Str2}, op.Pos))
	case INST:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		cls := m.global(Global{op.Str, op.Str2}, op.Pos)
		m.push(m.call(cls, container(KTuple, items), nil, op.Code, op.Pos))
	case OBJ:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return errUnderflow
		}
		m.push(m.call(items[0], container(KTuple, items[1:]), nil, op.Code, op.Pos))
	case NEWOBJ:
		args, err := m.pop()
		if err != nil {
			return err
		}
		cls, err := m.pop()
		if err != nil {
			return err
		}
		m.push(m.call(cls, args, nil, op.Code, op.Pos))
	case NEWOBJ_EX:
		kw, err := m.pop()
		if err != nil {
			return err
		}
		args, err := m.pop()
		if err != nil {
			return err
		}
		cls, err := m.pop()
		if err != nil {
			return err
		}
		m.push(m.call(cls, args, kw, op.Code, op.Pos))
	case STACK_GLOBAL:
		name, err := m.pop()
		if err != nil {
			return err
		}
		mod, err := m.pop()
		if err != nil {
			return err
		}
		ms, ok1 := mod.str()
		ns, ok2 := name.str()
		if !ok1 || !ok2 || mod.Kind != KStr || name.Kind != KStr {
			m.produced = true
			m.find(RuleDynamicGlobal, LevelCritical, op.Pos, Global{}, "", "STACK_GLOBAL operands are not plain strings (they come from calls, attributes set by BUILD or unknown memo entries), so the imported name is decided at load time", "STACK_GLOBAL("+mod.Preview()+", "+name.Preview()+")")
			m.push(vUnknown)
			return nil
		}
		m.push(m.global(Global{ms, ns}, op.Pos))
	case EXT1, EXT2, EXT4:
		m.produced = true
		m.find(RuleExtension, LevelCritical, op.Pos, Global{}, "", fmt.Sprintf("%s %d imports a global through copyreg's extension registry, which model files never use", op.Code.Name(), op.Int), fmt.Sprintf("%s(%d)", op.Code.Name(), op.Int))
		m.push(vUnknown)
	case BUILD:
		state, err := m.pop()
		if err != nil {
			return err
		}
		inst, err := m.top()
		if err != nil {
			return err
		}
		return m.build(inst, state, op.Pos)
	case DICT:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		if len(items)%2 != 0 {
			return errors.New("odd number of items for DICT")
		}
		m.push(container(KDict, items))
	case EMPTY_DICT:
		m.push(&Value{Kind: KDict})
	case SETITEM, SETITEMS:
		var items []*Value
		if op.Code == SETITEM {
			v, err := m.pop()
			if err != nil {
				return err
			}
			k, err := m.pop()
			if err != nil {
				return err
			}
			items = []*Value{k, v}
		} else {
			var err error
			if items, err = m.popMark(); err != nil {
				return err
			}
			if len(items)%2 != 0 {
				return errors.New("odd number of items for SETITEMS")
			}
		}
		d, err := m.top()
		if err != nil {
			return err
		}
		m.mutate(d, KDict, "__setitem__", items, op.Pos)
	case APPEND, APPENDS:
		var items []*Value
		if op.Code == APPEND {
			v, err := m.pop()
			if err != nil {
				return err
			}
			items = []*Value{v}
		} else {
			var err error
			if items, err = m.popMark(); err != nil {
				return err
			}
		}
		l, err := m.top()
		if err != nil {
			return err
		}
		m.mutate(l, KList, "extend", items, op.Pos)
	case ADDITEMS:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		s, err := m.top()
		if err != nil {
			return err
		}
		m.mutate(s, KSet, "add", items, op.Pos)
	case LIST:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		m.push(container(KList, items))
	case EMPTY_LIST:
		m.push(&Value{Kind: KList})
	case TUPLE:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		m.push(container(KTuple, items))
	case EMPTY_TUPLE:
		m.push(container(KTuple, nil))
	case TUPLE1, TUPLE2, TUPLE3:
		n := int(op.Code-TUPLE1) + 1
		if len(m.stack)-n < m.fence() {
			return errUnderflow
		}
		items := m.stack[len(m.stack)-n:]
		t := container(KTuple, items)
		m.stack = m.stack[:len(m.stack)-n]
		m.push(t)
	case EMPTY_SET:
		m.push(&Value{Kind: KSet})
	case FROZENSET:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		m.push(container(KFrozenSet, items))
	case GET, BINGET, LONG_BINGET:
		v, ok := m.memo[op.Int]
		if !ok {
			m.find(RuleMemo, LevelHigh, op.Pos, Global{}, "", fmt.Sprintf("memo key %d read before it was written: CPython stops here with an error, parsers that guess go on", op.Int), "")
			v = vUnknown
		}
		m.push(v)
	case PUT, BINPUT, LONG_BINPUT, MEMOIZE:
		v, err := m.top()
		if err != nil {
			return err
		}
		key := op.Int
		if op.Code == MEMOIZE {
			key = int64(len(m.memo))
		}
		if _, exists := m.memo[key]; !exists && len(m.memo) >= m.lim.MaxMemo {
			m.degrade(fmt.Sprintf("more than %d memo entries", m.lim.MaxMemo))
			return nil
		}
		m.memo[key] = v
	case PROTO:
		if op.Int > 5 {
			return fmt.Errorf("unsupported pickle protocol: %d", op.Int)
		}
		if int(op.Int) > m.rep.Protocol {
			m.rep.Protocol = int(op.Int)
		}
	case FRAME:
	case NEXT_BUFFER:
		m.find(RuleOutOfBand, LevelMedium, op.Pos, Global{}, "", "NEXT_BUFFER takes data from outside the file (protocol-5 out-of-band buffer); a model file cannot be judged by its bytes alone", "")
		m.push(vUnknown)
	case READONLY_BUFFER:
		if _, err := m.top(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("opcode 0x%02x not handled", byte(op.Code))
	}
	return nil
}

// stepDegraded keeps reporting imports and calls after a state cap was hit.
func (m *machine) stepDegraded(op *Op) {
	switch op.Code {
	case STRING, BINSTRING, SHORT_BINSTRING, UNICODE, BINUNICODE, SHORT_BINUNICODE, BINUNICODE8:
		m.lastStrs[0], m.lastStrs[1] = m.lastStrs[1], strValue(op)
	case GLOBAL, INST:
		v := m.global(Global{op.Str, op.Str2}, op.Pos)
		if op.Code == INST {
			m.call(v, vUnknown, nil, op.Code, op.Pos)
		}
	case STACK_GLOBAL:
		ms, ok1 := m.lastStrs[0].str()
		ns, ok2 := m.lastStrs[1].str()
		if ok1 && ok2 {
			m.global(Global{ms, ns}, op.Pos)
		} else {
			m.find(RuleDynamicGlobal, LevelCritical, op.Pos, Global{}, "", "STACK_GLOBAL whose operands could not be resolved after the value-tracking cap", "")
		}
	case EXT1, EXT2, EXT4:
		m.find(RuleExtension, LevelCritical, op.Pos, Global{}, "", fmt.Sprintf("%s %d imports a global through copyreg's extension registry", op.Code.Name(), op.Int), "")
	case NEXT_BUFFER:
		m.find(RuleOutOfBand, LevelMedium, op.Pos, Global{}, "", "NEXT_BUFFER takes data from outside the file", "")
	}
}

// global resolves a GLOBAL/STACK_GLOBAL/INST import and records it.
func (m *machine) global(g Global, pos int64) *Value {
	m.produced = true
	if v, ok := m.overrides[g]; ok {
		// An attribute set earlier by BUILD on a module-level object.
		return v
	}
	if _, ok := m.refs[g]; !ok {
		if len(m.refs) < 4096 {
			m.refs[g] = &ref{pos: pos}
			m.refOrder = append(m.refOrder, g)
		}
		if len(m.globals) < 4096 {
			m.globals[g.String()] = true
		}
		cls := m.classify(g)
		if cls.Verdict == Dunder {
			m.find(RuleDunder, LevelCritical, pos, g, "dunder", "imports "+g.String()+", reaching a dunder attribute", g.String())
		}
	}
	return &Value{Kind: KGlobal, G: g}
}

// flushRefs reports globals that were imported but never called.
func (m *machine) flushRefs() {
	for _, g := range m.refOrder {
		r := m.refs[g]
		if r.called {
			continue
		}
		cls := m.classify(g)
		switch cls.Verdict {
		case Denied:
			m.find(RuleDangerousGlobal, LevelHigh, r.pos, g, cls.Category, fmt.Sprintf("imports %s (%s) without calling it here", g, categoryText(cls.Category)), g.String())
		case Unknown:
			m.find(RuleUnknownGlobal, LevelLow, r.pos, g, "", fmt.Sprintf("imports %s, which is in neither the allowlist nor the denylist; importing runs its module's code", g), g.String())
		}
	}
}

func (m *machine) markCalled(g Global) {
	if r, ok := m.refs[g]; ok {
		r.called = true
	}
}

// target resolves what a callable value refers to. A module is returned
// with an empty Name.
func (m *machine) target(v *Value) (Global, bool) {
	return m.targetDepth(v, 0)
}

// maxTargetDepth bounds how many getattr/attrgetter layers are followed,
// so a chain of calls costs constant time per call site.
const maxTargetDepth = 8

func (m *machine) targetDepth(v *Value, depth int) (Global, bool) {
	if depth > maxTargetDepth {
		return Global{}, false
	}
	depth++
	switch v.Kind {
	case KGlobal:
		return v.G, true
	case KModule:
		return Global{Module: v.S}, true
	case KObject:
		c := v.Call
		if c == nil {
			return Global{}, false
		}
		ft, ok := m.targetDepth(c.Fn, depth)
		if !ok {
			// operator.attrgetter(name)(obj), operator.methodcaller(name, …)(obj)
			if c.Fn.Kind == KObject && c.Fn.Call != nil {
				if gt, ok := m.targetDepth(c.Fn.Call.Fn, depth); ok && (gt.Module == "operator" || gt.Module == "_operator") && (gt.Name == "attrgetter" || gt.Name == "methodcaller") {
					if name, ok := c.Fn.Call.Args.item(0).str(); ok {
						if bt, ok := m.targetDepth(c.Args.item(0), depth); ok {
							return joinAttr(bt, name), true
						}
					}
				}
			}
			return Global{}, false
		}
		if ft == (Global{"builtins", "getattr"}) || ft == (Global{"__builtin__", "getattr"}) {
			if name, ok := c.Args.item(1).str(); ok {
				if bt, ok := m.targetDepth(c.Args.item(0), depth); ok {
					return joinAttr(bt, name), true
				}
			}
		}
		if ft == (Global{"builtins", "dict.get"}) || ft == (Global{"builtins", "dict.__getitem__"}) {
			// dict.get(vars(module), name)
			d := c.Args.item(0)
			if name, ok := c.Args.item(1).str(); ok && d.Kind == KObject && d.Call != nil {
				if vt, ok := m.targetDepth(d.Call.Fn, depth); ok && (vt == Global{"builtins", "vars"}) {
					if bt, ok := m.targetDepth(d.Call.Args.item(0), depth); ok {
						return joinAttr(bt, name), true
					}
				}
			}
		}
	}
	return Global{}, false
}

func joinAttr(g Global, name string) Global {
	if g.Name == "" {
		return Global{g.Module, name}
	}
	return Global{g.Module, g.Name + "." + name}
}

var loaders = map[Global]bool{
	{"pickle", "loads"}: true, {"_pickle", "loads"}: true, {"cPickle", "loads"}: true,
	{"dill", "loads"}: true, {"cloudpickle", "loads"}: true, {"numpy", "loads"}: true,
	{"pickle", "_loads"}: true, {"joblib", "load"}: true, {"torch", "load"}: true,
}

// call records a call site and returns its symbolic result.
func (m *machine) call(fn, args, kw *Value, op Opcode, pos int64) *Value {
	m.produced = true
	res := &Value{Kind: KObject, Call: &Call{Fn: fn, Args: args, Kw: kw, Op: op, Pos: pos}}
	t, ok := m.target(fn)
	if !ok && fn.Kind == KObject && fn.Call != nil {
		// operator.methodcaller(name, …)(obj) calls obj.name.
		if gt, ok2 := m.target(fn.Call.Fn); ok2 && (gt.Module == "operator" || gt.Module == "_operator") && gt.Name == "methodcaller" {
			if name, ok3 := fn.Call.Args.item(0).str(); ok3 {
				if bt, ok3 := m.target(args.item(0)); ok3 {
					t, ok = joinAttr(bt, name), true
				}
			}
		}
	}
	if !ok {
		m.find(RuleUnresolvedCall, LevelHigh, pos, Global{}, "", fmt.Sprintf("%s calls a value that is not a plain import: %s", op.Name(), clip(fn.Preview(), 80)), res.Preview())
		m.scanArgs(args, pos, false)
		return res
	}
	m.judgeCall(t, fn, args, kw, pos, res)
	return res
}

func (m *machine) judgeCall(t Global, fn, args, kw *Value, pos int64, res *Value) {
	m.markCalled(t)
	if fn.Kind == KObject {
		// A call through getattr/attrgetter: the inner global was "called".
		if inner, ok := m.target(fn.Call.Fn); ok {
			m.markCalled(inner)
		}
	}
	if t.Name == "" {
		evidence := res.Preview()
		m.find(RuleUnresolvedCall, LevelHigh, pos, t, "", "calls the module object "+t.Module, evidence)
		return
	}
	cls := m.classify(t)
	evidence := ""
	if cls.Verdict != Allowed && cls.Verdict != Indirect {
		evidence = res.Preview()
	}
	switch cls.Verdict {
	case Denied:
		m.find(RuleDangerousCall, LevelCritical, pos, t, cls.Category, fmt.Sprintf("calls %s (%s)", t, categoryText(cls.Category)), evidence)
	case Dunder:
		m.find(RuleDunder, LevelCritical, pos, t, "dunder", "calls "+t.String()+", reaching a dunder attribute", evidence)
	case Unknown:
		m.find(RuleUnknownCall, LevelMedium, pos, t, "", fmt.Sprintf("calls %s, which is in neither the allowlist nor the denylist", t), evidence)
	case Indirect:
		m.judgeIndirect(cls.Category, t, args, pos, res)
	}
	m.modelResult(t, args, pos, res)
}

// modelResult gives well-known calls a result the machine can follow:
// module imports, decoders whose output may be a nested pickle, loaders.
func (m *machine) modelResult(t Global, args *Value, pos int64, res *Value) {
	a0 := args.item(0)
	s, known := a0.str()
	switch t {
	case Global{"importlib", "import_module"}, Global{"builtins", "__import__"}, Global{"importlib", "__import__"}:
		if known {
			res.Kind, res.S = KModule, s
		}
		return
	case Global{"base64", "b64decode"}, Global{"base64", "decodebytes"}, Global{"base64", "standard_b64decode"}, Global{"binascii", "a2b_base64"}:
		if known {
			if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s)); err == nil {
				res.Kind, res.S = KBytes, string(b)
			}
		}
	case Global{"base64", "urlsafe_b64decode"}:
		if known {
			if b, err := base64.URLEncoding.DecodeString(strings.TrimSpace(s)); err == nil {
				res.Kind, res.S = KBytes, string(b)
			}
		}
	case Global{"binascii", "unhexlify"}, Global{"binascii", "a2b_hex"}, Global{"base64", "b16decode"}, Global{"builtins", "bytes.fromhex"}:
		if known {
			if b, err := hex.DecodeString(strings.Join(strings.Fields(s), "")); err == nil {
				res.Kind, res.S = KBytes, string(b)
			}
		}
	case Global{"_codecs", "encode"}, Global{"codecs", "encode"}:
		if known && a0.Kind == KStr {
			if b, ok := latin1(s); ok {
				res.Kind, res.S = KBytes, b
			}
		}
	case Global{"codecs", "decode"}, Global{"_codecs", "decode"}:
		enc, _ := args.item(1).str()
		if known {
			switch strings.ToLower(strings.ReplaceAll(enc, "_", "")) {
			case "base64", "base64codec":
				if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s)); err == nil {
					res.Kind, res.S = KBytes, string(b)
				}
			case "hex", "hexcodec":
				if b, err := hex.DecodeString(strings.TrimSpace(s)); err == nil {
					res.Kind, res.S = KBytes, string(b)
				}
			}
		}
	}
	if loaders[t] || m.classify(t).Category == "loader" {
		m.scanArgs(args, pos, true)
	} else {
		m.scanArgs(args, pos, false)
	}
}

// scanArgs looks for pickles inside string and bytes arguments.
func (m *machine) scanArgs(args *Value, pos int64, loader bool) {
	if args == nil {
		return
	}
	for _, it := range args.Items {
		if s, ok := it.str(); ok {
			if loader || looksLikePickle(s) {
				m.nested(s, pos, loader)
			}
		}
	}
}

func looksLikePickle(s string) bool {
	return len(s) >= 8 && s[0] == byte(PROTO) && s[1] >= 2 && s[1] <= 5 && s[len(s)-1] == byte(STOP)
}

func latin1(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return "", false
		}
		b = append(b, byte(r))
	}
	return string(b), true
}

// nested scans a pickle found inside an operand, with depth and byte budgets.
func (m *machine) nested(data string, pos int64, loader bool) {
	if m.opt.depth+1 > m.lim.MaxNestedDepth {
		m.find(RuleLimit, LevelHigh, pos, Global{}, "", fmt.Sprintf("pickle nested deeper than %d levels was not scanned", m.lim.MaxNestedDepth), "")
		return
	}
	if *m.opt.nestedBytes+int64(len(data)) > m.lim.MaxNestedBytes {
		m.find(RuleLimit, LevelHigh, pos, Global{}, "", "nested pickles exceed the byte budget; one was not scanned", "")
		return
	}
	*m.opt.nestedBytes += int64(len(data))
	sub := *m.opt
	sub.depth++
	sub.Base = pos
	sub.ReaderAt = nil
	rep := Scan(strings.NewReader(data), sub)
	interesting := false
	for _, f := range rep.Findings {
		if f.Rule != RuleMalformed && f.Rule != RuleTrailing {
			interesting = true
		}
	}
	if !loader && !interesting {
		return
	}
	m.find(RuleNested, LevelInfo, pos, Global{}, "", fmt.Sprintf("a %d-byte pickle is embedded in an operand; it was scanned too", len(data)), "")
	for _, f := range rep.Findings {
		f.Offset = pos
		f.Message = "in a nested pickle: " + f.Message
		m.add(f)
	}
}

// judgeIndirect judges callables that are safe or not by their arguments.
func (m *machine) judgeIndirect(kind string, t Global, args *Value, pos int64, res *Value) {
	evidence := func() string { return res.Preview() }
	switch kind {
	case "getattr":
		name, ok := args.item(1).str()
		if !ok {
			m.find(RuleIndirect, LevelHigh, pos, t, "reflect", "getattr with an attribute name decided at load time", evidence())
			return
		}
		if hasDunder("", name) {
			m.find(RuleDunder, LevelCritical, pos, t, "dunder", fmt.Sprintf("getattr reaches the dunder attribute %q", name), evidence())
			return
		}
		bt, ok := m.target(args.item(0))
		if !ok {
			if args.item(0).Kind == KUnknown {
				m.find(RuleIndirect, LevelMedium, pos, t, "reflect", fmt.Sprintf("getattr(%s) on a value the scanner cannot follow", clip(name, 40)), evidence())
			}
			return
		}
		g := joinAttr(bt, name)
		cls := m.classify(g)
		switch cls.Verdict {
		case Denied:
			m.find(RuleDangerousCall, LevelCritical, pos, g, cls.Category, fmt.Sprintf("getattr reaches %s (%s)", g, categoryText(cls.Category)), evidence())
		case Dunder:
			m.find(RuleDunder, LevelCritical, pos, g, "dunder", "getattr reaches "+g.String(), evidence())
		case Unknown:
			if bt.Name == "" || m.classify(bt).Verdict != Allowed {
				m.find(RuleIndirect, LevelMedium, pos, g, "reflect", fmt.Sprintf("getattr reaches %s, which is in neither list", g), evidence())
			}
		}
	case "partial":
		m.judgeTarget(args.item(0), pos, "functools.partial wraps", evidence)
	case "reconstructor":
		m.judgeTarget(args.item(0), pos, "copyreg._reconstructor builds", evidence)
		m.judgeTarget(args.item(1), pos, "copyreg._reconstructor calls the base", evidence)
	case "newobj":
		m.judgeTarget(args.item(0), pos, t.Name+" instantiates", evidence)
	case "rebuild":
		m.judgeTarget(args.item(0), pos, "torch._tensor._rebuild_from_type_v2 calls", evidence)
		m.judgeTarget(args.item(1), pos, "torch._tensor._rebuild_from_type_v2 makes a", evidence)
	case "getter":
		for _, it := range args.Items {
			s, ok := it.str()
			if !ok {
				m.find(RuleIndirect, LevelMedium, pos, t, "reflect", t.String()+" with an argument decided at load time", evidence())
				continue
			}
			if hasDunder("", s) {
				m.find(RuleDunder, LevelCritical, pos, t, "dunder", fmt.Sprintf("%s reaches the dunder attribute %q", t, s), evidence())
			}
			if t.Name == "methodcaller" {
				break // further arguments are the call's arguments
			}
		}
	case "encode":
		enc, ok := args.item(1).str()
		if args.N < 2 {
			enc, ok = "utf-8", true
		}
		switch strings.ToLower(strings.ReplaceAll(enc, "_", "-")) {
		case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1", "utf-8", "utf8", "ascii", "us-ascii":
		default:
			if !ok {
				enc = "?"
			}
			m.find(RuleIndirect, LevelMedium, pos, t, "", fmt.Sprintf("_codecs.encode with the codec %q, which model files do not use", clip(enc, 40)), evidence())
		}
	}
}

// judgeTarget judges a value that a judged-by-arguments callable will call.
func (m *machine) judgeTarget(v *Value, pos int64, what string, evidence func() string) {
	g, ok := m.target(v)
	if !ok {
		if v.Kind != KNone {
			m.find(RuleIndirect, LevelHigh, pos, Global{}, "", what+" a value that is not a plain import", evidence())
		}
		return
	}
	m.markCalled(g)
	cls := m.classify(g)
	switch cls.Verdict {
	case Denied:
		m.find(RuleDangerousCall, LevelCritical, pos, g, cls.Category, fmt.Sprintf("%s %s (%s)", what, g, categoryText(cls.Category)), evidence())
	case Dunder:
		m.find(RuleDunder, LevelCritical, pos, g, "dunder", what+" "+g.String(), evidence())
	case Unknown:
		m.find(RuleUnknownCall, LevelMedium, pos, g, "", fmt.Sprintf("%s %s, which is in neither list", what, g), evidence())
	case Indirect:
		m.find(RuleIndirect, LevelHigh, pos, g, "", fmt.Sprintf("%s %s, a reflective callable", what, g), evidence())
	}
}

// build applies BUILD: state set on an instance, or (an attack) on a
// module-level object.
func (m *machine) build(inst, state *Value, pos int64) error {
	if inst.Kind == KObject {
		if inst.State == nil {
			inst.State = state
		}
		if inst.Call != nil {
			if g, ok := m.target(inst.Call.Fn); ok && joblibWrappers[g] {
				return m.joblibArray(state, pos)
			}
		}
		return nil
	}
	if inst.Kind != KGlobal && inst.Kind != KModule {
		return nil
	}
	m.produced = true
	g, _ := m.target(inst)
	m.find(RuleBuildOnGlobal, LevelCritical, pos, g, "", fmt.Sprintf("BUILD sets attributes on %s itself, not on an instance: later imports of it see the attacker's values", g), "BUILD("+g.String()+", "+state.Preview()+")")
	dicts := []*Value{state}
	if state.Kind == KTuple && len(state.Items) == 2 {
		dicts = state.Items
	}
	for _, d := range dicts {
		if d.Kind != KDict {
			continue
		}
		for i := 0; i+1 < len(d.Items); i += 2 {
			if k, ok := d.Items[i].str(); ok {
				if m.overrides == nil {
					m.overrides = map[Global]*Value{}
				}
				if len(m.overrides) < 1024 {
					m.overrides[joinAttr(g, k)] = d.Items[i+1]
				}
			}
		}
	}
	return nil
}

// mutate applies SETITEM(S)/APPEND(S)/ADDITEMS. On anything but a container
// the unpickler calls a method of the object: a call site.
func (m *machine) mutate(target *Value, want Kind, method string, items []*Value, pos int64) {
	switch target.Kind {
	case want:
		target.add(items...)
		return
	case KUnknown, KObject:
		return
	case KList, KDict, KSet:
		return // wrong container: CPython raises; nothing runs
	case KGlobal, KModule:
		g, _ := m.target(target)
		mg := joinAttr(g, method)
		m.produced = true
		m.markCalled(g)
		cls := m.classify(mg)
		if cls.Verdict == Dunder || (g.Name != "" && cls.Verdict != Allowed) {
			m.find(RuleBuildOnGlobal, LevelCritical, pos, mg, "", fmt.Sprintf("item or element assignment on %s itself calls %s", g, mg), mg.String())
		}
	}
}

// persistent judges a persistent id: PyTorch storages are expected.
func (m *machine) persistent(pid *Value, pos int64) {
	if pid.Kind == KTuple && len(pid.Items) >= 2 {
		if tag, ok := pid.Items[0].str(); ok && tag == "storage" {
			// ('storage', storage_type, key, location, numel): PyTorch's
			// loader calls storage_type, so it must be an allowed type.
			m.judgeTarget(pid.Items[1], pos, "the PyTorch storage reference (BINPERSID) names", func() string { return "persistent_load(" + pid.Preview() + ")" })
			m.push(&Value{Kind: KObject})
			return
		}
		if tag, ok := pid.Items[0].str(); ok && tag == "module" {
			// torch legacy: ('module', type, source_file, source): a class's
			// source kept by torch.save(model) for a change warning.
			m.push(&Value{Kind: KObject})
			return
		}
	}
	m.produced = true
	if s, ok := pid.str(); ok && pid.Kind == KStr && s != "" && strings.Trim(s, "0123456789") == "" {
		// A number: PyTorch's legacy tar format keys its storages this way.
		m.find(RulePersistentID, LevelLow, pos, Global{}, "", "PERSID with a numeric id, resolved by the loader's own table (PyTorch's legacy tar format)", "")
		m.push(&Value{Kind: KObject})
		return
	}
	m.find(RulePersistentID, LevelHigh, pos, Global{}, "", "PERSID/BINPERSID with a persistent id that is not a PyTorch storage reference: what it loads is up to the loader's persistent_load", "persistent_load("+pid.Preview()+")")
	m.scanArgs(container(KTuple, []*Value{pid}), pos, false)
	m.push(&Value{Kind: KObject})
}

// find records a finding, merging repeats of the same rule and evidence.
func (m *machine) find(rule string, lvl Level, pos int64, g Global, cat, msg, evidence string) {
	gs := ""
	if g.Module != "" {
		if m2, ok := py2Modules[g.Module]; ok {
			g.Module = m2 // report what CPython's fix_imports really imports
		}
		gs = g.String()
	}
	m.add(Finding{Rule: rule, Level: lvl, Offset: pos, Global: gs, Category: cat, Message: m.prefix + msg, Evidence: evidence, Count: 1})
}

func (m *machine) add(f Finding) {
	key := f.Rule + "\x00" + f.Global + "\x00" + f.Evidence
	if f.Global == "" && f.Evidence == "" {
		key += "\x00" + f.Message
	}
	if i, ok := m.findIdx[key]; ok {
		m.rep.Findings[i].Count += f.Count
		return
	}
	if len(m.rep.Findings) >= m.lim.MaxFindings {
		m.dropped++
		if m.dropped == 1 {
			m.rep.Findings = append(m.rep.Findings, Finding{Rule: RuleLimit, Level: LevelHigh, Offset: f.Offset, Message: fmt.Sprintf("more than %d distinct findings; later ones were dropped", m.lim.MaxFindings), Count: 1})
		}
		return
	}
	m.findIdx[key] = len(m.rep.Findings)
	m.rep.Findings = append(m.rep.Findings, f)
}

var categoryTexts = map[string]string{
	"exec": "process execution", "eval": "code evaluation", "import": "import machinery",
	"reflect": "reflection primitive", "loader": "nested deserializer", "file": "file access",
	"network": "network access", "debug": "debugger or profiler that runs code",
	"install": "package installer", "native": "native code", "process": "process control",
	"tamper": "scanner tampering", "policy": "denied by the policy file",
}

func categoryText(c string) string {
	if t, ok := categoryTexts[c]; ok {
		return t
	}
	return c
}
