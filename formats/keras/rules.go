package keras

import "github.com/hallmarkdev/hallmark/formats/finding"

// Rule ids this package reports. They appear in JSON, SARIF and policy
// files: never rename one.
const (
	RuleLambda             = "keras/lambda"
	RuleModuleReference    = "keras/module-reference"
	RuleCustomObject       = "keras/custom-object"
	RuleGetFile            = "keras/get-file"
	RuleUnsafeToggle       = "keras/enable-unsafe-deserialization"
	RuleTorchModuleWrapper = "keras/torch-module-wrapper"
	RuleNonModelingAPI     = "keras/non-modeling-api"
	RuleTFOp               = "keras/tf-op"
	RuleFileReference      = "keras/file-reference"
	RuleDuplicateKey       = "keras/duplicate-key"
	RuleEncoding           = "keras/encoding"
	RuleMalformed          = "keras/malformed"
	RuleLimit              = "keras/limit"
	RuleMetadata           = "keras/metadata"
	RuleArchiveCode        = "keras/archive-code"
	RuleArchivePickle      = "keras/archive-pickle"
	RuleArchiveDuplicate   = "keras/archive-duplicate"
	RuleArchiveUnexpected  = "keras/archive-unexpected"
	RuleArchivePath        = "keras/archive-path"
)

// Rules documents every rule id the package can report.
var Rules = []finding.Doc{
	doc(RuleLambda, "A Lambda layer or __lambda__ object carries marshalled Python bytecode.",
		"Keras serializes a Python lambda by marshalling its bytecode (base64 in the config). Loading the model "+
			"unmarshals and runs that code: with safe_mode=False, through any legacy .h5 load on affected versions "+
			"(CVE-2024-3660, CVE-2025-9905), or after a config-reachable call to enable_unsafe_deserialization. "+
			"The evidence lists the names and strings the bytecode uses (os, system, __import__, ...). Critical when "+
			"the payload is a code object; high when the payload is present but is not one. Do not load the model; "+
			"rebuild the layer as a registered custom layer whose code you can review."),
	doc(RuleModuleReference, "The config makes Keras import a module outside Keras and TensorFlow.",
		"Keras resolves a config object's \"module\" and \"class_name\" (or the function name in \"config\") by "+
			"importing the module and taking the attribute. Keras 3.0-3.8 and tf_keras import any module, so a config "+
			"naming os.system, builtins.exec or subprocess.Popen runs it during loading even with safe_mode=True "+
			"(CVE-2025-1550). Critical for modules and builtins that reach the OS, the interpreter or the network, "+
			"high for any other module. Treat the file as hostile unless you know and trust the module named."),
	doc(RuleCustomObject, "The model needs custom (non-Keras) classes or functions to load.",
		"A registered name such as \"MyPackage>MyLayer\", an unknown class name, or a __main__ object means the "+
			"model can only be loaded with the author's code registered (custom_objects or "+
			"register_keras_serializable). The code is not in the file, but whoever loads it is asked to run code "+
			"from elsewhere. Review where that code comes from before loading."),
	doc(RuleGetFile, "The config reaches keras.utils.get_file (download to a chosen path).",
		"get_file downloads a URL and can extract it to a chosen directory. Reached from a config it turns model "+
			"loading into an arbitrary download and file write, for example over a startup script or a Python "+
			"module on the path (CVE-2025-8747 bypassed safe_mode this way). The evidence holds the URLs found "+
			"next to the reference. Do not load the model."),
	doc(RuleUnsafeToggle, "The config calls keras.config.enable_unsafe_deserialization.",
		"enable_unsafe_deserialization turns safe_mode off for the rest of the process, after which Lambda "+
			"bytecode in the same or any later model is executed (CVE-2025-9906). The same happens through "+
			"keras.src.backend.common.global_state.set_global_attribute(\"safe_mode_saving\", False) or a "+
			"registered_name Keras 3.0-3.8 fall back to. No legitimate model config names it. Do not load the model."),
	doc(RuleTorchModuleWrapper, "A TorchModuleWrapper layer embeds a torch.save payload.",
		"TorchModuleWrapper stores a whole torch.nn.Module as base64 torch.save bytes in its config and calls "+
			"torch.load(weights_only=False) on them when the model is loaded: an embedded pickle that runs code "+
			"(CVE-2025-49655). The payload is handed to the scanner as an embedded file. Load only if you trust the "+
			"author and the embedded pickle scans clean."),
	doc(RuleNonModelingAPI, "The config reaches a Keras function with side effects outside the model.",
		"Keras public functions that load or save models, change global configuration, plot to files, read "+
			"directories, download datasets or application weights are not modelling objects, but a config can name "+
			"them and Keras returns or calls them while building the model (Keras refuses some by name since 3.9; "+
			"keras.src paths, tf_keras and older versions do not). Review why the model needs it."),
	doc(RuleTFOp, "A layer wraps a TensorFlow op or API symbol (TFOpLambda, TensorFlowOpLayer).",
		"tf.keras models built with TensorFlow functions store them as TFOpLambda/SlicingOpLambda layers naming a "+
			"tf.* API symbol, or TensorFlowOpLayer layers holding a NodeDef. Math and array ops are ordinary (info). "+
			"Symbols or ops that read or write files, run Python (py_function, PyFunc), load libraries or save "+
			"models are high: they act when the model runs."),
	doc(RuleFileReference, "A layer reads a file or loads a model from a path named in its config.",
		"StringLookup/IntegerLookup/TextVectorization read a vocabulary file when \"vocabulary\" is a path, tokenizers "+
			"read \"merges\"/\"proto\" paths, and TFSMLayer loads a whole SavedModel from \"filepath\". At load time this "+
			"reads local files (for example /etc/passwd into the vocabulary) or remote URLs through TensorFlow's "+
			"file systems. Low for relative paths, medium for absolute, traversing or remote ones, high for "+
			"TFSMLayer. Keras itself keeps vocabularies in the archive's assets, not as paths."),
	doc(RuleDuplicateKey, "A JSON object repeats a key.",
		"Python's json keeps the last value of a repeated key; other parsers keep the first. A scanner and Keras "+
			"can therefore see different configs. Keras never writes duplicate keys. Both values are analysed."),
	doc(RuleEncoding, "The config is not plain UTF-8 JSON.",
		"json.loads accepts UTF-16 and UTF-32 and a UTF-8 byte-order mark, which Keras never writes. Tools that "+
			"assume UTF-8 may skip such a config; hallmark decodes it as Python does and analyses it."),
	doc(RuleMalformed, "The config cannot be parsed, or is not a Keras object config.",
		"The config is not valid JSON as Python reads it (syntax, encoding) or has an unexpected shape. "+
			"hallmark fails closed: the contents were not (fully) analysed. The evidence lists risky markers "+
			"(Lambda, __lambda__, module names) seen in the raw text."),
	doc(RuleLimit, "A cap stopped the analysis; the config was not fully analysed.",
		"The config exceeds a size, nesting or value-count cap, or a Lambda payload is too large to decode. The "+
			"analysis is incomplete; treat the file as unscanned or raise the limit."),
	doc(RuleMetadata, "metadata.json is malformed or unusual.",
		"Keras writes metadata.json with keras_version and date_saved. Keras does not read it back when loading, "+
			"so a malformed file is only a sign of a hand-made archive."),
	doc(RuleArchiveCode, "The .keras archive holds code files (.py, .pyc, .so, scripts).",
		"Keras never writes code into a .keras archive. Keras itself does not run these members, but their "+
			"presence shows intent: loaders, notebooks or a custom loading script may import them. Inspect them."),
	doc(RuleArchivePickle, "The .keras archive holds pickle files.",
		"A pickle-format member (.pkl, .pickle, .joblib, .pt, ...) is not something Keras writes; a custom layer's "+
			"load_assets may unpickle it, which runs code. The member is scanned as a pickle on its own."),
	doc(RuleArchiveDuplicate, "The .keras archive has two members with the same name.",
		"Python's zipfile reads the last of duplicate members; other readers read the first. A scanner can be "+
			"shown a benign config.json while Keras loads a hostile one."),
	doc(RuleArchiveUnexpected, "The .keras archive holds members Keras does not write.",
		"Keras writes config.json, metadata.json, model.weights.h5 (or .npz) and assets/. Other members are "+
			"ignored by Keras but may be used by other tooling."),
	doc(RuleArchivePath, "An archive member name is absolute or climbs out of the archive.",
		"Names with '..' or a leading '/' or drive letter can write outside the target directory when the "+
			"archive is extracted (Keras extracts assets/ to a temporary directory)."),
}

func doc(id, short, help string) finding.Doc {
	return finding.Doc{ID: id, Short: short, Help: help}
}
