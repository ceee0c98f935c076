package keras

import "strings"

// Which module references Keras resolves, and how they are judged.
//
// Keras 3 (serialization_lib._retrieve_class_or_fn) imports the `module` of a
// config object and takes `class_name` (or, for class_name "function", the
// `config` string) out of it. Since 3.9 only the packages keras, keras_hub,
// keras_cv and keras_nlp are imported, but 3.0–3.8 and tf_keras import any
// module (CVE-2025-1550), and Keras public functions are still reachable
// (CVE-2025-8747 get_file, CVE-2025-9906 enable_unsafe_deserialization).
// So: the Keras packages and TensorFlow are allowed (minus their gadgets);
// anything else is a finding, and modules that reach the OS, the
// interpreter or the network are critical.

// allowedRoots are the top-level packages whose modules Keras configs name.
// numpy is deliberately absent: Keras writes arrays as "__numpy__" objects
// without a module, and numpy.testing/numpy.f2py/numpy.load reach exec,
// subprocess and pickle.
var allowedRoots = map[string]bool{
	"keras": true, "tf_keras": true, "keras_hub": true, "keras_nlp": true, "keras_cv": true,
	"tensorflow": true, "tf": true,
}

// kerasPackages are registration packages ("package>Name") of the Keras
// family libraries: their objects come with the installed library.
var kerasPackages = map[string]bool{
	"keras": true, "keras_hub": true, "keras_nlp": true, "keras_cv": true, "tf_keras": true,
}

// dangerousRoots are modules that reach the operating system, the
// interpreter, the file system or the network when imported or called.
var dangerousRoots = map[string]bool{
	"os": true, "posix": true, "nt": true, "sys": true, "subprocess": true, "builtins": true,
	"__builtin__": true, "__builtins__": true, "importlib": true, "imp": true, "shutil": true,
	"socket": true, "http": true, "urllib": true, "urllib2": true, "urllib3": true, "requests": true,
	"httplib": true, "ftplib": true, "smtplib": true, "telnetlib": true, "xmlrpc": true,
	"pickle": true, "cPickle": true, "_pickle": true, "dill": true, "joblib": true, "cloudpickle": true,
	"marshal": true, "shelve": true, "ctypes": true, "_ctypes": true, "cffi": true, "code": true,
	"codeop": true, "compileall": true, "py_compile": true, "runpy": true, "webbrowser": true,
	"tempfile": true, "signal": true, "multiprocessing": true, "threading": true, "_thread": true,
	"pty": true, "commands": true, "pdb": true, "bdb": true, "profile": true, "cProfile": true,
	"trace": true, "pip": true, "setuptools": true, "distutils": true, "pkg_resources": true,
	"asyncio": true, "select": true, "selectors": true, "ssl": true, "mmap": true, "fcntl": true,
	"resource": true, "gc": true, "inspect": true, "types": true, "functools": true, "operator": true,
	"_operator": true, "functools32": true, "copyreg": true, "pydoc": true, "timeit": true,
	"zipimport": true, "pkgutil": true, "site": true, "sysconfig": true, "platform": true,
	"glob": true, "pathlib": true, "io": true, "_io": true, "codecs": true, "base64": true,
	"zipfile": true, "tarfile": true, "torch": true, "jinja2": true,
}

// dangerousModulePrefixes are submodules of otherwise ordinary packages
// that execute code or compile and run programs.
var dangerousModulePrefixes = []string{
	"numpy.testing", "numpy.f2py", "numpy.distutils", "numpy.ctypeslib", "scipy.weave",
	"tensorflow.python.ops.script_ops", "IPython", "pandas.io",
}

func dangerousModule(m string) bool {
	root, _, _ := strings.Cut(m, ".")
	if dangerousRoots[root] {
		return true
	}
	for _, p := range dangerousModulePrefixes {
		if m == p || strings.HasPrefix(m, p+".") {
			return true
		}
	}
	return false
}

// dangerousBuiltins are Python builtins that execute, import, open or
// reach arbitrary attributes.
var dangerousBuiltins = map[string]bool{
	"eval": true, "exec": true, "compile": true, "__import__": true, "open": true, "getattr": true,
	"setattr": true, "delattr": true, "globals": true, "locals": true, "vars": true, "input": true,
	"breakpoint": true, "__build_class__": true, "help": true, "exit": true, "quit": true,
	"memoryview": true, "type": true, "object": true, "super": true, "dir": true, "print": true,
}

// nonModelingNames are Keras public functions that are not modelling
// objects: they load or save files, download, change global state or
// deserialize further. Keras 3.9+ refuses some of them by exact name
// (serialization_lib.NON_MODELING_APIS); the names are matched under any
// module so keras.src.* and tf_keras paths are covered too.
var nonModelingNames = map[string]bool{
	"clear_session": true, "load_model": true, "model_from_json": true, "model_from_yaml": true,
	"model_from_config": true, "save_model": true, "load_weights": true, "save_weights": true,
	"image_dataset_from_directory": true, "text_dataset_from_directory": true,
	"audio_dataset_from_directory": true, "load_img": true, "save_img": true,
	"deserialize_keras_object": true, "serialize_keras_object": true,
	"register_keras_serializable": true, "get_registered_object": true, "custom_object_scope": true,
	"CustomObjectScope": true, "plot_model": true, "model_to_dot": true, "set_backend": true,
	"load_data": true, "decode_predictions": true, "validate_file": true, "unpack_archive": true,
	"extract_archive": true, "func_load": true, "func_dump": true,
}

// nonModelingComponents are module path components whose functions have
// side effects outside the model: saving/loading code, global config,
// plotting and file writing, dataset downloads, callbacks that write files.
var nonModelingComponents = map[string]bool{
	"saving": true, "config": true, "visualization": true, "datasets": true, "callbacks": true,
	"file_utils": true, "io_utils": true, "model_visualization": true, "image_utils": true,
	"image_dataset_utils": true, "text_dataset_utils": true, "audio_dataset_utils": true,
	"legacy_h5_format": true, "saving_lib": true, "saving_api": true, "serialization_lib": true,
	"object_registration": true, "python_utils": true, "summary_utils": true, "backup_and_restore": true,
}

// tfDangerous are TensorFlow module components and API names that read or
// write files, run Python, load native libraries, save models or start
// network services. tf.io is judged name by name (tfIOPure): most of it
// decodes and parses tensors.
var tfDangerous = map[string]bool{
	"gfile": true, "python_io": true, "TFRecordWriter": true, "tf_record_iterator": true,
	"write_graph": true, "match_filenames_once": true, "register_filesystem_plugin": true,
	"profiler": true, "lite": true, "distribute": true, "cluster_resolver": true, "estimator": true,
	"tpu": true, "experimental_connect_to_cluster": true, "experimental_connect_to_host": true,
	"connect_to_cluster": true, "connect_to_remote_host": true, "Server": true, "rpc": true,
	"dtensor": true, "debug": true, "tfdbg": true, "logging_ops": true, "CsvDataset": true,
	"SqlDataset": true, "make_csv_dataset": true, "make_batched_features_dataset": true,
	"list_files": true, "snapshot": true, "service": true, "from_saved_model": true,
	"load_delegate": true, "Interpreter": true, "Session": true, "InteractiveSession": true,
	"file_system": true, "filesystem": true, "compat_internal": true, "file_io": true, "py_func": true, "py_function": true,
	"numpy_function": true, "eager_py_func": true, "script_ops": true, "load_library": true,
	"load_op_library": true, "load_file_system_library": true, "load_pluggable_device_library": true,
	"saved_model": true, "summary": true, "summary_ops_v2": true, "gen_io_ops": true,
	"io_ops": true, "write_file": true, "read_file": true, "enable_dump_debug_info": true,
	"checkpoint": true, "train": true, "platform": true,
	"get_file": true, "sysconfig": true, "TextFileInitializer": true,
	"TFRecordDataset": true, "TextLineDataset": true, "FixedLengthRecordDataset": true,
	"matching_files": true, "os": true, "sys": true, "subprocess": true,
}

// tfIOPure are the tf.io functions and classes that only decode, encode,
// parse or describe tensors; every other tf.io name (read_file, write_file,
// gfile, matching_files, TFRecordWriter, decode_proto's descriptor file,
// ...) touches files.
var tfIOPure = map[string]bool{
	"decode_base64": true, "encode_base64": true, "decode_jpeg": true, "encode_jpeg": true,
	"decode_png": true, "encode_png": true, "decode_image": true, "decode_gif": true,
	"decode_bmp": true, "decode_and_crop_jpeg": true, "decode_compressed": true, "decode_csv": true,
	"decode_json_example": true, "decode_raw": true, "parse_example": true,
	"parse_single_example": true, "parse_sequence_example": true,
	"parse_single_sequence_example": true, "parse_tensor": true, "serialize_tensor": true,
	"serialize_sparse": true, "serialize_many_sparse": true, "deserialize_many_sparse": true,
	"extract_jpeg_shape": true, "is_jpeg": true, "FixedLenFeature": true, "VarLenFeature": true,
	"SparseFeature": true, "RaggedFeature": true, "FixedLenSequenceFeature": true,
	"TFRecordOptions": true, "decode_wav": true, "encode_wav": true,
}

// tfDangerousPath reports whether a TensorFlow API path (without the
// tensorflow/tf root) reads or writes files, runs Python, loads libraries
// or opens network services.
func tfDangerousPath(comps []string) bool {
	last := comps[len(comps)-1]
	for i, c := range comps {
		switch {
		case tfDangerous[c], c == "raw_ops" && dangerousTFOps[last]:
			return true
		case c == "io" && i+1 < len(comps) && !tfIOPure[comps[i+1]]:
			return true
		case c == "data" && (last == "save" || last == "load"):
			return true // tf.data.experimental.save/load, Dataset.save/load
		}
	}
	return false
}

// dangerousTFOps are TensorFlow ops that touch files, run Python or print
// to a stream (PrintV2's output_stream can be a file:// path) — research §6.D D3.
var dangerousTFOps = map[string]bool{
	"ReadFile": true, "WriteFile": true, "MatchingFiles": true, "ImmutableConst": true,
	"FixedLengthRecordDataset": true, "FixedLengthRecordDatasetV2": true, "TextLineDataset": true,
	"TextLineDatasetV2": true, "TFRecordDataset": true, "TFRecordDatasetV2": true,
	"InitializeTableFromTextFile": true, "InitializeTableFromTextFileV2": true,
	"LookupTableImport": true, "LookupTableImportV2": true, "LoadAndRemapMatrix": true,
	"Save": true, "SaveV2": true, "SaveSlices": true, "Restore": true, "RestoreV2": true,
	"RestoreSlice": true, "MergeV2Checkpoints": true, "CreateSummaryFileWriter": true,
	"WriteSummary": true, "WriteScalarSummary": true, "WriteHistogramSummary": true,
	"WriteImageSummary": true, "WriteAudioSummary": true, "WriteRawProtoSummary": true,
	"WriteGraphSummary": true, "DebugIdentityV2": true, "DebugIdentityV3": true, "PrintV2": true,
	"Print": true, "PyFunc": true, "PyFuncStateless": true, "EagerPyFunc": true,
	"ShellExecute": true, "ExecuteOp": true, "SystemConfig": true, "LoadLibrary": true,
	"CacheDataset": true, "CacheDatasetV2": true, "MatchingFilesDataset": true,
	"ExperimentalMatchingFilesDataset": true, "SnapshotDataset": true, "SnapshotDatasetV2": true,
	"SnapshotDatasetReader": true, "SnapshotNestedDatasetReader": true, "LoadDataset": true,
	"SaveDataset": true, "SaveDatasetV2": true, "ExperimentalCSVDataset": true, "CSVDataset": true,
	"CSVDatasetV2": true, "SqlDataset": true, "ExperimentalSqlDataset": true,
	"DebugIdentity": true, "DebugNanCount": true, "DebugNumericSummary": true,
	"ExperimentalDatasetToTFRecord": true, "DatasetToTFRecord": true, "WholeFileReader": true,
	"WholeFileReaderV2": true, "TextLineReader": true, "TextLineReaderV2": true,
	"TFRecordReader": true, "TFRecordReaderV2": true, "FixedLengthRecordReader": true,
	"FixedLengthRecordReaderV2": true, "IdentityReader": true, "ReaderRead": true,
	"ReaderReadV2": true, "ReaderRestoreState": true, "ReaderRestoreStateV2": true,
	"SummaryWriter": true, "CreateSummaryDbWriter": true, "ImportEvent": true,
}

// internalClasses are class names that appear in Keras-written configs but
// are not in the public API lists (names_gen.go).
var internalClasses = map[string]bool{
	"Functional": true, "Model": true, "Sequential": true, "InputLayer": true, "TFOpLambda": true,
	"SlicingOpLambda": true, "TensorFlowOpLayer": true, "ClassMethod": true, "InstanceMethod": true,
	"InstanceProperty": true, "MeanMetricWrapper": true, "SumOverBatchSizeMetricWrapper": true,
	"MetricsList": true, "CompileMetrics": true, "CompileLoss": true, "LossesContainer": true,
	"MetricsContainer": true, "TensorShape": true, "InputSpec": true, "TypeSpec": true,
	"CompositeTensor": true, "DTypePolicy": true, "FloatDTypePolicy": true,
	"QuantizedDTypePolicy": true, "QuantizedFloat8DTypePolicy": true, "Policy": true,
	"PolicyV1": true, "LossScaleOptimizer": true, "LossScaleOptimizerV3": true, "RestoredOptimizer": true,
	"SharedObjectConfig": true, "Container": true, "Network": true, "TimeDistributed": true,
	"Bidirectional": true, "StackedRNNCells": true, "Wrapper": true, "Layer": true, "Operation": true,
	"Lambda": true, "TorchModuleWrapper": true, "TFSMLayer": true,
}

// specialClasses are the class names deserialize_keras_object and the
// legacy json_utils decoder handle before any module lookup.
var specialClasses = map[string]bool{
	"__keras_tensor__": true, "__tensor__": true, "__numpy__": true, "__bytes__": true,
	"__slice__": true, "__ellipsis__": true, "__tuple__": true, "__lambda__": true,
	"TensorShape": true, "TypeSpec": true, "CompositeTensor": true,
}

func knownClass(name string) bool {
	if internalClasses[name] {
		return true
	}
	_, ok := kerasClasses[name]
	return ok
}

func isDunder(s string) bool {
	return len(s) > 4 && strings.HasPrefix(s, "__") && strings.HasSuffix(s, "__")
}

// isIdentPath reports whether s is a dotted Python identifier path.
func isIdentPath(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i, c := range part {
			ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9'
			if !ok {
				return false
			}
		}
	}
	return true
}
