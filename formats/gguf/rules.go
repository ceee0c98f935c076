package gguf

import "github.com/hallmarkdev/hallmark/formats/finding"

// Rule ids. They are part of the JSON and SARIF output and of policy files:
// never rename one.
const (
	RuleMalformed       = "gguf/malformed"
	RuleTruncated       = "gguf/truncated"
	RuleBadLength       = "gguf/bad-length"
	RuleLimit           = "gguf/limit-exceeded"
	RuleLegacyVersion   = "gguf/legacy-version"
	RuleBigEndian       = "gguf/big-endian"
	RuleValueType       = "gguf/bad-value-type"
	RuleBool            = "gguf/bad-bool"
	RuleBadKey          = "gguf/bad-key"
	RuleDuplicateKey    = "gguf/duplicate-key"
	RuleKeyType         = "gguf/key-type"
	RuleNestedArray     = "gguf/nested-array"
	RuleStringTooLong   = "gguf/string-too-long"
	RuleTemplateTooLong = "gguf/template-too-long"
	RuleAlignment       = "gguf/bad-alignment"
	RuleTensorName      = "gguf/tensor-name"
	RuleDuplicateTensor = "gguf/duplicate-tensor"
	RuleDims            = "gguf/too-many-dims"
	RuleShape           = "gguf/bad-shape"
	RuleShapeOverflow   = "gguf/shape-overflow"
	RuleEmptyTensor     = "gguf/empty-tensor"
	RuleUnknownType     = "gguf/unknown-type"
	RuleMisaligned      = "gguf/misaligned"
	RuleOutOfBounds     = "gguf/out-of-bounds"
	RuleOverlap         = "gguf/overlap"
	RuleGap             = "gguf/gap"
	RuleOrder           = "gguf/tensor-order"
	RuleTrailing        = "gguf/trailing-data"
)

// Rules documents every rule id the package reports.
var Rules = []finding.Doc{
	{ID: RuleMalformed, Short: "The file is not a GGUF file hallmark can parse.",
		Help: "The magic is not \"GGUF\", the version is not 1, 2 or 3 (in either byte order), or the file could not be read. A file that presents itself as a model but cannot be parsed is treated as unscannable, never as clean. Do not load it until you know what it is."},
	{ID: RuleTruncated, Short: "The file ends in the middle of the header, metadata or tensor infos.",
		Help: "A fixed-size field runs past the end of the file. llama.cpp refuses such a file, and readers that do not check read past their buffer. The file is truncated (an interrupted download) or crafted. The rest of the file is not analysed."},
	{ID: RuleBadLength, Short: "A declared length or count exceeds the bytes left in the file.",
		Help: "A string length, array count, metadata count or tensor count is larger than the rest of the file could hold. Loaders that allocate what the file says run out of memory or overflow a size computation; several llama.cpp heap overflows (2024) started this way. hallmark stops parsing at that point. Treat the file as hostile."},
	{ID: RuleLimit, Short: "A hallmark limit was reached, so part of the file was not analysed.",
		Help: "The file holds more metadata pairs or tensors than hallmark tracks (Limits.MaxKVs, Limits.MaxTensors), a key longer than the spec allows, or arrays nested deeper than Limits.MaxDepth. At medium, parsing went on with reduced checks. At high, nothing after that point was parsed, so a payload further on (a chat template) would be missed. The report is incomplete either way."},
	{ID: RuleLegacyVersion, Short: "The file is GGUF version 1.",
		Help: "GGUFv1 used 32-bit lengths. llama.cpp dropped support for it in late 2023, so current loaders refuse the file. That is not a security problem in itself. An old v1 file is unlikely to be what a current tool was meant to load, so check where it came from."},
	{ID: RuleBigEndian, Short: "The file is big-endian.",
		Help: "GGUF files are little-endian unless written for big-endian machines (s390x). llama.cpp on a little-endian machine refuses them. hallmark parses them in big-endian order. Informational."},
	{ID: RuleValueType, Short: "A metadata value or array element has a type that is not a GGUF type.",
		Help: "Value types are 0-12 (UINT8 ... FLOAT64). Any other value means the size of the value is unknown, so no reader can find the next pair. Readers that index a type table with it read out of bounds. hallmark stops parsing at that point."},
	{ID: RuleBool, Short: "A boolean value is neither 0 nor 1.",
		Help: "The spec says a BOOL byte other than 0 or 1 makes the model invalid. C readers treat it as true, others may reject or mask it, so tools disagree on the setting. This is usually a sign of a hand-crafted file."},
	{ID: RuleBadKey, Short: "A metadata key is empty, too long, not UTF-8, or holds control characters or path separators.",
		Help: "Keys must be non-empty ASCII of at most 65535 bytes, in dotted lower_snake_case. An empty key is refused by llama.cpp (high). An over-long key is skipped unread, and a key that is not UTF-8 or holds control characters prints and compares differently across tools, which can forge log lines (medium). A key with '/', '\\\\' or '..' is dangerous to tools that turn keys into file names (low)."},
	{ID: RuleDuplicateKey, Short: "A metadata key appears twice.",
		Help: "llama.cpp refuses a file with a duplicate key. gguf-py keeps both, and other readers keep the first or the last value. A duplicated tokenizer.chat_template or general.architecture lets a scanner judge one value while a loader uses the other. Treat the file as crafted."},
	{ID: RuleKeyType, Short: "A well-known metadata key has the wrong value type.",
		Help: "general.alignment must be UINT32: llama.cpp refuses the file otherwise (high). A chat template that is not a string is not returned for analysis, yet some tool may still render it (medium). Other well-known keys (general.architecture, general.file_type, context length) with the wrong type make loaders fail (low)."},
	{ID: RuleNestedArray, Short: "An array holds arrays.",
		Help: "The spec allows arrays of arrays, but llama.cpp refuses them and no mainstream writer produces them. Harmless in itself, but it marks a file that was not written by the usual tools."},
	{ID: RuleStringTooLong, Short: "A string value is longer than hallmark's cap.",
		Help: "Real metadata strings are small (the largest are chat templates of a few tens of KiB). A string above Limits.MaxString (1 MiB) is skipped unread, so anything it holds is not analysed. llama.cpp accepts strings up to 1 GiB. Find out why the file carries it."},
	{ID: RuleTemplateTooLong, Short: "A chat template is longer than hallmark's cap, so it was not analysed.",
		Help: "tokenizer.chat_template (or a named template) is rendered with Jinja by llama-cpp-python, transformers and others. A malicious template runs code on the host (CVE-2024-34359). A template above Limits.MaxTemplate (1 MiB, far beyond real templates) is not returned for analysis, so the file must be treated as unscanned. Review the template by hand or raise the cap."},
	{ID: RuleAlignment, Short: "general.alignment is zero or not a power of two.",
		Help: "The alignment places the tensor data and every tensor in it. llama.cpp refuses a value that is not a power of two. A reader that divides or masks with it computes offsets that point anywhere (zero divides by zero). The file is crafted or corrupt."},
	{ID: RuleTensorName, Short: "A tensor name is too long or holds invalid characters.",
		Help: "ggml keeps tensor names in a 64-byte buffer (63 bytes and a NUL). llama.cpp refuses longer names, and readers that truncate them can merge two tensors (high). Names with invalid UTF-8 or control characters print and match differently across tools (medium)."},
	{ID: RuleDuplicateTensor, Short: "Two tensors have the same name.",
		Help: "llama.cpp refuses the file. Readers that keep a map keep either tensor, so the weights a scanner checks may not be the ones a loader uses. Treat the file as crafted."},
	{ID: RuleDims, Short: "A tensor has more than 4 dimensions.",
		Help: "ggml tensors have at most 4 dimensions (GGML_MAX_DIMS). A reader that copies n_dims dimensions into a fixed 4-slot array writes past it. Such overflows were reported in llama.cpp's GGUF parser in 2024. llama.cpp now refuses the file."},
	{ID: RuleShape, Short: "A tensor dimension is negative, or a row is not a whole number of blocks.",
		Help: "ggml reads dimensions as int64: a value of 2^63 or more is negative and refused. Quantized types store rows in blocks (32 or 256 elements). A row that is not a multiple of the block size is refused, and a reader that does not check computes the wrong byte size."},
	{ID: RuleShapeOverflow, Short: "A tensor's element or byte count overflows 64 bits.",
		Help: "The product of the dimensions (or of elements and bytes per block) does not fit in int64. A reader that multiplies without checking wraps to a small size, allocates too little, then reads or writes out of bounds. llama.cpp refuses it. Treat the file as hostile."},
	{ID: RuleEmptyTensor, Short: "A tensor has a zero dimension.",
		Help: "The tensor holds no elements. ggml accepts it, but released models rarely contain one. Harmless, and worth knowing."},
	{ID: RuleUnknownType, Short: "A tensor uses a ggml type id that is unknown or was removed.",
		Help: "Tensor types index ggml's type table. Ids 4, 5, 31-33 and 36-38 were removed, and ids past the table's end are unknown. llama.cpp refuses both. A reader that indexes its table without checking reads out of bounds. The tensor's size is unknown, so its layout is not checked."},
	{ID: RuleMisaligned, Short: "A tensor's data offset is not a multiple of the alignment.",
		Help: "Every tensor must start at a multiple of general.alignment (default 32). llama.cpp refuses the file. Misaligned data breaks memory-mapped SIMD loads, and a misaligned offset often means the infos were tampered with."},
	{ID: RuleOutOfBounds, Short: "A tensor's data runs past the end of the file.",
		Help: "offset + size lies beyond the data section. Memory-mapping loaders that trust the infos read outside the file mapping (a crash, or disclosure of adjacent memory). The file is truncated or crafted."},
	{ID: RuleOverlap, Short: "Two tensors share bytes of the data section.",
		Help: "Each tensor must own its own bytes. Overlapping tensors mean two readers can disagree on the weights, and a write through one tensor corrupts the other. No writer produces this. Treat the file as crafted."},
	{ID: RuleGap, Short: "Part of the data section belongs to no tensor.",
		Help: "Beyond alignment padding, the data section should hold nothing but tensors. Unreferenced bytes between tensors are invisible to every loader, a place to hide a second payload (a polyglot file)."},
	{ID: RuleOrder, Short: "Tensor data is not stored in the order of the tensor infos.",
		Help: "ggml requires each tensor's offset to be the running sum of the padded sizes before it, so it refuses a file whose data is out of order. gguf-py and others accept it. The file was not written by the usual tools."},
	{ID: RuleTrailing, Short: "There are bytes after the last tensor.",
		Help: "The file continues past the last tensor's data and padding. The bytes are never read by a loader. Appending an archive, a script or a pickle to a model file is a common way to smuggle it past tools that only look at the model."},
}
