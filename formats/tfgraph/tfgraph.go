// Package tfgraph statically checks TensorFlow protobuf files: SavedModel
// (saved_model.pb), frozen GraphDef (.pb), MetaGraphDef (.meta), Keras'
// SavedMetadata (keras_metadata.pb) and fingerprint.pb.
//
// A TensorFlow graph cannot run Python by itself, but its ops can: PyFunc
// calls a Python callable registered in the loading process, ReadFile and
// WriteFile touch any path, a Save op can write variables to gs://, a
// PrintV2 can append to any file. Loading a SavedModel runs its init op and
// restore functions, and serving runs its signatures, so every NodeDef
// counts: the graph's own nodes and the bodies of every library function
// (where TF2 tf.function code lives and which top-level-only scanners miss),
// plus ops named by function attributes (PartitionedCall f=ReadFile runs the
// op itself). Paths fed from Const nodes are resolved to show where a file
// op points.
//
// The file is walked field by field over an io.ReaderAt (formats/internal/pb):
// constant tensors are skipped without reading them, and memory does not
// grow with the graph beyond the documented caps. Nothing is executed.
package tfgraph

import (
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
	"github.com/hallmarkdev/hallmark/formats/internal/pb"
	"google.golang.org/protobuf/encoding/protowire"
)

// Kinds of TensorFlow protobuf files.
const (
	KindSavedModel    = "saved_model"
	KindGraphDef      = "graph_def"
	KindMetaGraph     = "meta_graph"
	KindKerasMetadata = "keras_metadata"
	KindFingerprint   = "fingerprint"
)

// Limits bounds the work and memory of a scan. A zero field takes its default.
type Limits struct {
	MaxDepth         int // nesting of attribute values (func attrs inside func attrs) (16)
	MaxNodes         int // NodeDefs in the graph and all functions (10,000,000)
	MaxFunctions     int // library functions (1,000,000)
	MaxMetaGraphs    int // meta graphs in a SavedModel (64)
	MaxOps           int // distinct op names kept in Report.Ops (4,096)
	MaxList          int // entries kept in Tags and SignatureDefs (1,024)
	MaxKerasMetadata int // metadata JSON documents kept (100,000: one per layer, metric and model)
	MaxKerasBytes    int // bytes of one metadata JSON document (4 MiB)
	MaxKerasTotal    int // bytes of all metadata documents together (64 MiB)
	MaxStringBytes   int // bytes read of a name, op, attribute string or constant (4 KiB)
	MaxInputs        int // inputs read per node (64)
	MaxEvalNodes     int // constants and string ops remembered per graph or function to resolve paths (100,000)
	MaxEvalBytes     int // bytes of names and strings remembered per graph or function for that (16 MiB)
	MaxPending       int // path checks waiting for their graph or function to be walked (4,096)
}

// DefaultLimits returns the documented defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:         16,
		MaxNodes:         10_000_000,
		MaxFunctions:     1_000_000,
		MaxMetaGraphs:    64,
		MaxOps:           4096,
		MaxList:          1024,
		MaxKerasMetadata: 100_000,
		MaxKerasBytes:    4 << 20,
		MaxKerasTotal:    64 << 20,
		MaxStringBytes:   4 << 10,
		MaxInputs:        64,
		MaxEvalNodes:     100_000,
		MaxEvalBytes:     16 << 20,
		MaxPending:       4096,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxDepth, d.MaxDepth)
	set(&l.MaxNodes, d.MaxNodes)
	set(&l.MaxFunctions, d.MaxFunctions)
	set(&l.MaxMetaGraphs, d.MaxMetaGraphs)
	set(&l.MaxOps, d.MaxOps)
	set(&l.MaxList, d.MaxList)
	set(&l.MaxKerasMetadata, d.MaxKerasMetadata)
	set(&l.MaxKerasBytes, d.MaxKerasBytes)
	set(&l.MaxStringBytes, d.MaxStringBytes)
	set(&l.MaxInputs, d.MaxInputs)
	set(&l.MaxEvalNodes, d.MaxEvalNodes)
	set(&l.MaxEvalBytes, d.MaxEvalBytes)
	set(&l.MaxPending, d.MaxPending)
	set(&l.MaxKerasTotal, d.MaxKerasTotal)
	return l
}

// Report is the result of a scan.
type Report struct {
	Findings []finding.Finding
	Complete bool // false when a cap or malformed input stopped the analysis
	Dropped  int  // findings left out because their rule had too many

	Kind          string
	Nodes         int      // NodeDefs in graphs and library functions
	Functions     int      // library functions
	Ops           []string // distinct op names, sorted
	TFVersion     string   // meta_info_def.tensorflow_version
	Tags          []string // meta graph tags ("serve", "train"…)
	SignatureDefs []string // signature_def keys
	// KerasMetadata holds the metadata JSON of each Keras object: from
	// keras_metadata.pb, or from SavedUserObject.metadata in SavedModels
	// written by TF 2.0–2.4. The Keras config analyser checks them.
	KerasMetadata []string
}

// Rule ids.
const (
	RuleMalformed      = "tf/malformed"
	RuleLimit          = "tf/limit"
	RulePythonOp       = "tf/python-op"
	RuleFileOp         = "tf/file-op"
	RuleNetworkOp      = "tf/network-op"
	RulePrintToFile    = "tf/print-to-file"
	RulePrint          = "tf/print"
	RuleCheckpointPath = "tf/checkpoint-path"
	RuleAssetPath      = "tf/asset-path"
	RuleTableImport    = "tf/table-import"
)

func doc(id, short, help string) finding.Doc { return finding.Doc{ID: id, Short: short, Help: help} }

// Rules documents every rule id this package reports.
var Rules = []finding.Doc{
	doc(RuleMalformed, "The TensorFlow protobuf cannot be parsed",
		"The file is (or is named as) a TensorFlow SavedModel, GraphDef, MetaGraph, Keras metadata or fingerprint protobuf, but its encoding is broken (truncated, a length past the end of its message or file, a bad tag) or it is none of these. TensorFlow refuses it, and a scanner cannot vouch for what it cannot read, so it is reported as unscannable. Obtain the model again from its source."),
	doc(RuleLimit, "A scan limit stopped the analysis of the TensorFlow file",
		"More nodes, functions or meta graphs than the limit, attribute values nested deeper than the limit, or a Keras metadata document larger than the limit: the parts beyond it were not checked (or not handed to the Keras analyser), so the model is not known to be safe. Inspect it by other means or raise the limit."),
	doc(RulePythonOp, "The graph calls Python through PyFunc / EagerPyFunc",
		"PyFunc, PyFuncStateless and EagerPyFunc run a Python callable that was registered in the process that built the graph, looked up by a token. Loading the graph elsewhere fails unless a callable with that token is registered, but the op exists only to run Python: it marks a model written to execute code, and a host that registers callables (or a crafted loader) runs whatever the token selects. Treat the model as code and do not load it from an untrusted source."),
	doc(RuleFileOp, "The graph reads, writes or lists files",
		"Ops such as ReadFile, WriteFile, MatchingFiles, the file datasets and readers, InitializeTableFromTextFile, summary writers and debug dumpers touch the file system with the rights of the serving process whenever the graph, a signature or a load-time function runs. A model can read secrets into its outputs, overwrite files, or send them to remote file systems (gs://, s3://, hdfs://, http://) TensorFlow can write to: exfiltration. The path is shown when a Const gives it; a path attribute given as a function-attribute placeholder is resolved through every caller's attributes, and one no caller fixes is reported as chosen by the caller. Inference graphs do not need these ops; remove them or do not serve the model."),
	doc(RuleNetworkOp, "The graph opens network connections",
		"RPC ops and tf.data service ops connect to addresses named in the graph; a model that calls out can leak its inputs or fetch instructions. Serving graphs do not need them."),
	doc(RulePrintToFile, "PrintV2 writes to a file",
		"PrintV2's output_stream attribute can be a file:// path: each run of the graph appends the printed tensors to that file (with the serving process's rights), a write primitive and a way to log inputs. Printing to stderr or logs is reported separately at low severity."),
	doc(RulePrint, "The graph prints tensors to the log",
		"Print/PrintV2 to stderr, stdout or the log leak the tensors they print (inputs, intermediate values) into logs. Usually debugging left in the model; harmless to the machine, but worth removing."),
	doc(RuleCheckpointPath, "A save or restore op uses a fixed path outside the model",
		"Save/Restore ops are in every SavedModel's saver graph, where the checkpoint path is fed at load time. Here the path comes from a constant in the graph that is absolute, climbs out with '..', or names a remote file system (gs://, s3://, hdfs://, http(s)://): running the op writes the model's variables (or reads tensors) there, an exfiltration or overwrite channel. Do not load the model."),
	doc(RuleAssetPath, "An asset file name points outside the SavedModel's assets folder",
		"AssetFileDef.filename is joined to the SavedModel's assets/ folder when the model is loaded and the resulting path is fed to the graph (vocabulary tables and the like). An absolute name, a remote URL or '..' segments make loading read an arbitrary file into the model. Legitimate exports only use plain file names."),
	doc(RuleTableImport, "The graph imports lookup-table contents",
		"LookupTableImport(V2) replaces a lookup table's keys and values from tensors. Keras StringLookup and TextVectorization layers use it to restore their vocabulary, so it is expected in text models; it touches no file. Reported so a reviewer knows the model's tables are restored at load."),
}

var errStop = errors.New("tfgraph: stop")

// maxLabel caps each name used in a Where path.
const maxLabel = 128

// Field numbers.
const (
	smSchemaVersion = 1
	smMetaGraphs    = 2

	mgMetaInfoDef    = 1
	mgGraphDef       = 2
	mgCollectionDef  = 4
	mgSignatureDef   = 5
	mgAssetFileDef   = 6
	mgObjectGraphDef = 7

	miTags      = 4
	miTFVersion = 5

	gdNode    = 1
	gdLibrary = 2

	libFunction = 1

	fnSignature = 1
	fnNodeDef   = 3

	ndName  = 1
	ndOp    = 2
	ndInput = 3
	ndAttr  = 5

	avList        = 1
	avS           = 2
	avTensor      = 8
	avPlaceholder = 9
	avFunc        = 10
	listS         = 2
	listFunc      = 9
	nameAttrName  = 1
	nameAttrAttr  = 2
	tensorDtype   = 1
	tensorStrings = 8
	dtString      = 7
)

type scanner struct {
	r        *pb.Reader
	lim      Limits
	rep      *Report
	list     finding.List
	nodes    int
	ops      map[string]bool
	limitHit map[string]bool
	scopes   []*scope
	kerasLen int64

	// Function attribute placeholders (AttrValue.placeholder) are
	// substituted from the caller's attributes when the function is
	// instantiated (attr_value_util.cc SubstitutePlaceholders): calls keeps
	// the string attributes of every call site per function, phUses the
	// path attributes given as placeholders. Both are resolved per graph.
	calls     map[string][]map[string]string
	callN     int
	callBytes int
	callsFull bool
	phUses    []phUse
}

// phUse is a path attribute of a function node given as a placeholder.
type phUse struct {
	fn, op, attr, ph string
	off              int64
	where            string
}

// Caps of the call-site attributes remembered to resolve placeholders;
// past them a placeholder stays unresolved, which is reported (fail closed).
const (
	maxCallAttrs     = 65536
	maxCallAttrBytes = 4 << 20
)

// Scan decides the kind of the TensorFlow protobuf in ra by its content
// (see Kind) and checks it. A file of no known kind is a tf/malformed
// finding; use ScanKind when the caller knows the kind from the file name.
func Scan(ra io.ReaderAt, size int64, lim Limits) Report {
	size = max(size, 0)
	head := make([]byte, min(size, 64<<10))
	if size > 0 {
		n, err := ra.ReadAt(head, 0)
		if n < len(head) {
			rep := Report{}
			s := newScanner(ra, size, lim, &rep)
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			s.malformed(&pb.Error{Off: int64(n), Msg: "read failed", Err: err})
			return s.finish()
		}
	}
	return ScanKind(ra, size, Kind(head, size), lim)
}

// ScanKind checks ra as the given kind (one of the Kind constants).
func ScanKind(ra io.ReaderAt, size int64, kind string, lim Limits) Report {
	size = max(size, 0)
	rep := Report{Kind: kind}
	s := newScanner(ra, size, lim, &rep)
	var err error
	switch kind {
	case KindSavedModel:
		err = s.savedModel()
	case KindGraphDef:
		err = s.graphDef(0, size, "")
		s.flushScopes()
	case KindMetaGraph:
		err = s.metaGraph(pb.Field{Start: 0, Len: size, Type: protowire.BytesType}, "")
	case KindKerasMetadata:
		err = s.kerasMetadata()
	case KindFingerprint:
		err = s.fingerprint()
	default:
		err = &pb.Error{Off: 0, Msg: "not a TensorFlow protobuf this scanner recognises (SavedModel, GraphDef, MetaGraph, Keras metadata, fingerprint)"}
	}
	if err != nil && err != errStop {
		s.malformed(err)
	}
	return s.finish()
}

func newScanner(ra io.ReaderAt, size int64, lim Limits, rep *Report) *scanner {
	rep.Complete = true
	return &scanner{r: pb.NewReader(ra, size), lim: lim.withDefaults(), rep: rep,
		ops: map[string]bool{}, limitHit: map[string]bool{}}
}

func (s *scanner) finish() Report {
	for op := range s.ops {
		s.rep.Ops = append(s.rep.Ops, op)
	}
	sort.Strings(s.rep.Ops)
	s.rep.Findings = s.list.Findings
	s.rep.Dropped = s.list.Dropped
	return *s.rep
}

func (s *scanner) malformed(err error) {
	off, msg := pb.Describe(err, "TensorFlow")
	s.list.Add(finding.Finding{Rule: RuleMalformed, Level: finding.High, Offset: off, Message: msg})
	s.rep.Complete = false
}

func (s *scanner) limit(off int64, where, key, what string) {
	s.rep.Complete = false
	if s.limitHit[key] {
		return
	}
	s.limitHit[key] = true
	s.list.Add(finding.Finding{Rule: RuleLimit, Level: finding.High, Offset: off, Where: where,
		Message: what + "; the rest was not checked, so the model is not known to be safe"})
}

func (s *scanner) str(f pb.Field) (string, error) {
	if !f.IsLen() {
		return "", nil
	}
	v, _, err := s.r.String(f, s.lim.MaxStringBytes)
	return v, err
}

func join(prefix, part string) string {
	if prefix == "" {
		return part
	}
	return prefix + "." + part
}

// ---------------------------------------------------------------- SavedModel

func (s *scanner) savedModel() error {
	it := s.r.Fields(0, s.r.Size())
	n := 0
	for it.Next() {
		f := it.Field()
		if f.Num != smMetaGraphs || !f.IsLen() {
			continue
		}
		if n >= s.lim.MaxMetaGraphs {
			s.limit(f.Offset, "meta_graphs", "metagraphs", "more than "+strconv.Itoa(s.lim.MaxMetaGraphs)+" meta graphs")
			return nil
		}
		if err := s.metaGraph(f, "meta_graphs["+strconv.Itoa(n)+"]"); err != nil {
			return err
		}
		n++
	}
	if err := it.Err(); err != nil {
		return err
	}
	if n == 0 {
		return &pb.Error{Off: 0, Msg: "SavedModel without a meta graph"}
	}
	return nil
}

func (s *scanner) metaGraph(f pb.Field, where string) error {
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		var err error
		switch g.Num {
		case mgMetaInfoDef:
			err = s.metaInfo(g)
		case mgGraphDef:
			err = s.graphDef(g.Start, g.End(), join(where, "graph_def"))
			s.flushScopes()
		case mgSignatureDef:
			var key string
			if key, err = s.mapKey(g); err == nil && len(s.rep.SignatureDefs) < s.lim.MaxList {
				s.rep.SignatureDefs = append(s.rep.SignatureDefs, key)
			}
		case mgAssetFileDef:
			err = s.assetFileDef(g, join(where, "asset_file_def"))
		case mgCollectionDef:
			err = s.collection(g, join(where, "collection_def"))
		case mgObjectGraphDef:
			err = s.objectGraph(g, join(where, "object_graph_def"))
		}
		if err != nil {
			return err
		}
	}
	return it.Err()
}

func (s *scanner) metaInfo(f pb.Field) error {
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case miTags:
			v, err := s.str(g)
			if err != nil {
				return err
			}
			if len(s.rep.Tags) < s.lim.MaxList && !contains(s.rep.Tags, v) {
				s.rep.Tags = append(s.rep.Tags, v)
			}
		case miTFVersion:
			v, err := s.str(g)
			if err != nil {
				return err
			}
			if s.rep.TFVersion == "" {
				s.rep.TFVersion = v
			}
		}
	}
	return it.Err()
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// mapKey reads the key (field 1) of a map entry.
func (s *scanner) mapKey(f pb.Field) (string, error) {
	key := ""
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		if g := it.Field(); g.Num == 1 && g.IsLen() {
			v, err := s.str(g)
			if err != nil {
				return "", err
			}
			key = v
		}
	}
	return key, it.Err()
}

// assetFileDef checks AssetFileDef.filename (field 2).
func (s *scanner) assetFileDef(f pb.Field, where string) error {
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if g.Num != 2 || !g.IsLen() {
			continue
		}
		name, err := s.str(g)
		if err != nil {
			return err
		}
		if why := pathProblem(name, true); why != "" {
			s.list.Add(finding.Finding{Rule: RuleAssetPath, Level: finding.High, Offset: g.Start, Where: where,
				Evidence: finding.Shorten(name, 200),
				Message:  "asset file name " + why + "; loading the SavedModel would feed that file to the graph"})
		}
	}
	return it.Err()
}

// collection looks into TF1's saved_model_assets collection, whose AnyList
// holds serialized AssetFileDefs.
func (s *scanner) collection(f pb.Field, where string) error {
	key := ""
	var value pb.Field
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case 1:
			v, err := s.str(g)
			if err != nil {
				return err
			}
			key = v
		case 2:
			value = g
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if key != "saved_model_assets" || value.Len == 0 {
		return nil
	}
	where = where + "[saved_model_assets]"
	// CollectionDef.any_list (5) → AnyList.value (1) → Any.value (2).
	return s.nested(value, []protowire.Number{5, 1, 2}, func(g pb.Field) error { return s.assetFileDef(g, where) })
}

// nested calls fn for every length-delimited field reached by path.
func (s *scanner) nested(f pb.Field, path []protowire.Number, fn func(pb.Field) error) error {
	if len(path) == 0 {
		return fn(f)
	}
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if g.Num == path[0] && g.IsLen() {
			if err := s.nested(g, path[1:], fn); err != nil {
				return err
			}
		}
	}
	return it.Err()
}

// objectGraph collects Keras metadata stored in SavedUserObject.metadata
// (SavedObjectGraph.nodes (1) → SavedObject.user_object (4) → metadata (3)).
func (s *scanner) objectGraph(f pb.Field, where string) error {
	i := -1
	return s.nested(f, []protowire.Number{1}, func(node pb.Field) error {
		i++
		return s.nested(node, []protowire.Number{4, 3}, func(md pb.Field) error {
			return s.keepKeras(md, where+".nodes["+strconv.Itoa(i)+"].user_object.metadata")
		})
	})
}

func (s *scanner) keepKeras(f pb.Field, where string) error {
	if f.Len == 0 {
		return nil
	}
	if len(s.rep.KerasMetadata) >= s.lim.MaxKerasMetadata {
		s.limit(f.Offset, where, "keras-count", "more than "+strconv.Itoa(s.lim.MaxKerasMetadata)+" Keras metadata documents; the rest were not analysed")
		return nil
	}
	if f.Len > int64(s.lim.MaxKerasBytes) {
		s.limit(f.Offset, where, "keras-size", "a Keras metadata document of "+strconv.FormatInt(f.Len, 10)+" bytes exceeds the "+strconv.Itoa(s.lim.MaxKerasBytes)+"-byte cap and was not analysed")
		return nil
	}
	if s.kerasLen+f.Len > int64(s.lim.MaxKerasTotal) {
		s.limit(f.Offset, where, "keras-total", "Keras metadata documents exceed "+strconv.Itoa(s.lim.MaxKerasTotal)+" bytes together; the rest were not analysed")
		return nil
	}
	b, _, err := s.r.Bytes(f, s.lim.MaxKerasBytes)
	if err != nil {
		return err
	}
	s.kerasLen += f.Len
	s.rep.KerasMetadata = append(s.rep.KerasMetadata, string(b))
	return nil
}

// ---------------------------------------------------------------- Keras metadata, fingerprint

func (s *scanner) kerasMetadata() error {
	i := 0
	it := s.r.Fields(0, s.r.Size())
	for it.Next() {
		f := it.Field()
		if f.Num != 1 || !f.IsLen() {
			continue
		}
		where := "nodes[" + strconv.Itoa(i) + "]"
		i++
		if err := s.nested(f, []protowire.Number{5}, func(md pb.Field) error { return s.keepKeras(md, where+".metadata") }); err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if i == 0 && s.r.Size() > 0 {
		return &pb.Error{Off: 0, Msg: "Keras metadata without nodes"}
	}
	return nil
}

// fingerprint validates a FingerprintDef: hashes (fields 1–5), a VersionDef
// (6) and a UUID (7). It holds nothing executable; broken means tampered.
func (s *scanner) fingerprint() error {
	it := s.r.Fields(0, s.r.Size())
	for it.Next() {
		f := it.Field()
		ok := true
		switch {
		case f.Num >= 1 && f.Num <= 5:
			ok = f.Type == protowire.VarintType
		case f.Num == 6:
			ok = f.IsLen()
			if ok {
				inner := s.r.Fields(f.Start, f.End())
				for inner.Next() {
				}
				if err := inner.Err(); err != nil {
					return err
				}
			}
		case f.Num == 7:
			ok = f.IsLen()
		}
		if !ok {
			return &pb.Error{Off: f.Offset, Msg: "fingerprint field " + strconv.Itoa(int(f.Num)) + " has the wrong wire type"}
		}
	}
	return it.Err()
}

// ---------------------------------------------------------------- graphs

// scope is one graph or function body: nodes resolve their inputs by name
// inside it, after it has been walked.
type scope struct {
	fn      string // the library function walked, "" for a graph
	vals    map[string]*evalNode
	bytes   int // bytes of strings held in vals
	pending []func()
	full    bool
}

type evalNode struct {
	op     string
	inputs []string
	str    string // Const: the first string value
	hasStr bool
	sep    string // StringJoin separator
}

func (s *scanner) graphDef(start, end int64, where string) error {
	sc := &scope{vals: map[string]*evalNode{}}
	s.scopes = append(s.scopes, sc)
	it := s.r.Fields(start, end)
	for it.Next() {
		f := it.Field()
		if !f.IsLen() {
			continue
		}
		switch f.Num {
		case gdNode:
			if err := s.node(f, join(where, "node"), sc); err != nil {
				return err
			}
		case gdLibrary:
			if err := s.library(f, join(where, "library")); err != nil {
				return err
			}
		}
	}
	return it.Err()
}

func (s *scanner) library(f pb.Field, where string) error {
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if g.Num != libFunction || !g.IsLen() {
			continue
		}
		s.rep.Functions++
		if s.rep.Functions > s.lim.MaxFunctions {
			s.limit(g.Offset, where, "functions", "more than "+strconv.Itoa(s.lim.MaxFunctions)+" library functions")
			return errStop
		}
		if err := s.function(g, where); err != nil {
			return err
		}
	}
	return it.Err()
}

func (s *scanner) function(f pb.Field, where string) error {
	name := ""
	if err := s.nested(f, []protowire.Number{fnSignature}, func(sig pb.Field) error {
		it := s.r.Fields(sig.Start, sig.End())
		for it.Next() {
			if g := it.Field(); g.Num == 1 && g.IsLen() {
				v, err := s.str(g)
				if err != nil {
					return err
				}
				name = v
			}
		}
		return it.Err()
	}); err != nil {
		return err
	}
	if name == "" {
		name = "#" + strconv.Itoa(s.rep.Functions-1)
	}
	fwhere := where + ".function[" + finding.Shorten(name, maxLabel) + "].node_def"
	sc := &scope{fn: name, vals: map[string]*evalNode{}}
	s.scopes = append(s.scopes, sc)
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if g.Num == fnNodeDef && g.IsLen() {
			if err := s.node(g, fwhere, sc); err != nil {
				return err
			}
		}
	}
	return it.Err()
}

// flushScopes resolves the pending path checks of every scope walked.
func (s *scanner) flushScopes() {
	for _, sc := range s.scopes {
		for _, p := range sc.pending {
			p()
		}
	}
	s.scopes = nil
	s.resolvePlaceholders()
}

type nodeDef struct {
	name, op string
	inputs   []string
	attrs    map[string]string // string attributes that matter (see wantAttr)
	funcs    []funcRef
	ph       map[string]string // path attributes given as placeholders: attr -> placeholder name
	strAttrs map[string]string // string attributes, kept only for direct function calls (op is a function name)
	constStr string
	hasConst bool
}

type funcRef struct{ attr, name string }

// Attributes read as strings.
var wantAttr = map[string]bool{
	"token": true, "output_stream": true, "separator": true, "memory_region_name": true,
	"descriptor_source": true, "vocab_file": true, "debug_urls": true,
}

func (s *scanner) node(f pb.Field, parent string, sc *scope) error {
	s.nodes++
	s.rep.Nodes++
	if s.nodes > s.lim.MaxNodes {
		s.limit(f.Offset, parent, "nodes", "more than "+strconv.Itoa(s.lim.MaxNodes)+" nodes")
		return errStop
	}
	nd := nodeDef{attrs: map[string]string{}}
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		var err error
		switch g.Num {
		case ndName:
			nd.name, err = s.str(g)
		case ndOp:
			nd.op, err = s.str(g)
		case ndInput:
			if len(nd.inputs) < s.lim.MaxInputs {
				var in string
				if in, err = s.str(g); err == nil && !strings.HasPrefix(in, "^") {
					nd.inputs = append(nd.inputs, in)
				}
			}
		case ndAttr:
			if nd.strAttrs == nil && nd.op != "" && !(nd.op[0] >= 'A' && nd.op[0] <= 'Z') {
				// Registered ops are CamelCase: a lower-case op is a call of
				// a library function, whose attributes fill its placeholders.
				nd.strAttrs = map[string]string{}
			}
			err = s.attrEntry(g, &nd)
		}
		if err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	label := finding.Shorten(nd.name, maxLabel)
	if label == "" {
		label = "#" + strconv.Itoa(s.nodes-1)
	}
	where := parent + "[" + label + "]"
	if nd.op != "" && !s.ops[nd.op] && len(s.ops) < s.lim.MaxOps {
		s.ops[nd.op] = true
	}
	if evalOps[nd.op] && nd.name != "" && !sc.full {
		inputs := nd.inputs
		if nd.op != "StringJoin" && len(inputs) > 1 {
			inputs = inputs[:1]
		}
		n := len(nd.name) + len(nd.constStr) + len(nd.attrs["separator"])
		for _, in := range inputs {
			n += len(in)
		}
		if len(sc.vals) >= s.lim.MaxEvalNodes || sc.bytes+n > s.lim.MaxEvalBytes {
			sc.full = true // paths through later constants stay unresolved (shown as not fixed)
		} else {
			sc.bytes += n
			sc.vals[nd.name] = &evalNode{op: nd.op, inputs: inputs, str: nd.constStr, hasStr: nd.hasConst, sep: nd.attrs["separator"]}
		}
	}
	if nd.strAttrs != nil {
		s.addCall(nd.op, nd.strAttrs)
	}
	s.checkNode(&nd, f.Offset, where, sc)
	for _, fr := range nd.funcs {
		s.checkFuncRef(fr, f.Offset, where)
	}
	return nil
}

// attrEntry reads one map<string, AttrValue> entry of a NodeDef.
func (s *scanner) attrEntry(f pb.Field, nd *nodeDef) error {
	key := ""
	var val pb.Field
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case 1:
			v, err := s.str(g)
			if err != nil {
				return err
			}
			key = v
		case 2:
			val = g
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if val.Type != protowire.BytesType {
		return nil
	}
	return s.attrValue(val, key, nd, 0)
}

// attrValue walks an AttrValue: strings of interesting attributes, the
// Const value tensor's first string, and every function it names (also in
// lists and in the attributes of named functions).
func (s *scanner) attrValue(f pb.Field, key string, nd *nodeDef, depth int) error {
	if depth > s.lim.MaxDepth {
		s.limit(f.Offset, key, "depth", "attribute values nested more than "+strconv.Itoa(s.lim.MaxDepth)+" deep")
		return nil
	}
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		var err error
		switch g.Num {
		case avS:
			if depth == 0 && wantAttr[key] {
				nd.attrs[key], err = s.str(g)
			}
			if depth == 0 && err == nil && nd.strAttrs != nil {
				var v string
				if v, err = s.str(g); err == nil {
					nd.strAttrs[key] = v
				}
			}
		case avPlaceholder:
			if depth == 0 && wantAttr[key] {
				if nd.ph == nil {
					nd.ph = map[string]string{}
				}
				nd.ph[key], err = s.str(g)
			}
		case avTensor:
			if depth == 0 && key == "value" {
				err = s.constTensor(g, nd)
			}
		case avFunc:
			err = s.nameAttrList(g, key, nd, depth)
		case avList:
			err = s.listValue(g, key, nd, depth)
		}
		if err != nil {
			return err
		}
	}
	return it.Err()
}

func (s *scanner) listValue(f pb.Field, key string, nd *nodeDef, depth int) error {
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case listS:
			if depth == 0 && wantAttr[key] {
				v, err := s.str(g)
				if err != nil {
					return err
				}
				if old := nd.attrs[key]; old != "" {
					v = old + "," + v
				}
				nd.attrs[key] = finding.Shorten(v, s.lim.MaxStringBytes)
			}
			if depth == 0 && nd.strAttrs != nil {
				v, err := s.str(g)
				if err != nil {
					return err
				}
				if old, ok := nd.strAttrs[key]; ok {
					v = old + "," + v
				}
				nd.strAttrs[key] = finding.Shorten(v, s.lim.MaxStringBytes)
			}
		case listFunc:
			if err := s.nameAttrList(g, key, nd, depth); err != nil {
				return err
			}
		}
	}
	return it.Err()
}

func (s *scanner) nameAttrList(f pb.Field, key string, nd *nodeDef, depth int) error {
	name := ""
	var callAttrs map[string]string
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case nameAttrName:
			v, err := s.str(g)
			if err != nil {
				return err
			}
			name = v
			if len(nd.funcs) < 64 {
				nd.funcs = append(nd.funcs, funcRef{attr: key, name: v})
			}
		case nameAttrAttr:
			// map<string, AttrValue> entry: value (2) is an AttrValue.
			if err := s.nested(g, []protowire.Number{2}, func(v pb.Field) error {
				return s.attrValue(v, key, nd, depth+1)
			}); err != nil {
				return err
			}
			k, v, ok, err := s.callAttr(g)
			if err != nil {
				return err
			}
			if ok {
				if callAttrs == nil {
					callAttrs = map[string]string{}
				}
				callAttrs[k] = v
			}
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if name != "" {
		s.addCall(name, callAttrs)
	}
	return nil
}

// unresolvedAttr stands for a call-site attribute that is itself a
// placeholder (forwarded from an outer function) or too long to keep.
const unresolvedAttr = "\x00unresolved"

// callAttr reads one attr entry of a call site's NameAttrList: its key and
// its string value (a string, a list of strings joined by ',', or a
// forwarded placeholder).
func (s *scanner) callAttr(entry pb.Field) (key, val string, ok bool, err error) {
	var value pb.Field
	it := s.r.Fields(entry.Start, entry.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case 1:
			if key, err = s.str(g); err != nil {
				return "", "", false, err
			}
		case 2:
			value = g
		}
	}
	if err = it.Err(); err != nil || value.Type != protowire.BytesType {
		return "", "", false, err
	}
	it = s.r.Fields(value.Start, value.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case avS:
			if val, err = s.str(g); err != nil {
				return "", "", false, err
			}
			ok = true
		case avPlaceholder:
			val, ok = unresolvedAttr, true
		case avList:
			li := s.r.Fields(g.Start, g.End())
			for li.Next() {
				h := li.Field()
				if h.Num != listS || !h.IsLen() {
					continue
				}
				v, err := s.str(h)
				if err != nil {
					return "", "", false, err
				}
				if ok {
					v = val + "," + v
				}
				val, ok = finding.Shorten(v, s.lim.MaxStringBytes), true
			}
			if err = li.Err(); err != nil {
				return "", "", false, err
			}
		}
	}
	return key, val, ok, it.Err()
}

// addCall remembers one call site of function fn with its string
// attributes (within the caps; past them placeholders stay unresolved).
func (s *scanner) addCall(fn string, attrs map[string]string) {
	n := len(fn)
	for k, v := range attrs {
		n += len(k) + len(v)
	}
	if s.callsFull || s.callN >= maxCallAttrs || s.callBytes+n > maxCallAttrBytes {
		s.callsFull = true
		return
	}
	if s.calls == nil {
		s.calls = map[string][]map[string]string{}
	}
	s.callBytes += n
	s.callN++
	s.calls[fn] = append(s.calls[fn], attrs)
}

// resolvePlaceholders checks the path attributes given as placeholders
// with the values every call site of their function supplies; one no call
// site supplies is reported as a path chosen by the caller.
func (s *scanner) resolvePlaceholders() {
	for _, u := range s.phUses {
		var vals []string
		for _, attrs := range s.calls[u.fn] {
			if v, ok := attrs[u.ph]; ok && v != unresolvedAttr {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 || u.fn == "" {
			rule := RuleFileOp
			if u.op == "PrintV2" {
				rule = RulePrintToFile
			}
			s.list.Add(finding.Finding{Rule: rule, Level: finding.High, Offset: u.off, Where: u.where,
				Evidence: finding.Shorten(u.op+" "+u.attr+"=placeholder "+u.ph, 200),
				Message: u.op + "'s " + u.attr + " is the function attribute placeholder " + strconv.Quote(finding.Shorten(u.ph, 80)) +
					": the path is supplied by the caller and no call site in the graph fixes it, so the op may touch any file"})
			continue
		}
		seen := map[string]bool{}
		for _, v := range vals {
			if seen[v] || len(seen) >= 16 {
				continue
			}
			seen[v] = true
			nd := nodeDef{op: u.op, attrs: map[string]string{u.attr: v}}
			s.checkNode(&nd, u.off, u.where+".attr["+finding.Shorten(u.attr, maxLabel)+"]=caller", nil)
		}
	}
	s.phUses = nil
	s.calls = nil
	s.callN = 0
	s.callBytes = 0
	s.callsFull = false
}

// constTensor keeps the first string of a DT_STRING Const.
func (s *scanner) constTensor(f pb.Field, nd *nodeDef) error {
	dtype := uint64(0)
	var first pb.Field
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		switch {
		case g.Num == tensorDtype && g.Type == protowire.VarintType:
			dtype = g.Value
		case g.Num == tensorStrings && g.IsLen() && first.Type != protowire.BytesType:
			first = g
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if dtype == dtString && first.Type == protowire.BytesType {
		v, err := s.str(first)
		if err != nil {
			return err
		}
		nd.constStr, nd.hasConst = v, true
	}
	return nil
}

// ---------------------------------------------------------------- rules

func (s *scanner) checkNode(nd *nodeDef, off int64, where string, sc *scope) {
	op := nd.op
	if attr := placeholderAttr(op); attr != "" && nd.ph[attr] != "" && sc != nil {
		if len(s.phUses) >= s.lim.MaxPending {
			s.limit(off, where, "placeholders", "more than "+strconv.Itoa(s.lim.MaxPending)+" path attributes given as placeholders; the rest were not resolved")
			return
		}
		s.phUses = append(s.phUses, phUse{fn: sc.fn, op: op, attr: attr, ph: nd.ph[attr], off: off, where: where})
		return
	}
	switch {
	case pythonOps[op]:
		ev := "op " + op
		if t := nd.attrs["token"]; t != "" {
			ev += " token=" + t
		}
		s.list.Add(finding.Finding{Rule: RulePythonOp, Level: finding.Critical, Offset: off, Where: where,
			Evidence: finding.Shorten(ev, 200),
			Message:  op + " runs a Python callable registered in the loading process; the model is built to execute code"})
	case networkOps[op]:
		s.list.Add(finding.Finding{Rule: RuleNetworkOp, Level: finding.High, Offset: off, Where: where, Evidence: op,
			Message: op + " connects to another machine when the graph runs; a model that calls out can leak its inputs"})
	case op == "PrintV2":
		stream := nd.attrs["output_stream"]
		if strings.HasPrefix(strings.ToLower(stream), "file://") {
			s.list.Add(finding.Finding{Rule: RulePrintToFile, Level: finding.High, Offset: off, Where: where,
				Evidence: finding.Shorten(stream, 200),
				Message:  "PrintV2 appends tensors to a file each time the graph runs: a write primitive on the serving host"})
		} else {
			if stream == "" {
				stream = "stderr"
			}
			s.list.Add(finding.Finding{Rule: RulePrint, Level: finding.Low, Offset: off, Where: where, Evidence: finding.Shorten(stream, 200),
				Message: "PrintV2 prints tensors to " + stream + "; inputs may end up in logs"})
		}
	case op == "Print":
		s.list.Add(finding.Finding{Rule: RulePrint, Level: finding.Low, Offset: off, Where: where, Evidence: op,
			Message: "Print logs tensors to stderr; inputs may end up in logs"})
	case tableImportOps[op]:
		s.list.Add(finding.Finding{Rule: RuleTableImport, Level: finding.Low, Offset: off, Where: where, Evidence: op,
			Message: op + " restores lookup-table contents from tensors at load (Keras lookup layers do this); no file is touched"})
	}
	if fo, ok := fileOps[op]; ok {
		if fo.attr != "" {
			v := nd.attrs[fo.attr]
			if v == "" || (fo.attr == "descriptor_source" && v == "local://") {
				return // the attribute is unset: the op touches no file
			}
			s.fileFinding(op, fo.what, v, true, off, where)
			return
		}
		if fo.input < 0 {
			s.fileFinding(op, fo.what, "", false, off, where)
			return
		}
		inputs := nd.inputs
		if len(sc.pending) >= s.lim.MaxPending {
			s.fileFinding(op, fo.what, "", false, off, where) // too many to resolve: report without the path
		} else {
			sc.pending = append(sc.pending, func() {
				path, complete := s.pathOf(sc, inputs, fo.input)
				if path == "" && complete && inMemoryWhenEmpty[op] {
					return // filename "": the dataset is cached in memory
				}
				if fo.input2 >= 0 && path == "" {
					path, complete = s.pathOf(sc, inputs, fo.input2)
				}
				s.fileFinding(op, fo.what, path, complete, off, where)
			})
		}
	}
	if idx, ok := checkpointOps[op]; ok {
		inputs := nd.inputs
		s.defer_(sc, off, where, func() {
			for _, i := range idx {
				path, complete := s.pathOf(sc, inputs, i)
				if path == "" {
					continue
				}
				if why := pathProblem(path, complete); why != "" {
					s.list.Add(finding.Finding{Rule: RuleCheckpointPath, Level: finding.High, Offset: off, Where: where,
						Evidence: finding.Shorten(path, 200),
						Message:  op + " uses a fixed path that " + why + "; running it writes or reads the model's variables there" + exfil(path)})
					return
				}
			}
		})
	}
}

// placeholderAttr names the attribute of op that holds a path (PrintV2's
// output_stream, ImmutableConst's memory_region_name, ...), or "".
func placeholderAttr(op string) string {
	if op == "PrintV2" {
		return "output_stream"
	}
	return fileOps[op].attr
}

// defer_ queues a check that needs the whole graph or function walked.
func (s *scanner) defer_(sc *scope, off int64, where string, fn func()) {
	if len(sc.pending) >= s.lim.MaxPending {
		s.limit(off, where, "pending", "more than "+strconv.Itoa(s.lim.MaxPending)+" file and checkpoint ops in one graph or function; the paths of the rest were not resolved")
		return
	}
	sc.pending = append(sc.pending, fn)
}

// checkFuncRef flags function attributes that name a dangerous op: the
// function runtime instantiates a primitive op by name, so PartitionedCall
// with f=ReadFile runs ReadFile without a ReadFile node.
func (s *scanner) checkFuncRef(fr funcRef, off int64, where string) {
	w := where + ".attr[" + finding.Shorten(fr.attr, maxLabel) + "]"
	name := fr.name
	if !s.ops[name] && len(s.ops) < s.lim.MaxOps && (pythonOps[name] || networkOps[name] || fileOps[name].what != "") {
		s.ops[name] = true
	}
	switch {
	case pythonOps[name]:
		s.list.Add(finding.Finding{Rule: RulePythonOp, Level: finding.Critical, Offset: off, Where: w, Evidence: name,
			Message: "a function attribute calls " + name + ", which runs a Python callable registered in the loading process"})
	case networkOps[name]:
		s.list.Add(finding.Finding{Rule: RuleNetworkOp, Level: finding.High, Offset: off, Where: w, Evidence: name,
			Message: "a function attribute calls " + name + ", which connects to another machine"})
	case fileOps[name].what != "":
		s.list.Add(finding.Finding{Rule: RuleFileOp, Level: finding.High, Offset: off, Where: w, Evidence: name,
			Message: "a function attribute calls " + name + " directly, which " + fileOps[name].what + " with the serving process's rights"})
	}
}

func (s *scanner) fileFinding(op, what, path string, complete bool, off int64, where string) {
	msg := op + " " + what + " when the graph runs"
	ev := op
	if path != "" {
		shown := path
		if !complete {
			shown += "…"
		}
		ev = finding.Shorten(shown, 200)
		msg += ": " + finding.Shorten(shown, 120) + exfil(path)
	} else {
		msg += " (path not fixed in the graph)"
	}
	s.list.Add(finding.Finding{Rule: RuleFileOp, Level: finding.High, Offset: off, Where: where, Evidence: ev, Message: msg})
}

// remoteSchemes are file systems TensorFlow can write to over the network.
var remoteSchemes = []string{"gs://", "s3://", "hdfs://", "http://", "https://", "viewfs://", "az://", "oss://"}

func remote(path string) bool {
	l := strings.ToLower(path)
	for _, p := range remoteSchemes {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

func exfil(path string) string {
	if remote(path) {
		return " (a remote file system: data leaves the machine, exfiltration)"
	}
	return ""
}

// pathProblem says why a path fixed in the graph points outside the model,
// or "". complete is false when only a prefix of the path is known, so
// '..' segments are not counted then.
func pathProblem(p string, complete bool) string {
	if p == "" {
		return ""
	}
	if remote(p) {
		return "names a remote file system"
	}
	if strings.HasPrefix(strings.ToLower(p), "file://") {
		return "is a file:// URL (absolute)"
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "contains a NUL byte"
	}
	if p[0] == '/' || p[0] == '\\' || len(p) >= 2 && p[1] == ':' && (p[0]|0x20) >= 'a' && (p[0]|0x20) <= 'z' {
		return "is absolute"
	}
	if pb.Climbs(p, !complete) { // an unknown suffix may continue the last segment
		return "climbs out of the model's folder with '..'"
	}
	return ""
}

// pathOf resolves input i of a node to a constant string through Identity,
// PlaceholderWithDefault and StringJoin, inside the scope. It returns the
// known prefix and whether the whole value is known.
func (s *scanner) pathOf(sc *scope, inputs []string, i int) (string, bool) {
	if i >= len(inputs) {
		return "", false
	}
	v, complete := s.eval(sc, inputs[i], 0)
	return v, complete
}

func (s *scanner) eval(sc *scope, input string, depth int) (string, bool) {
	if depth > 16 {
		return "", false
	}
	name := input
	if i := strings.IndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	n := sc.vals[name]
	if n == nil {
		return "", false
	}
	switch n.op {
	case "Const":
		return n.str, n.hasStr
	case "StringJoin":
		var b strings.Builder
		for i, in := range n.inputs {
			if i > 0 {
				b.WriteString(n.sep)
			}
			v, ok := s.eval(sc, in, depth+1)
			b.WriteString(v)
			if !ok || b.Len() > s.lim.MaxStringBytes {
				return finding.Shorten(b.String(), s.lim.MaxStringBytes), false
			}
		}
		return b.String(), true
	default: // Identity-like: the first input
		if len(n.inputs) == 0 {
			return "", false
		}
		return s.eval(sc, n.inputs[0], depth+1)
	}
}
