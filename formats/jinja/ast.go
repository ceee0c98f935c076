package jinja

// The syntax tree mirrors jinja2.nodes closely enough for the analysis;
// offsets are into the normalised source.

type span struct{ off, end int }

func (s span) pos() span { return s }

type expr interface{ pos() span }

type (
	constExpr struct {
		span
		v cv
	}
	nameExpr struct {
		span
		name string
	}
	getattrExpr struct {
		span
		obj     expr
		attr    string
		attrOff int
	}
	getitemExpr struct {
		span
		obj expr
		arg expr
	}
	sliceExpr struct {
		span
		start, stop, step expr // nil when absent
	}
	keyword struct {
		key string
		off int
		val expr
	}
	callArgs struct {
		args      []expr
		kwargs    []keyword
		dynArgs   expr
		dynKwargs expr
	}
	callExpr struct {
		span
		fn expr
		callArgs
	}
	filterExpr struct {
		span
		node    expr // nil for {% filter %} blocks and {% set x | f %}
		name    string
		nameOff int
		callArgs
	}
	testExpr struct {
		span
		node expr
		name string
		callArgs
	}
	binExpr struct {
		span
		op   string // + - * / // % ** and or
		l, r expr
	}
	unaryExpr struct {
		span
		op string // - + not
		x  expr
	}
	operand struct {
		op string // eq ne lt lteq gt gteq in notin
		x  expr
	}
	compareExpr struct {
		span
		x   expr
		ops []operand
	}
	concatExpr struct {
		span
		parts []expr
	}
	condExpr struct {
		span
		test, then, els expr // els may be nil
	}
	listExpr struct {
		span
		items []expr
		tuple bool
	}
	pair     struct{ k, v expr }
	dictExpr struct {
		span
		pairs []pair
	}
	// nsrefExpr is an assignment target `ns.attr`.
	nsrefExpr struct {
		span
		name, attr string
	}
)

type stmt interface{ pos() span }

type (
	dataStmt struct {
		span
		text string
	}
	printStmt struct {
		span
		x expr
	}
	setStmt struct {
		span
		target expr
		value  expr
	}
	setBlockStmt struct {
		span
		target expr
		filter *filterExpr // may be nil
		body   []stmt
	}
	forStmt struct {
		span
		target, iter, test expr // test may be nil
		recursive          bool
		body, els          []stmt
	}
	ifStmt struct {
		span
		test expr
		body []stmt
		els  []stmt // elif chains become nested ifStmts here
	}
	macroStmt struct {
		span
		name     string
		params   []string
		defaults []expr // aligned to the last len(defaults) params
		body     []stmt
	}
	callBlockStmt struct {
		span
		params   []string
		defaults []expr
		call     *callExpr
		body     []stmt
	}
	filterBlockStmt struct {
		span
		filter *filterExpr
		body   []stmt
	}
	withStmt struct {
		span
		targets []expr
		values  []expr
		body    []stmt
	}
	blockStmt struct {
		span
		name string
		body []stmt
	}
	// loadStmt is include, import, from … import and extends.
	loadStmt struct {
		span
		kind     string
		template expr
		target   string   // import … as target
		names    []string // from … import names (local names)
	}
	scopeStmt struct { // autoescape, generation
		span
		x    expr // may be nil
		body []stmt
	}
	loopCtlStmt struct {
		span
		kind string
	}
	doStmt struct {
		span
		x expr
	}
)
