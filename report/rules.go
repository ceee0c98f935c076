package report

import (
	"sort"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/formats/finding"
	"github.com/hallmarkdev/hallmark/formats/gguf"
	"github.com/hallmarkdev/hallmark/formats/hdf5"
	"github.com/hallmarkdev/hallmark/formats/hfrepo"
	"github.com/hallmarkdev/hallmark/formats/jinja"
	"github.com/hallmarkdev/hallmark/formats/keras"
	"github.com/hallmarkdev/hallmark/formats/modelcard"
	"github.com/hallmarkdev/hallmark/formats/onnx"
	"github.com/hallmarkdev/hallmark/formats/safetensors"
	"github.com/hallmarkdev/hallmark/formats/tfgraph"
	"github.com/hallmarkdev/hallmark/pickle"
	"github.com/hallmarkdev/hallmark/scan"
)

// RuleDoc documents one rule id for SARIF and the README.
type RuleDoc struct {
	ID    string
	Short string
	Help  string
}

// Rules is the catalogue of every rule id hallmark reports.
var Rules = []RuleDoc{
	{pickle.RuleDangerousCall, "A pickle calls a dangerous callable", "Loading this pickle (pickle.load, torch.load with weights_only=False, joblib.load, numpy.load with allow_pickle) calls a function from a denylisted family: process execution, code evaluation, import machinery, file or network access, nested deserializers, installers, native code. Do not load the file. The evidence shows the call and its arguments as the pickle states them."},
	{pickle.RuleDangerousGlobal, "A pickle imports a dangerous global", "The pickle imports a denylisted global without calling it directly. Loading imports the module; combined with other opcodes the global can still be reached. Treat the file as hostile unless you know why it is there."},
	{pickle.RuleUnknownCall, "A pickle calls a callable in neither list", "Loading calls a function or class that is on neither hallmark's allowlist of what real model files use nor its denylist. It may be a custom class of the model's author (allow it with a policy file after review) or a gadget hallmark does not know. Never silently clean."},
	{pickle.RuleUnknownGlobal, "A pickle imports a global in neither list", "The pickle imports a name that is on neither list but does not call it. Importing runs the module's top-level code."},
	{pickle.RuleDunder, "A pickle reaches a dunder attribute", "A global, getattr or attribute getter reaches a double-underscore attribute (__builtins__, __globals__, __class__, __subclasses__…), the classic route from any object to eval or os. Real model files never do this."},
	{pickle.RuleDynamicGlobal, "STACK_GLOBAL with computed operands", "STACK_GLOBAL imports whatever two values are on the stack. Here they are not plain strings (they come from calls, attributes set by BUILD or unknown memo entries), so the import is decided at load time and static scanners that read literals are bypassed."},
	{pickle.RuleUnresolvedCall, "A call of a value that is not a plain import", "REDUCE/OBJ/NEWOBJ/INST call a value that is itself the result of another call or cannot be followed. Real model files call imported classes and functions only."},
	{pickle.RuleIndirect, "A judged-by-arguments callable with bad or unknown arguments", "getattr, functools.partial, operator getters, copyreg._reconstructor and _codecs.encode occur in benign files; hallmark checks what they are applied to. Here the target is unknown, reflective or not resolvable."},
	{pickle.RuleExtension, "EXT opcode (copyreg extension registry)", "EXT1/EXT2/EXT4 import a global by an integer code registered with copyreg.add_extension. Model files never use them; scanners that look only at GLOBAL opcodes miss what they import."},
	{pickle.RuleBuildOnGlobal, "BUILD or item assignment on a module-level object", "The pickle sets attributes or items on an imported function, class or module rather than on a new instance, changing what later imports return (the modelscan #85 technique) or calling its __setitem__/extend."},
	{pickle.RuleFrame, "Broken FRAME boundaries", "An opcode runs past the end of its FRAME, or a FRAME opens inside another. CPython's C unpickler reading from a file then executes different opcodes than linear parsers see (cpython#154848). hallmark scans both views."},
	{pickle.RuleMalformed, "Truncated or malformed pickle", "The stream cannot be parsed to its end. The unpickler executes opcodes as it reads, so everything before the error runs; hallmark reports what it saw before the error and fails closed."},
	{pickle.RuleMemo, "Memo read before it was written", "GET of a memo key that was never PUT: CPython stops with an error, while scanners that guess memo contents are misled."},
	{pickle.RulePersistentID, "Unexpected persistent id", "A persistent id that is not a PyTorch storage reference; what it loads depends on the application's persistent_load."},
	{pickle.RuleOutOfBand, "Out-of-band buffer", "Protocol-5 NEXT_BUFFER takes data from outside the file; the file alone cannot be judged."},
	{pickle.RuleLimit, "A scan limit was reached", "A cap (stack, memo, nesting, findings, stacked pickles) was reached, so coverage of this file is incomplete. The caps are in internal/limits."},
	{pickle.RuleTrailing, "Data after the last pickle", "Bytes after the pickle streams are not a pickle. pickle.load ignores them; other loaders may not."},
	{pickle.RuleNested, "A pickle inside a pickle", "A string or bytes operand holds a pickle (raw, base64 or hex); it was scanned with the same rules."},
	{pickle.RuleJoblib, "joblib array data that cannot be framed", "joblib writes NumPy array bytes inside the pickle stream after a NumpyArrayWrapper; hallmark skips exactly prod(shape) x itemsize bytes. Here the wrapper's shape or dtype cannot be read, so the bytes after it were parsed as opcodes and may hide what joblib would read."},
	{scan.RuleNotScanned, "File not scanned", "The file is in no format this build parses (documentation, raw tensor bytes…). Its bytes still count in hashes, signatures and the BOM."},
	{scan.RuleExtensionMismatch, "Extension and content disagree", "The file's name promises one format and its content is another (a pickle named .json). Loaders that sniff content will treat it as what it really is."},
	{audit.RuleOCIUnsafePath, "OCI layer names an unsafe path", "A layer's file path in the manifest (org.cncf.model.filepath, org.opencontainers.image.title, an Ollama name) is absolute, contains \"..\", a NUL, a backslash or a control character, or names a file another layer already has. A client that unpacks the artifact may write outside the model folder or keep the other file. hallmark never uses the name: the blob is scanned under blobs/sha256-<hex>."},
	{audit.RuleOCIForeignLayer, "OCI layer with foreign URLs", "A layer descriptor lists urls: clients may download it from hosts of the manifest author's choosing instead of the registry. hallmark never contacts them, so the layer was not scanned."},
	{scan.RuleLinkEscapes, "Link out of the scanned root", "A symbolic link leads outside the scanned directory. hallmark does not follow it, so its target was not scanned; a loader would read it."},
	{scan.RuleSkipped, "Entry skipped", "A link inside the root (its target is scanned under its own path) or a special file (device, FIFO, socket)."},
	{scan.RuleUnrecognised, "Named like a model, content in no known format", "The file's name promises a model format (.safetensors, .gguf, .onnx, .h5, .pt…) but its content is in no format hallmark parses. A loader would refuse it or, worse, sniff it as something else; it is not known to be clean."},
	{scan.RulePackingMismatch, "Content disagrees with the declared packing", "An OCI layer's media type says it is a tar (plain, gzip or zstd) and its bytes are something else. Clients unpack layers by media type and never sniff, so they fail or read something other than what hallmark scanned (hallmark scans by content). Registries and packers never produce this by accident."},
	{scan.RuleExternalLink, "ONNX external data names a link", "A tensor's external data location is a symbolic link or special file in the model folder: onnxruntime follows it and reads whatever it points to (a classic way to pull /etc/passwd or a device into a model)."},
	{scan.RuleExternalMissing, "ONNX external data names a missing file", "A tensor's external data location is not in the scanned folder: the runtime reads a file hallmark has not seen."},
	{scan.RulePolyglot, "Pickle polyglot", "The file carries another format's magic (GGUF, safetensors, zip…) and is also a valid pickle. Tools that trust the magic skip it; loaders that sniff content (joblib, pickle.load on any file) run the pickle. hallmark scans it as a pickle."},
}

func init() {
	Rules = append(Rules, containerRules...)
	for _, docs := range [][]finding.Doc{safetensors.Rules, gguf.Rules, jinja.Rules, onnx.Rules, tfgraph.Rules, hdf5.Rules, keras.Rules, hfrepo.Rules, modelcard.Rules} {
		for _, d := range docs {
			Rules = append(Rules, RuleDoc{ID: d.ID, Short: d.Short, Help: d.Help})
		}
	}
	for kind, help := range zipIssueHelp {
		Rules = append(Rules, RuleDoc{ID: "zip/" + kind, Short: "Zip irregularity: " + kind, Help: help})
	}
	sort.Slice(Rules, func(i, j int) bool { return Rules[i].ID < Rules[j].ID })
}

var containerRules = []RuleDoc{
	{scan.RuleContainerMalformed, "Container cannot be read", "An archive or compressed stream is corrupt, truncated, encrypted or uses an unsupported method, so (part of) its content could not be scanned. It is not known to be clean."},
	{scan.RuleDepth, "Containers nested too deeply", "Archives or compressed streams inside each other deeper than the limit (internal/limits MaxDepth); the inner ones were not opened."},
	{scan.RuleLimit, "A container limit was reached", "A cap on members, in-memory size or decompressed bytes was reached; coverage of this file is incomplete."},
	{scan.RuleBomb, "Decompression bomb", "A stream expands beyond the ratio or size limits: reading it would exhaust disk or memory. The rest was not scanned."},
	{scan.RuleUnsafePath, "Unsafe member path", "A member name is absolute or climbs out with \"..\": extracting the archive writes outside its directory."},
	{scan.RuleDuplicateMember, "Two members with one name", "Readers disagree on which of two same-named members they use (Python's zipfile and tarfile take the last, others the first); both were scanned."},
	{scan.RuleArchiveLink, "Link member in a tar", "A symbolic or hard link inside a tar. hallmark never follows it, but extraction does, and tarfile.extractfile resolves links to other members (PyTorch's legacy tar loader uses it)."},
	{scan.RuleArchiveSpecial, "Device or FIFO member", "A tar member that is a device node or FIFO: model archives have no reason to carry one."},
	{scan.RuleNumpyMalformed, "Malformed .npy header", "The NumPy header cannot be parsed; numpy would refuse the file, but hallmark cannot tell what it holds."},
	{scan.RuleNumpyObject, "Object array (pickle inside .npy)", "The array's dtype holds Python objects, so its data is a pickle that numpy.load(allow_pickle=True) unpickles; hallmark scanned it."},
	{scan.RuleTorchScriptHost, "TorchScript code reaching for the host", "TorchScript is a restricted language without os, subprocess, eval or imports; source in a TorchScript archive that names them is forged or an escape attempt."},
}

var zipIssueHelp = map[string]string{
	"duplicate-name":     "Two central-directory entries share a name. Python's zipfile returns the last, other readers the first: scanners that key members by name miss one. Both were scanned.",
	"name-mismatch":      "The local header's file name differs from the central directory's (CVE-2025-1944): Python's zipfile refuses, PyTorch loads.",
	"flag-bits":          "General-purpose flag bits are set (encryption 0x1, 0x20, 0x40…) on a member that is readable as plaintext (CVE-2025-1945): Python's zipfile refuses, PyTorch loads.",
	"crc-mismatch":       "A member's CRC-32 does not match its data (CVE-2025-10156): Python's zipfile raises at the end, PyTorch ignores CRCs. The data was scanned anyway.",
	"prefix-data":        "Bytes before the first local header: another format (often a pickle) sits in front of the archive, a polyglot.",
	"trailing-data":      "Bytes after the end-of-central-directory record that its comment does not account for.",
	"overlap":            "Members' data ranges overlap each other or the central directory: a zip-bomb technique and a parser differential.",
	"unsafe-path":        "A member name is absolute, climbs out with \"..\", or holds backslashes, NUL or a drive letter.",
	"zip64-inconsistent": "Zip64 fields disagree with the 32-bit fields or with each other: readers may pick different values.",
	"local-only-entry":   "A local header the central directory does not list: readers that walk local headers see a member others do not.",
	"unsupported-method": "A compression method other than stored or deflate: the member cannot be read and is not known to be clean.",
	"size-mismatch":      "Local sizes, the data descriptor or the decoded length disagree with the central directory.",
	"bomb":               "A member expands beyond the ratio or size limits; reading stopped.",
	"too-many-entries":   "More entries than the limit; later ones were not listed or scanned.",
	"multiple-eocd":      "More than one end-of-central-directory signature in the tail: a comment may hide another archive that some readers pick.",
	"central-directory":  "The central directory is missing, truncated or disagrees with its counts; members were found by walking local headers.",
	"bad-local-header":   "A central entry points at bytes that are not a local header.",
	"truncated":          "A member's header or data runs past the end of the file.",
	"header-mismatch":    "Local and central headers disagree on the method or CRC.",
	"gap":                "Bytes between members that no entry accounts for.",
}

func ruleDoc(id string) RuleDoc {
	for _, r := range Rules {
		if r.ID == id {
			return r
		}
	}
	return RuleDoc{ID: id, Short: id, Help: id}
}
