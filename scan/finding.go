package scan

import "github.com/hallmarkdev/hallmark/formats/modelcard"

// Rule ids of the engine itself (the pickle engine's are in package pickle).
const (
	RuleNotScanned        = "file/not-scanned"        // a file in no format hallmark parses
	RuleExtensionMismatch = "file/extension-mismatch" // content and file name disagree
	RuleLinkEscapes       = "file/link-outside-root"  // a link that leaves the scanned root
	RuleSkipped           = "file/skipped"            // a link inside the root or a special file
	RulePolyglot          = "file/polyglot"           // valid as a pickle and as another format
	RuleUnrecognised      = "file/unrecognised-model" // named like a model format, content in none
	RulePackingMismatch   = "file/packing-mismatch"   // content disagrees with the declared packing (OCI media type)

	RuleContainerMalformed = "container/malformed"      // an archive or compressed stream that cannot be read (fully)
	RuleDepth              = "container/depth"          // containers nested deeper than the limit
	RuleLimit              = "container/limit"          // a member, size or memory cap was reached
	RuleBomb               = "container/bomb"           // a decompression bomb
	RuleUnsafePath         = "container/unsafe-path"    // an absolute or ".." member name
	RuleDuplicateMember    = "container/duplicate-name" // two members with one name
	RuleArchiveLink        = "tar/link"                 // a link member
	RuleArchiveSpecial     = "tar/special"              // a device or FIFO member
	RuleNumpyMalformed     = "numpy/malformed-header"   // a .npy header that does not parse
	RuleNumpyObject        = "numpy/object-array"       // an object array: its data is a pickle
	RuleTorchScriptHost    = "torchscript/host-access"  // TorchScript source reaching for os, subprocess, builtins
)

// Finding is one result about one file.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Path     string   `json:"path"`
	Member   string   `json:"member,omitempty"`   // path inside the file; nested containers joined with "!"
	Location string   `json:"location,omitempty"` // logical place inside the format: tensor, metadata key, node path, layer
	Offset   int64    `json:"offset"`
	Message  string   `json:"message"`
	Evidence string   `json:"evidence,omitempty"`
	Global   string   `json:"global,omitempty"`
	Category string   `json:"category,omitempty"`
	Count    int      `json:"count"`
	// Suppressed is the reason a policy suppression gives: the finding is
	// reported, but it counts toward no verdict or threshold.
	Suppressed string `json:"suppressed,omitempty"`
}

// Facts are what the parsers learned about a file.
type Facts struct {
	Format         string `json:"format"`
	Framework      string `json:"framework,omitempty"`
	PickleProtocol int    `json:"pickle_protocol,omitempty"`
	PickleStreams  int    `json:"pickle_streams,omitempty"`
	Opcodes        int64  `json:"opcodes,omitempty"`
	Members        int    `json:"members,omitempty"`
	// Contains are the formats of the members (a pickle inside a gzip, the
	// arrays of an .npz), each once.
	Contains []string `json:"contains,omitempty"`
	// Executable names native code or compiled Python found where no model
	// format was: elf, mach-o, pe, wasm, pyc.
	Executable string   `json:"executable,omitempty"`
	Globals    []string `json:"globals,omitempty"`

	// What the model is, for the BOM and the reader.
	Architecture  string `json:"architecture,omitempty"`
	ModelType     string `json:"model_type,omitempty"` // config.json model_type: the architecture family
	ModelName     string `json:"model_name,omitempty"`
	FormatVersion string `json:"format_version,omitempty"`
	Producer      string `json:"producer,omitempty"`
	Parameters    int64  `json:"parameters,omitempty"`
	Tensors       int    `json:"tensors,omitempty"`
	// WeightFormats are the formats whose tensors were counted, the file's
	// own or its members' (a GGUF inside a tar layer).
	WeightFormats []string          `json:"weight_formats,omitempty"`
	Dtypes        []string          `json:"dtypes,omitempty"`
	Quantization  string            `json:"quantization,omitempty"`
	ContextLength int64             `json:"context_length,omitempty"`
	License       string            `json:"license,omitempty"`
	ChatTemplates []ChatTemplate    `json:"chat_templates,omitempty"`
	Opsets        []string          `json:"opsets,omitempty"`
	Inputs        []string          `json:"inputs,omitempty"`
	Outputs       []string          `json:"outputs,omitempty"`
	Layers        []string          `json:"layers,omitempty"`
	Ops           []string          `json:"ops,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	// Files outside this one that loading it reads or runs: ONNX external
	// data, auto_map code modules. Checked against the folder by Relate.
	ExternalData []string `json:"external_data,omitempty"`
	RemoteCode   []string `json:"remote_code,omitempty"`
	// Card is a model card's front matter (README.md).
	Card *modelcard.Card `json:"model_card,omitempty"`
}

// ChatTemplate is one Jinja chat template a model carries.
type ChatTemplate struct {
	Name   string `json:"name"`
	Source string `json:"source"` // where it sits: tokenizer.chat_template, tokenizer_config.json chat_template…
	SHA256 string `json:"sha256"`
	Size   int    `json:"size"`
}

// FileResult is everything the engine learned about one file.
type FileResult struct {
	Path string `json:"path"`
	// Name is the path inside the artifact (the BOM's file name); Path
	// joins it to the target for reports.
	Name      string    `json:"-"`
	MediaType string    `json:"media_type,omitempty"` // OCI targets: the layer's declared media type
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256,omitempty"`
	Format    string    `json:"format"`
	Scanned   bool      `json:"scanned"`
	Complete  bool      `json:"complete"`
	Verdict   string    `json:"verdict"`
	Facts     *Facts    `json:"facts,omitempty"`
	Findings  []Finding `json:"findings"`
	Error     string    `json:"error,omitempty"`
}

// Max is the highest severity among the findings, or 0.
func (r *FileResult) Max() Severity {
	var m Severity
	for _, f := range r.Findings {
		if f.Suppressed == "" && f.Severity > m {
			m = f.Severity
		}
	}
	return m
}
