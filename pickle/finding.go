package pickle

// Level is a finding's severity, ordered info < low < medium < high < critical.
type Level uint8

const (
	LevelInfo Level = iota + 1
	LevelLow
	LevelMedium
	LevelHigh
	LevelCritical
)

func (l Level) String() string {
	switch l {
	case LevelInfo:
		return "info"
	case LevelLow:
		return "low"
	case LevelMedium:
		return "medium"
	case LevelHigh:
		return "high"
	case LevelCritical:
		return "critical"
	}
	return "unknown"
}

// Rule ids the pickle engine reports. They are part of the JSON and SARIF
// output and of policy files (severity overrides): never rename one.
const (
	RuleDangerousCall   = "pickle/dangerous-call"   // a denylisted callable is called
	RuleDangerousGlobal = "pickle/dangerous-global" // a denylisted global is imported but not called
	RuleUnknownCall     = "pickle/unknown-call"     // a callable in neither list is called
	RuleUnknownGlobal   = "pickle/unknown-global"   // a global in neither list is imported but not called
	RuleDunder          = "pickle/dunder-access"    // a dunder attribute is reached
	RuleDynamicGlobal   = "pickle/dynamic-global"   // STACK_GLOBAL operands that are not plain strings
	RuleUnresolvedCall  = "pickle/unresolved-call"  // a call whose callable cannot be resolved
	RuleIndirect        = "pickle/indirect-call"    // a judged-by-arguments callable with bad or unknown arguments
	RuleExtension       = "pickle/ext-opcode"       // EXT1/2/4: a global from the copyreg registry
	RuleBuildOnGlobal   = "pickle/build-on-global"  // BUILD or item assignment on a module-level object
	RuleFrame           = "pickle/frame-violation"  // FRAME rules broken: parsers disagree
	RuleMalformed       = "pickle/malformed"        // truncated or invalid pickle stream
	RuleMemo            = "pickle/memo-missing"     // GET of a memo key never PUT
	RulePersistentID    = "pickle/persistent-id"    // a persistent id that is not a PyTorch storage
	RuleOutOfBand       = "pickle/out-of-band"      // protocol-5 out-of-band buffer
	RuleLimit           = "pickle/limit-exceeded"   // a cap was reached: coverage is incomplete
	RuleTrailing        = "pickle/trailing-data"    // bytes after the last pickle that are not a pickle
	RuleNested          = "pickle/nested-pickle"    // a pickle inside a pickle operand
	RuleJoblib          = "pickle/joblib-framing"   // joblib raw array data that cannot be framed
)

// Finding is one thing the engine reports about a pickle stream.
type Finding struct {
	Rule     string
	Level    Level
	Offset   int64  // byte offset of the opcode in the file
	Global   string // module.qualname involved, if any
	Category string // deny category (exec, eval, import, …) or judged kind
	Message  string
	Evidence string // e.g. os.system('echo hallmark-test-marker')
	Count    int    // how many times the same finding occurred
}
