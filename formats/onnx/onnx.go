// Package onnx statically checks ONNX models (ModelProto, onnx.proto up to
// IR version 14) for what can hurt the process or machine that loads them:
// external-data locations that read files outside the model's folder
// (CVE-2022-25882, CVE-2024-27318), operators that run registered Python
// code, and operators from domains that need native custom-op libraries.
//
// The file is walked field by field over an io.ReaderAt (formats/internal/pb):
// tensor bytes are never read, so memory does not grow with the model, and
// every place a tensor, node or graph can hide is visited: the main graph,
// subgraphs in node attributes (If, Loop, Scan), attribute tensors
// (Constant), sparse initializers, local functions and training_info.
// Nothing is ever executed and no external file is opened; the locations
// found are returned in Report.ExternalData for a folder-level check.
package onnx

import (
	"errors"
	"io"
	"math/bits"
	"sort"
	"strconv"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
	"github.com/hallmarkdev/hallmark/formats/internal/pb"
	"google.golang.org/protobuf/encoding/protowire"
)

// Limits bounds the work and memory of a scan. A zero field takes its default.
type Limits struct {
	MaxGraphDepth    int   // nesting of subgraphs in node attributes (32: protobuf's own parser stops near 33)
	MaxNodes         int   // nodes across all graphs and functions (10,000,000)
	MaxTensors       int   // tensors of every kind (10,000,000)
	MaxFunctions     int   // local functions (100,000)
	MaxExternal      int   // external-data entries kept in Report.ExternalData (100,000)
	MaxNames         int   // graph input and output names kept (4,096)
	MaxMetadata      int   // metadata_props entries kept (256)
	MaxMetadataValue int   // bytes kept of each metadata value (64 KiB)
	MaxTextBytes     int64 // a doc_string or metadata value larger than this is reported (1 MiB)
	MaxStringBytes   int   // bytes read of a name, op type, domain or location (4 KiB)
	MaxExternalKeys  int   // external_data entries read per tensor (64)
}

// DefaultLimits returns the documented defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxGraphDepth:    32,
		MaxNodes:         10_000_000,
		MaxTensors:       10_000_000,
		MaxFunctions:     100_000,
		MaxExternal:      100_000,
		MaxNames:         4096,
		MaxMetadata:      256,
		MaxMetadataValue: 64 << 10,
		MaxTextBytes:     1 << 20,
		MaxStringBytes:   4 << 10,
		MaxExternalKeys:  64,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxGraphDepth, d.MaxGraphDepth)
	set(&l.MaxNodes, d.MaxNodes)
	set(&l.MaxTensors, d.MaxTensors)
	set(&l.MaxFunctions, d.MaxFunctions)
	set(&l.MaxExternal, d.MaxExternal)
	set(&l.MaxNames, d.MaxNames)
	set(&l.MaxMetadata, d.MaxMetadata)
	set(&l.MaxMetadataValue, d.MaxMetadataValue)
	set(&l.MaxStringBytes, d.MaxStringBytes)
	set(&l.MaxExternalKeys, d.MaxExternalKeys)
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = d.MaxTextBytes
	}
	return l
}

// Opset is one entry of ModelProto.opset_import.
type Opset struct {
	Domain  string
	Version int64
}

// External is one tensor whose data lives in another file. Offset and
// Length are -1 when absent or unparsable.
type External struct {
	Location string // as written in the model, relative to the model's folder
	Where    string // tensor path, e.g. graph.initializer[fc1.weight]
	Offset   int64
	Length   int64
}

// Report is the result of a scan.
type Report struct {
	Findings []finding.Finding
	Complete bool // false when a cap or malformed input stopped the analysis
	Dropped  int  // findings left out because their rule had too many

	IRVersion       int64
	Opsets          []Opset
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	GraphName       string
	Inputs          []string // main graph inputs that are not initializers
	Outputs         []string
	Nodes           int   // nodes in every graph, subgraph and function
	Initializers    int   // initializers and sparse initializers in every graph
	Parameters      int64 // elements in those initializers
	Dtypes          []string
	Functions       int
	Metadata        map[string]string
	ExternalData    []External
}

// Rule ids.
const (
	RuleMalformed       = "onnx/malformed"
	RuleLimit           = "onnx/limit"
	RuleExternalPath    = "onnx/external-data-path"
	RuleExternalValue   = "onnx/external-data-value"
	RulePythonOp        = "onnx/python-op"
	RuleCustomDomain    = "onnx/custom-domain"
	RuleContribDomain   = "onnx/contrib-domain"
	RuleLargeText       = "onnx/large-text"
	RuleBadTensor       = "onnx/bad-tensor"
	RuleTensorSize      = "onnx/tensor-size"
	RuleExternalSummary = "onnx/external-data"
)

// Rules documents every rule id this package reports.
var Rules = []finding.Doc{
	doc(RuleMalformed, "The ONNX protobuf cannot be parsed",
		"The file claims to be an ONNX model but its protobuf encoding is broken (a truncated file, a length that runs past its message or the file, a bad tag) or it has no graph. A runtime rejects it, and a scanner cannot vouch for what it cannot read, so it is reported as unscannable. Do not load it; obtain the model again from its source."),
	doc(RuleLimit, "A scan limit stopped the analysis of the ONNX model",
		"Subgraphs nested deeper than the limit, or more nodes, tensors or functions than the limit, were found; the parts beyond it were not checked, so the model is not known to be safe. Deep nesting is also a denial-of-service trick against parsers. Inspect the model by other means or raise the limit if the model is legitimately that large."),
	doc(RuleExternalPath, "External tensor data points outside the model's folder",
		"A tensor stores its data in another file named by external_data 'location'. Runtimes join the location to the model's folder, so an absolute path, a Windows drive or UNC path, a device file or a path whose '..' segments climb out of the folder (CVE-2022-25882, CVE-2024-27318: a/../../x) makes loading the model read an arbitrary file (/etc/passwd, SSH keys, /dev/zero to exhaust memory) into a tensor, where model outputs can leak it. Never load such a model; legitimate exports only use plain relative names."),
	doc(RuleExternalValue, "External tensor data has an invalid offset, length or location",
		"The external_data entries of a tensor carry an offset or length that is negative or not a decimal number, a location that is empty, or data_location EXTERNAL without a location. Loaders behave inconsistently on such values (wrong reads, crashes), which a crafted model can use. A correct exporter never writes them; re-export the model."),
	doc(RulePythonOp, "The model calls a Python operator",
		"A node's operator (PyOp, PythonOp, PyFunc…) is executed by Python code registered in the loading process (onnxruntime-extensions' PyOp in the ai.onnx.contrib domain, PyTorch's PythonOp fallback). The model decides what Python callable is invoked and with what inputs; with a permissive host this is code execution, and at best the model cannot run without trusted Python glue. Treat the model as code: review where the op comes from before loading it."),
	doc(RuleCustomDomain, "The model uses operators from a non-standard domain",
		"Operators outside the ONNX standard domains (ai.onnx, ai.onnx.ml, ai.onnx.training, ai.onnx.preview) and onnxruntime's com.microsoft contrib ops need a custom-op library: native code the user must register with the runtime (ai.onnx.contrib is onnxruntime-extensions, where Python ops can also be registered). The model itself cannot load that code, but it only works with it, and that library runs with the process's rights. Check which library provides the domain and that it is trusted."),
	doc(RuleContribDomain, "The model uses onnxruntime contrib operators (com.microsoft)",
		"com.microsoft operators are native kernels shipped inside onnxruntime itself (fused attention, quantization, transformer optimizations) and are common in optimized exports. They load no extra code, so this is information for the bill of materials: the model needs onnxruntime rather than any ONNX runtime."),
	doc(RuleLargeText, "A doc_string or metadata value is unusually large",
		"Text fields of an ONNX model are normally short. A megabyte-sized doc_string or metadata_props value can smuggle a second payload (a pickle, a script) past tools that only look at tensors and operators, or bloat memory in tools that print it. Look at what the field holds."),
	doc(RuleBadTensor, "A tensor's shape is invalid",
		"A tensor has a negative dimension or a shape whose element count overflows 64 bits. Runtimes that trust the shape compute wrong buffer sizes (out-of-bounds reads and writes in C++ loaders). Legitimate exporters never write such shapes."),
	doc(RuleTensorSize, "A tensor's data size does not match its shape",
		"raw_data or the external-data length of a tensor holds more or fewer bytes than its shape and type require. Loaders that trust one of the two read past the data or ignore a hidden tail; extra bytes can carry a payload. Re-export the model."),
	doc(RuleExternalSummary, "The model reads tensor data from other files",
		"Some tensors keep their data in files next to the model (external data). The locations are plain relative names; the files must be checked too (that they exist in the model's folder and are not links elsewhere)."),
}

func doc(id, short, help string) finding.Doc { return finding.Doc{ID: id, Short: short, Help: help} }

// maxLabel caps each name used in a Where path.
const maxLabel = 128

// errStop ends the walk after a cap was reported.
var errStop = errors.New("onnx: stop")

// Standard operator-set domains (onnx/defs/schema.h).
var standardDomains = map[string]bool{
	"": true, "ai.onnx": true, "ai.onnx.ml": true, "ai.onnx.training": true,
	"ai.onnx.preview.training": true, "ai.onnx.preview": true,
}

// pythonOps are operator names whose kernel is a Python callable.
var pythonOps = map[string]bool{
	"pyop": true, "pythonop": true, "pyfunc": true, "pyfuncstateless": true,
	"eagerpyfunc": true, "pythonfunction": true, "pycall": true,
}

// Tensor element types (TensorProto.DataType) and their width in bits
// (0: variable-size strings).
var dtypeNames = [...]string{
	"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL",
	"FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
	"FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
	"FLOAT4E2M1", "FLOAT8E8M0", "UINT2", "INT2",
}
var dtypeBits = [...]uint64{0, 32, 8, 8, 16, 16, 32, 64, 0, 8, 16, 64, 32, 64, 64, 128, 16, 8, 8, 8, 8, 4, 4, 4, 8, 2, 2}

// DtypeName names a TensorProto data type.
func DtypeName(t int64) string {
	if t >= 0 && t < int64(len(dtypeNames)) {
		return dtypeNames[t]
	}
	return "TYPE_" + strconv.FormatInt(t, 10)
}

// Field numbers (onnx.proto).
const (
	modelIRVersion       = 1
	modelProducerName    = 2
	modelProducerVersion = 3
	modelDomain          = 4
	modelModelVersion    = 5
	modelDocString       = 6
	modelGraph           = 7
	modelOpsetImport     = 8
	modelMetadataProps   = 14
	modelTrainingInfo    = 20
	modelFunctions       = 25

	graphNode              = 1
	graphName              = 2
	graphInitializer       = 5
	graphDocString         = 10
	graphInput             = 11
	graphOutput            = 12
	graphSparseInitializer = 15

	nodeInput     = 1
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5
	nodeDocString = 6
	nodeDomain    = 7

	attrName          = 1
	attrT             = 5
	attrG             = 6
	attrTensors       = 10
	attrGraphs        = 11
	attrDocString     = 13
	attrSparseTensor  = 22
	attrSparseTensors = 23

	tensorDims         = 1
	tensorDataType     = 2
	tensorName         = 8
	tensorRawData      = 9
	tensorDocString    = 12
	tensorExternalData = 13
	tensorDataLocation = 14

	sparseValues  = 1
	sparseIndices = 2

	funcName          = 1
	funcNode          = 7
	funcDocString     = 8
	funcDomain        = 10
	funcAttributeProt = 11
	funcOverload      = 13

	trainingInit      = 1
	trainingAlgorithm = 2
)

type scanner struct {
	r        *pb.Reader
	lim      Limits
	rep      *Report
	list     finding.List
	nodes    int
	tensors  int
	dtypes   map[int64]bool
	funcs    map[string]bool // local functions: domain + "\x00" + name
	inputs   map[string]bool // main-graph input names; true once seen as an initializer
	interned map[string]string
	limitHit map[string]bool
	extTotal int
}

// Scan checks the ONNX model in ra (size bytes). It never fails: problems
// with the input are findings.
func Scan(ra io.ReaderAt, size int64, lim Limits) Report {
	rep := Report{Complete: true, Metadata: map[string]string{}}
	s := &scanner{
		r: pb.NewReader(ra, size), lim: lim.withDefaults(), rep: &rep,
		dtypes: map[int64]bool{}, funcs: map[string]bool{}, inputs: map[string]bool{},
		interned: map[string]string{}, limitHit: map[string]bool{},
	}
	err := s.model()
	if err != nil && err != errStop {
		s.malformed(err)
	}
	for t := range s.dtypes {
		rep.Dtypes = append(rep.Dtypes, DtypeName(t))
	}
	sort.Strings(rep.Dtypes)
	if len(rep.ExternalData) > 0 {
		s.list.Add(finding.Finding{Rule: RuleExternalSummary, Level: finding.Info, Offset: -1,
			Message:  "the model reads " + strconv.Itoa(s.extTotal) + " tensor(s) from external files; check that they sit in the model's folder and are not links",
			Evidence: finding.Shorten(rep.ExternalData[0].Location, 200)})
	}
	rep.Findings = s.list.Findings
	rep.Dropped = s.list.Dropped
	return rep
}

func (s *scanner) malformed(err error) {
	off, msg := pb.Describe(err, "ONNX")
	s.list.Add(finding.Finding{Rule: RuleMalformed, Level: finding.High, Offset: off, Message: msg})
	s.rep.Complete = false
}

// limit records that a cap stopped (part of) the analysis.
func (s *scanner) limit(off int64, where, what string) {
	s.rep.Complete = false
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

func (s *scanner) text(f pb.Field, where, what string) {
	if f.IsLen() && f.Len > s.lim.MaxTextBytes {
		s.list.Add(finding.Finding{Rule: RuleLargeText, Level: finding.Low, Offset: f.Start, Where: where,
			Message: what + " is " + strconv.FormatInt(f.Len, 10) + " bytes, far more than text needs; it may carry a hidden payload"})
	}
}

func (s *scanner) model() error {
	r := s.r
	if r.Size() == 0 {
		return &pb.Error{Off: 0, Msg: "empty file"}
	}
	// Pass 1: scalars, local function names and the main graph's input
	// names, so that pass 2 can tell local-function calls from custom ops
	// and initializers from inputs, whatever the field order.
	graphs := 0
	it := r.Fields(0, r.Size())
	for it.Next() {
		f := it.Field()
		switch f.Num {
		case modelIRVersion:
			if f.Type == protowire.VarintType {
				s.rep.IRVersion = int64(f.Value)
			}
		case modelProducerName, modelProducerVersion, modelDomain:
			v, err := s.str(f)
			if err != nil {
				return err
			}
			switch f.Num {
			case modelProducerName:
				s.rep.ProducerName = v
			case modelProducerVersion:
				s.rep.ProducerVersion = v
			default:
				s.rep.Domain = v
			}
		case modelModelVersion:
			if f.Type == protowire.VarintType {
				s.rep.ModelVersion = int64(f.Value)
			}
		case modelDocString:
			s.text(f, "doc_string", "the model's doc_string")
		case modelOpsetImport:
			if err := s.opset(f); err != nil {
				return err
			}
		case modelMetadataProps:
			if err := s.metadata(f); err != nil {
				return err
			}
		case modelGraph:
			if f.IsLen() {
				graphs++
				if err := s.graphInputs(f); err != nil {
					return err
				}
			}
		case modelFunctions:
			if f.IsLen() {
				if err := s.functionID(f); err != nil {
					return err
				}
			}
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if graphs == 0 {
		return &pb.Error{Off: 0, Msg: "no graph: not an ONNX model"}
	}

	// Pass 2: everything that holds nodes or tensors.
	training := 0
	it = r.Fields(0, r.Size())
	for it.Next() {
		f := it.Field()
		if !f.IsLen() {
			continue
		}
		var err error
		switch f.Num {
		case modelGraph:
			err = s.graph(f, "graph", 1, true)
		case modelTrainingInfo:
			err = s.trainingInfo(f, "training_info["+strconv.Itoa(training)+"]")
			training++
		case modelFunctions:
			err = s.function(f)
		}
		if err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	s.finishInputs()
	return nil
}

func (s *scanner) opset(f pb.Field) error {
	if !f.IsLen() {
		return nil
	}
	var o Opset
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		switch g.Num {
		case 1:
			v, err := s.str(g)
			if err != nil {
				return err
			}
			o.Domain = v
		case 2:
			if g.Type == protowire.VarintType {
				o.Version = int64(g.Value)
			}
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if len(s.rep.Opsets) < 1024 {
		s.rep.Opsets = append(s.rep.Opsets, o)
	}
	return nil
}

// keyValue reads a StringStringEntryProto, the value capped at max bytes.
func (s *scanner) keyValue(f pb.Field, max int) (key, val string, valLen int64, err error) {
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case 1:
			if key, err = s.str(g); err != nil {
				return
			}
		case 2:
			if val, _, err = s.r.String(g, max); err != nil {
				return
			}
			valLen = g.Len
		}
	}
	err = it.Err()
	return
}

func (s *scanner) metadata(f pb.Field) error {
	if !f.IsLen() {
		return nil
	}
	k, v, n, err := s.keyValue(f, s.lim.MaxMetadataValue)
	if err != nil {
		return err
	}
	if n > s.lim.MaxTextBytes {
		s.list.Add(finding.Finding{Rule: RuleLargeText, Level: finding.Low, Offset: f.Start, Where: "metadata_props[" + k + "]",
			Message: "metadata value is " + strconv.FormatInt(n, 10) + " bytes, far more than metadata needs; it may carry a hidden payload"})
	}
	if _, ok := s.rep.Metadata[k]; ok || len(s.rep.Metadata) < s.lim.MaxMetadata {
		s.rep.Metadata[k] = v
	}
	return nil
}

// graphInputs records the names of the main graph's inputs.
func (s *scanner) graphInputs(f pb.Field) error {
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if g.Num != graphInput || !g.IsLen() {
			continue
		}
		name, err := s.valueInfoName(g)
		if err != nil {
			return err
		}
		if len(s.inputs) < s.lim.MaxNames {
			if _, ok := s.inputs[name]; !ok {
				s.inputs[name] = false
				s.rep.Inputs = append(s.rep.Inputs, name)
			}
		}
	}
	return it.Err()
}

func (s *scanner) valueInfoName(f pb.Field) (string, error) {
	name := ""
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		if g := it.Field(); g.Num == 1 && g.IsLen() {
			v, err := s.str(g)
			if err != nil {
				return "", err
			}
			name = v
		}
	}
	return name, it.Err()
}

func (s *scanner) finishInputs() {
	out := s.rep.Inputs[:0]
	for _, n := range s.rep.Inputs {
		if !s.inputs[n] {
			out = append(out, n)
		}
	}
	s.rep.Inputs = out
}

// functionID reads a FunctionProto's domain and name (pass 1).
func (s *scanner) functionID(f pb.Field) error {
	name, domain, _, err := s.functionHeader(f)
	if err != nil {
		return err
	}
	s.rep.Functions++
	if s.rep.Functions > s.lim.MaxFunctions {
		if !s.limitHit["functions"] {
			s.limitHit["functions"] = true
			s.limit(f.Offset, "functions", "more than "+strconv.Itoa(s.lim.MaxFunctions)+" local functions")
		}
		return nil
	}
	s.funcs[domain+"\x00"+name] = true
	return nil
}

func (s *scanner) functionHeader(f pb.Field) (name, domain, overload string, err error) {
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case funcName:
			name, err = s.str(g)
		case funcDomain:
			domain, err = s.str(g)
		case funcOverload:
			overload, err = s.str(g)
		}
		if err != nil {
			return
		}
	}
	err = it.Err()
	return
}

func (s *scanner) function(f pb.Field) error {
	name, domain, overload, err := s.functionHeader(f)
	if err != nil {
		return err
	}
	if !s.funcs[domain+"\x00"+name] {
		return nil // beyond MaxFunctions, already reported
	}
	label := finding.Shorten(domain, maxLabel) + ":" + finding.Shorten(name, maxLabel)
	if overload != "" {
		label += ":" + overload
	}
	where := "functions[" + label + "]"
	it := s.r.Fields(f.Start, f.End())
	n, a := 0, 0
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case funcNode:
			if err := s.node(g, where, n, 1); err != nil {
				return err
			}
			n++
		case funcAttributeProt:
			if err := s.attribute(g, where+".attribute_proto", a, 1); err != nil {
				return err
			}
			a++
		case funcDocString:
			s.text(g, where+".doc_string", "a function's doc_string")
		}
	}
	return it.Err()
}

func (s *scanner) trainingInfo(f pb.Field, where string) error {
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case trainingInit:
			if err := s.graph(g, where+".initialization", 1, false); err != nil {
				return err
			}
		case trainingAlgorithm:
			if err := s.graph(g, where+".algorithm", 1, false); err != nil {
				return err
			}
		}
	}
	return it.Err()
}

func (s *scanner) graph(f pb.Field, where string, depth int, main bool) error {
	if depth > s.lim.MaxGraphDepth {
		// Reported once: the first place is enough to make the scan incomplete.
		if !s.limitHit["depth"] {
			s.limitHit["depth"] = true
			s.limit(f.Offset, where, "subgraphs are nested more than "+strconv.Itoa(s.lim.MaxGraphDepth)+" deep")
		}
		s.rep.Complete = false
		return nil
	}
	it := s.r.Fields(f.Start, f.End())
	n, init, sparse := 0, 0, 0
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		var err error
		switch g.Num {
		case graphNode:
			err = s.node(g, where, n, depth)
			n++
		case graphName:
			if main {
				s.rep.GraphName, err = s.str(g)
			}
		case graphInitializer:
			var name string
			var count int64
			name, count, err = s.tensor(g, where+".initializer", init, true)
			if err == nil {
				s.initializer(count, name, main)
			}
			init++
		case graphSparseInitializer:
			var count int64
			count, err = s.sparse(g, where+".sparse_initializer["+strconv.Itoa(sparse)+"]")
			if err == nil {
				s.initializer(count, "", false)
			}
			sparse++
		case graphOutput:
			if main && len(s.rep.Outputs) < s.lim.MaxNames {
				var name string
				if name, err = s.valueInfoName(g); err == nil {
					s.rep.Outputs = append(s.rep.Outputs, name)
				}
			}
		case graphDocString:
			s.text(g, where+".doc_string", "a graph's doc_string")
		}
		if err != nil {
			return err
		}
	}
	return it.Err()
}

func (s *scanner) initializer(count int64, name string, main bool) {
	s.rep.Initializers++
	if count > 0 {
		if sum := s.rep.Parameters + count; sum >= s.rep.Parameters {
			s.rep.Parameters = sum
		}
	}
	if main {
		if _, ok := s.inputs[name]; ok {
			s.inputs[name] = true
		}
	}
}

type nodeInfo struct {
	name, op, domain string
}

func (s *scanner) node(f pb.Field, parent string, idx, depth int) error {
	s.nodes++
	s.rep.Nodes++
	if s.nodes > s.lim.MaxNodes {
		s.limit(f.Offset, parent, "more than "+strconv.Itoa(s.lim.MaxNodes)+" nodes")
		return errStop
	}
	// Pass A: identity, wherever it sits among the fields.
	var ni nodeInfo
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		var err error
		switch g.Num {
		case nodeName:
			ni.name, err = s.str(g)
		case nodeOpType:
			ni.op, err = s.str(g)
		case nodeDomain:
			ni.domain, err = s.str(g)
		}
		if err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	label := finding.Shorten(ni.name, maxLabel)
	if label == "" {
		label = "#" + strconv.Itoa(idx) + " " + finding.Shorten(ni.op, maxLabel)
	}
	where := parent + ".node[" + label + "]"
	// Pass B: attributes, which may hold tensors and subgraphs.
	it = s.r.Fields(f.Start, f.End())
	a := 0
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case nodeAttribute:
			if err := s.attribute(g, where, a, depth); err != nil {
				return err
			}
			a++
		case nodeDocString:
			s.text(g, where+".doc_string", "a node's doc_string")
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	s.checkOp(ni, f.Offset, where)
	return nil
}

func (s *scanner) checkOp(ni nodeInfo, off int64, where string) {
	op := ni.op
	lower := strings.ToLower(op)
	evidence := finding.Shorten(ni.domain+"::"+op, 200)
	if ni.domain == "" {
		evidence = finding.Shorten(op, 200)
	}
	if pythonOps[lower] || strings.Contains(lower, "python") ||
		(ni.domain == "ai.onnx.contrib" && strings.HasPrefix(op, "Py")) {
		s.list.Add(finding.Finding{Rule: RulePythonOp, Level: finding.High, Offset: off, Where: where, Evidence: evidence,
			Message: "operator " + op + " runs a Python callable registered in the loading process; the model chooses what it calls"})
		return
	}
	if standardDomains[ni.domain] || s.funcs[ni.domain+"\x00"+op] {
		return
	}
	if ni.domain == "com.microsoft" || strings.HasPrefix(ni.domain, "com.microsoft.") {
		s.list.Add(finding.Finding{Rule: RuleContribDomain, Level: finding.Info, Offset: off, Where: where, Evidence: evidence,
			Message: "onnxruntime contrib operator " + op + " (native kernel shipped with onnxruntime); the model needs onnxruntime"})
		return
	}
	msg := "operator " + op + " from non-standard domain " + strconv.Quote(ni.domain) + " needs a custom-op library (native code) registered with the runtime"
	if ni.domain == "ai.onnx.contrib" {
		msg = "operator " + op + " from onnxruntime-extensions (ai.onnx.contrib): native custom op, or Python code if the host registered a Python op of that name"
	}
	s.list.Add(finding.Finding{Rule: RuleCustomDomain, Level: finding.Medium, Offset: off, Where: where, Evidence: evidence, Message: msg})
}

func (s *scanner) attribute(f pb.Field, parent string, idx, depth int) error {
	// Pass A: is there anything to walk (tensors, graphs, text)? Most
	// attributes are ints and strings: they cost no allocation.
	var nameField pb.Field
	interesting := false
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case attrName:
			nameField = g
		case attrT, attrTensors, attrG, attrGraphs, attrSparseTensor, attrSparseTensors:
			interesting = true
		case attrDocString:
			interesting = interesting || g.Len > s.lim.MaxTextBytes
		}
	}
	if err := it.Err(); err != nil || !interesting {
		return err
	}
	name, err := s.str(nameField)
	if err != nil {
		return err
	}
	if name == "" {
		name = "#" + strconv.Itoa(idx)
	}
	where := parent + ".attribute[" + finding.Shorten(name, maxLabel) + "]"
	it = s.r.Fields(f.Start, f.End())
	nt, ng, ns := 0, 0, 0
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		var err error
		switch g.Num {
		case attrT:
			_, _, err = s.tensor(g, where+".t", -1, false)
		case attrTensors:
			_, _, err = s.tensor(g, where+".tensors", nt, false)
			nt++
		case attrG:
			err = s.graph(g, where+".g", depth+1, false)
		case attrGraphs:
			err = s.graph(g, where+".graphs["+strconv.Itoa(ng)+"]", depth+1, false)
			ng++
		case attrSparseTensor:
			_, err = s.sparse(g, where+".sparse_tensor")
		case attrSparseTensors:
			_, err = s.sparse(g, where+".sparse_tensors["+strconv.Itoa(ns)+"]")
			ns++
		case attrDocString:
			s.text(g, where+".doc_string", "an attribute's doc_string")
		}
		if err != nil {
			return err
		}
	}
	return it.Err()
}

func (s *scanner) sparse(f pb.Field, where string) (int64, error) {
	var count int64
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		if !g.IsLen() {
			continue
		}
		switch g.Num {
		case sparseValues:
			_, c, err := s.tensor(g, where+".values", -1, false)
			if err != nil {
				return 0, err
			}
			count = c
		case sparseIndices:
			if _, _, err := s.tensor(g, where+".indices", -1, false); err != nil {
				return 0, err
			}
		}
	}
	return count, it.Err()
}

type extEntry struct {
	key, val string
	long     bool // value longer than MaxStringBytes
	off      int64
}

// tensor checks a TensorProto. idx ≥ 0 appends "[name]" (or "[#idx]") to
// base. It returns the tensor's name and element count (-1 if unknown).
func (s *scanner) tensor(f pb.Field, base string, idx int, init bool) (string, int64, error) {
	s.tensors++
	if s.tensors > s.lim.MaxTensors {
		s.limit(f.Offset, base, "more than "+strconv.Itoa(s.lim.MaxTensors)+" tensors")
		return "", 0, errStop
	}
	var (
		name          string
		dtype         int64
		location      int64
		count         uint64 = 1
		overflow, neg bool
		raw           = int64(-1)
		ext           []extEntry
		extDropped    bool
		dimErr        error
	)
	addDim := func(v uint64) bool {
		d := int64(v)
		if d < 0 {
			neg = true
			return true
		}
		hi, lo := bits.Mul64(count, uint64(d))
		if hi != 0 || lo > 1<<63-1 {
			overflow = true
		}
		count = lo
		return true
	}
	it := s.r.Fields(f.Start, f.End())
	for it.Next() {
		g := it.Field()
		switch g.Num {
		case tensorDims:
			if g.Type == protowire.VarintType {
				addDim(g.Value)
			} else if g.IsLen() {
				if err := s.r.Varints(g, addDim); err != nil {
					dimErr = err
				}
			}
		case tensorDataType:
			if g.Type == protowire.VarintType {
				dtype = int64(int32(g.Value))
			}
		case tensorName:
			if g.IsLen() {
				v, err := s.str(g)
				if err != nil {
					return "", 0, err
				}
				name = v
			}
		case tensorRawData:
			if g.IsLen() {
				raw = g.Len
			}
		case tensorDataLocation:
			if g.Type == protowire.VarintType {
				location = int64(g.Value)
			}
		case tensorDocString:
			s.text(g, base+".doc_string", "a tensor's doc_string")
		case tensorExternalData:
			if !g.IsLen() {
				continue
			}
			if len(ext) >= s.lim.MaxExternalKeys {
				extDropped = true
				continue
			}
			e, err := s.extEntry(g)
			if err != nil {
				return "", 0, err
			}
			ext = append(ext, e)
		}
	}
	if err := it.Err(); err != nil {
		return "", 0, err
	}
	if dimErr != nil {
		return "", 0, dimErr
	}
	where := base
	if idx >= 0 {
		label := finding.Shorten(name, maxLabel)
		if label == "" {
			label = "#" + strconv.Itoa(idx)
		}
		where = base + "[" + label + "]"
	}
	if dtype != 0 {
		s.dtypes[dtype] = true
	}
	elems := int64(count)
	switch {
	case neg:
		s.list.Add(finding.Finding{Rule: RuleBadTensor, Level: finding.Medium, Offset: f.Offset, Where: where,
			Message: "tensor has a negative dimension; loaders that trust the shape miscompute buffer sizes"})
		elems = -1
	case overflow:
		s.list.Add(finding.Finding{Rule: RuleBadTensor, Level: finding.Medium, Offset: f.Offset, Where: where,
			Message: "tensor's element count overflows 64 bits; loaders that trust the shape miscompute buffer sizes"})
		elems = -1
	}
	var want int64 = -1 // bytes the shape needs, when the type has a fixed width
	if elems >= 0 && dtype > 0 && dtype < int64(len(dtypeBits)) && dtypeBits[dtype] > 0 {
		hi, lo := bits.Mul64(uint64(elems), dtypeBits[dtype])
		if hi == 0 && lo <= 1<<63-8 {
			want = int64((lo + 7) / 8)
		} else {
			want = -2 // more than any file can hold
		}
	}
	if raw >= 0 && want != -1 && raw != want && location != 1 {
		s.list.Add(finding.Finding{Rule: RuleTensorSize, Level: finding.Medium, Offset: f.Offset, Where: where,
			Message:  "raw_data holds " + strconv.FormatInt(raw, 10) + " bytes but the shape and type need " + wantString(want) + "; extra or missing bytes confuse loaders",
			Evidence: DtypeName(dtype) + " x" + strconv.FormatInt(elems, 10)})
	}
	if location == 1 || len(ext) > 0 {
		s.external(f.Offset, where, location, ext, extDropped, want)
	}
	return name, elems, nil
}

func wantString(want int64) string {
	if want < 0 {
		return "more than 2^63"
	}
	return strconv.FormatInt(want, 10)
}

func (s *scanner) extEntry(f pb.Field) (extEntry, error) {
	e := extEntry{off: f.Start}
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
				return e, err
			}
			e.key = v
		case 2:
			v, err := s.str(g)
			if err != nil {
				return e, err
			}
			e.val, e.long = v, g.Len > int64(s.lim.MaxStringBytes)
		}
	}
	return e, it.Err()
}

func (s *scanner) external(off int64, where string, location int64, ext []extEntry, dropped bool, want int64) {
	x := External{Where: where, Offset: -1, Length: -1}
	hasLoc := false
	for _, e := range ext {
		switch e.key {
		case "location":
			hasLoc = true
			x.Location = e.val
			s.checkLocation(e, where)
		case "offset", "length":
			n, ok := parseDecimal(e.val)
			if !ok {
				s.list.Add(finding.Finding{Rule: RuleExternalValue, Level: finding.Medium, Offset: e.off, Where: where,
					Evidence: finding.Shorten(e.val, 100),
					Message:  "external data " + e.key + " is not a non-negative decimal number; loaders disagree on such values"})
				continue
			}
			if e.key == "offset" {
				x.Offset = n
			} else {
				x.Length = n
			}
		}
	}
	if dropped {
		s.list.Add(finding.Finding{Rule: RuleExternalValue, Level: finding.Medium, Offset: off, Where: where,
			Message: "tensor has more than " + strconv.Itoa(s.lim.MaxExternalKeys) + " external_data entries; only the first were checked"})
		s.rep.Complete = false
	}
	if location == 1 && !hasLoc {
		s.list.Add(finding.Finding{Rule: RuleExternalValue, Level: finding.Medium, Offset: off, Where: where,
			Message: "tensor is marked EXTERNAL but names no location; loaders fail or guess"})
	}
	if location != 1 && location != 0 {
		s.list.Add(finding.Finding{Rule: RuleExternalValue, Level: finding.Medium, Offset: off, Where: where,
			Evidence: strconv.FormatInt(location, 10),
			Message:  "tensor has an unknown data_location value"})
	}
	if x.Length >= 0 && want >= 0 && x.Length != want {
		s.list.Add(finding.Finding{Rule: RuleTensorSize, Level: finding.Medium, Offset: off, Where: where,
			Message: "external data length is " + strconv.FormatInt(x.Length, 10) + " bytes but the shape and type need " + strconv.FormatInt(want, 10)})
	}
	if !hasLoc {
		return
	}
	s.extTotal++
	if len(s.rep.ExternalData) >= s.lim.MaxExternal {
		if !s.limitHit["external"] {
			s.limitHit["external"] = true
			s.limit(off, where, "more than "+strconv.Itoa(s.lim.MaxExternal)+" external-data tensors; their locations were checked but not all are listed for the folder-level check")
		}
		return
	}
	if v, ok := s.interned[x.Location]; ok {
		x.Location = v
	} else if len(s.interned) < 4096 {
		s.interned[x.Location] = x.Location
	}
	s.rep.ExternalData = append(s.rep.ExternalData, x)
}

func parseDecimal(v string) (int64, bool) {
	if v == "" || len(v) > 19 {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

func (s *scanner) checkLocation(e extEntry, where string) {
	reason, level := LocationProblem(e.val)
	if e.long && reason == "" {
		reason, level = "is longer than "+strconv.Itoa(s.lim.MaxStringBytes)+" bytes (no real file name is)", finding.High
	}
	if reason == "" {
		return
	}
	rule := RuleExternalPath
	if level < finding.High {
		rule = RuleExternalValue
	}
	s.list.Add(finding.Finding{Rule: rule, Level: level, Offset: e.off, Where: where,
		Evidence: finding.Shorten(e.val, 200),
		Message:  "external data location " + reason + "; loading the model would read that file into a tensor"})
}

// LocationProblem says what is wrong with an external-data location, or ""
// when it is a plain path inside the model's folder. Both '/' and '\' are
// separators, since Windows runtimes honour either.
func LocationProblem(loc string) (string, finding.Level) {
	if loc == "" {
		return "is empty", finding.Medium
	}
	if strings.IndexByte(loc, 0) >= 0 {
		return "contains a NUL byte (the path is cut short where C code reads it)", finding.High
	}
	if strings.HasPrefix(loc, `\\`) || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) || strings.HasPrefix(loc, `\/`) {
		return "is a UNC or network path", finding.High
	}
	if len(loc) >= 2 && loc[1] == ':' && (loc[0]|0x20) >= 'a' && (loc[0]|0x20) <= 'z' {
		return "is a Windows drive path", finding.High
	}
	if loc[0] == '/' || loc[0] == '\\' {
		l := strings.ReplaceAll(loc, `\`, "/")
		for _, p := range []string{"/dev/", "/proc/", "/sys/"} {
			if strings.HasPrefix(l, p) {
				return "is a device or kernel file (" + p + "…)", finding.High
			}
		}
		return "is an absolute path", finding.High
	}
	if pb.Climbs(loc, false) {
		return "climbs out of the model's folder with '..'", finding.High
	}
	return "", 0
}
