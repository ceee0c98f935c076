package tfgraph

// Op tables. Sources: research §6.D D3 and §4.3 (ModelAudit's list), the
// TensorFlow op registry (core/ops/*.cc) for what each op touches.

// pythonOps run a Python callable registered in the loading process under
// the token the graph names.
var pythonOps = map[string]bool{
	"PyFunc": true, "PyFuncStateless": true, "EagerPyFunc": true,
	"PyCall": true, // not a TensorFlow op; named like one by ModelAudit's list
}

// fileOp describes an op that touches the file system: which input holds
// the path (-1: none, the path comes from a resource or queue) and what it
// does with it; attr names an attribute that holds the path instead.
type fileOp struct {
	input  int
	input2 int // a second path input, or -1
	what   string
	attr   string // the path is in this attribute; the op is flagged only when it is set
}

var fileOps = map[string]fileOp{
	"ReadFile":                         {0, -1, "reads a file", ""},
	"WriteFile":                        {0, -1, "writes a file", ""},
	"MatchingFiles":                    {0, -1, "lists files", ""},
	"ImmutableConst":                   {-1, -1, "memory-maps a file", "memory_region_name"},
	"FixedLengthRecordDataset":         {0, -1, "reads files", ""},
	"FixedLengthRecordDatasetV2":       {0, -1, "reads files", ""},
	"TextLineDataset":                  {0, -1, "reads files", ""},
	"TextLineDatasetV2":                {0, -1, "reads files", ""},
	"TFRecordDataset":                  {0, -1, "reads files", ""},
	"TFRecordDatasetV2":                {0, -1, "reads files", ""},
	"CSVDataset":                       {0, -1, "reads files", ""},
	"CSVDatasetV2":                     {0, -1, "reads files", ""},
	"ExperimentalCSVDataset":           {0, -1, "reads files", ""},
	"LMDBDataset":                      {0, -1, "reads files", ""},
	"ExperimentalLMDBDataset":          {0, -1, "reads files", ""},
	"SqlDataset":                       {1, -1, "opens a database file", ""},
	"ExperimentalSqlDataset":           {1, -1, "opens a database file", ""},
	"LoadDataset":                      {0, -1, "reads a saved dataset", ""},
	"ExperimentalLoadDataset":          {0, -1, "reads a saved dataset", ""},
	"SaveDataset":                      {1, -1, "writes a dataset to files", ""},
	"SaveDatasetV2":                    {1, -1, "writes a dataset to files", ""},
	"SnapshotDataset":                  {1, -1, "writes dataset snapshots to files", ""},
	"SnapshotDatasetV2":                {1, -1, "writes dataset snapshots to files", ""},
	"DatasetToTFRecord":                {1, -1, "writes a TFRecord file", ""},
	"ExperimentalDatasetToTFRecord":    {1, -1, "writes a TFRecord file", ""},
	"InitializeTableFromTextFile":      {1, -1, "reads a text file into a table", ""},
	"InitializeTableFromTextFileV2":    {1, -1, "reads a text file into a table", ""},
	"LoadAndRemapMatrix":               {0, -1, "reads a checkpoint file", ""},
	"GenerateVocabRemapping":           {0, 1, "reads vocabulary files", ""},
	"WholeFileReader":                  {-1, -1, "reads whole files", ""},
	"WholeFileReaderV2":                {-1, -1, "reads whole files", ""},
	"TextLineReader":                   {-1, -1, "reads files", ""},
	"TextLineReaderV2":                 {-1, -1, "reads files", ""},
	"TFRecordReader":                   {-1, -1, "reads files", ""},
	"TFRecordReaderV2":                 {-1, -1, "reads files", ""},
	"FixedLengthRecordReader":          {-1, -1, "reads files", ""},
	"FixedLengthRecordReaderV2":        {-1, -1, "reads files", ""},
	"LMDBReader":                       {-1, -1, "reads files", ""},
	"CreateSummaryFileWriter":          {1, -1, "creates an event file", ""},
	"CreateSummaryDbWriter":            {1, -1, "opens a database file", ""},
	"WriteSummary":                     {-1, -1, "writes to a summary file", ""},
	"WriteScalarSummary":               {-1, -1, "writes to a summary file", ""},
	"WriteHistogramSummary":            {-1, -1, "writes to a summary file", ""},
	"WriteImageSummary":                {-1, -1, "writes to a summary file", ""},
	"WriteAudioSummary":                {-1, -1, "writes to a summary file", ""},
	"WriteRawProtoSummary":             {-1, -1, "writes to a summary file", ""},
	"WriteGraphSummary":                {-1, -1, "writes to a summary file", ""},
	"DebugIdentityV2":                  {-1, -1, "dumps tensors to files", ""},
	"DebugIdentityV3":                  {-1, -1, "dumps tensors to files", ""},
	"DebugIdentity":                    {-1, -1, "dumps tensors to debug URLs", "debug_urls"},
	"DebugNanCount":                    {-1, -1, "dumps tensors to debug URLs", "debug_urls"},
	"DebugNumericSummary":              {-1, -1, "dumps tensors to debug URLs", "debug_urls"},
	"DecodeProtoV2":                    {-1, -1, "reads a descriptor file", "descriptor_source"},
	"FixedUnigramCandidateSampler":     {-1, -1, "reads a vocabulary file", "vocab_file"},
	"CacheDataset":                     {1, -1, "caches a dataset in files", ""},
	"CacheDatasetV2":                   {1, -1, "caches a dataset in files", ""},
	"MatchingFilesDataset":             {0, -1, "lists files", ""},
	"ExperimentalMatchingFilesDataset": {0, -1, "lists files", ""},
	"SnapshotDatasetReader":            {0, -1, "reads dataset snapshot files", ""},
	"SnapshotNestedDatasetReader":      {-1, -1, "reads dataset snapshot files", ""},
	"SnapshotChunkDataset":             {0, -1, "reads dataset snapshot files", ""},
	"ListSnapshotChunksDataset":        {0, -1, "lists dataset snapshot files", ""},
	"DistributedSave":                  {1, -1, "writes a dataset to files", ""},
	"RecordInput":                      {-1, -1, "reads files matching a pattern", "file_pattern"},
	"EncodeProto":                      {-1, -1, "reads a descriptor file", "descriptor_source"},
	"FileSystemSetConfiguration":       {-1, -1, "changes file-system configuration", ""},
	"LoadLibrary":                      {0, -1, "loads a native library", ""},
	"ShellExecute":                     {-1, -1, "is named like a shell command", ""},
	"SystemConfig":                     {-1, -1, "is named like a system call", ""},
	"ExecuteOp":                        {-1, -1, "is named like a command runner", ""},
}

// inMemoryWhenEmpty are file ops for which an empty path means no file:
// CacheDataset with filename "" caches in memory.
var inMemoryWhenEmpty = map[string]bool{"CacheDataset": true, "CacheDatasetV2": true}

// networkOps talk to other machines.
var networkOps = map[string]bool{
	"Rpc": true, "TryRpc": true, "RpcClient": true, "RpcServer": true, "RpcCall": true,
	"RpcServerStart": true, "RpcServerRegister": true,
	"DataServiceDataset": true, "DataServiceDatasetV2": true, "DataServiceDatasetV3": true, "DataServiceDatasetV4": true,
	"RegisterDataset": true, "RegisterDatasetV2": true, "DistributedSave": true,
}

// checkpointOps save and restore variables. Every real SavedModel has them
// (the saver graph); they matter only when their path is fixed in the graph
// and points outside the model: the indices are the path inputs.
var checkpointOps = map[string][]int{
	"Save": {0}, "SaveV2": {0}, "SaveSlices": {0},
	"Restore": {0}, "RestoreV2": {0}, "RestoreSlice": {0},
	"MergeV2Checkpoints": {0, 1}, "ShardedFilename": {0}, "ShardedFilespec": {0},
}

// tableImportOps restore lookup tables from tensors (no file): Keras
// StringLookup/TextVectorization layers restore their vocabulary with them.
var tableImportOps = map[string]bool{"LookupTableImport": true, "LookupTableImportV2": true}

// evalOps are remembered to resolve a path input to a constant string.
var evalOps = map[string]bool{
	"Const": true, "Identity": true, "Snapshot": true, "StopGradient": true,
	"PlaceholderWithDefault": true, "StringJoin": true,
}
