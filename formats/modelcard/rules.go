package modelcard

import "github.com/hallmarkdev/hallmark/formats/finding"

// Rule ids. They are part of the JSON and SARIF output and of policy files:
// never rename one.
const (
	RuleMalformed    = "modelcard/malformed"      // front matter that is not a YAML mapping
	RuleTooLarge     = "modelcard/too-large"      // front matter beyond Limits.MaxFrontMatter
	RuleAliasBomb    = "modelcard/alias-bomb"     // YAML aliases that expand far beyond the text
	RuleDuplicateKey = "modelcard/duplicate-key"  // one key twice in a mapping
	RuleLimit        = "modelcard/limit-exceeded" // a list longer than Limits.MaxList
)

// Rules documents every rule id the package reports.
var Rules = []finding.Doc{
	{ID: RuleMalformed, Short: "The model card's front matter is not a YAML mapping hallmark can read.",
		Help: "README.md starts a YAML front matter block (---) whose content does not parse, or parses to something other than a mapping of keys, or could not be read. Model loaders do not read the card, so this is not a risk to the machine that loads the model, but the BOM lacks what the card states: licence, base model, datasets, evaluation results. The Hugging Face Hub and huggingface_hub refuse or ignore such metadata too. Fix the YAML if the repository is yours; otherwise take the licence and provenance from another source."},
	{ID: RuleTooLarge, Short: "The model card's front matter is larger than hallmark reads.",
		Help: "The front matter did not end within Limits.MaxFrontMatter bytes (1 MiB by default), so it was not parsed and the BOM lacks the card's licence, base model and datasets. Real front matter is a few kilobytes; one this large is either a README whose opening --- is a Markdown rule never closed, or was made to exhaust the tools that parse it. Check the card by hand."},
	{ID: RuleAliasBomb, Short: "The model card's YAML aliases expand far beyond its size (a \"billion laughs\" document).",
		Help: "YAML anchors (&a) and aliases (*a) let a small text stand for a huge document: nested or repeated aliases expand exponentially or repeat a long string thousands of times. Tools that expand the aliases when they convert the card to JSON or walk it (YAML-to-JSON converters, BOM generators, indexers) run out of memory or time. Real model cards do not use aliases this way, so the card was crafted to attack the tools that read it. hallmark refused it: the BOM lacks the card's facts. Treat the repository as hostile."},
	{ID: RuleDuplicateKey, Short: "A key appears twice in the same mapping of the model card's front matter.",
		Help: "YAML forbids duplicate keys. PyYAML (huggingface_hub) and yaml.v2 keep the last value, yaml.v3 and js-yaml refuse the card, and a person reading it usually stops at the first. Two licence or base_model keys let a reviewer and a tool see different values; hallmark reports the last, as huggingface_hub does. Remove the duplicate."},
	{ID: RuleLimit, Short: "A list in the model card's front matter is longer than hallmark keeps.",
		Help: "A list (tags, datasets, languages, base models, licences or flattened evaluation results) holds more than Limits.MaxList entries (1000 by default). hallmark kept the first entries and dropped the rest, so the BOM is incomplete. Real cards list a few dozen at most."},
}

// Limits caps what Parse reads and keeps.
type Limits struct {
	MaxFrontMatter int64 // bytes of YAML between the --- lines (default 1 MiB)
	MaxList        int   // entries kept per list, and evaluation results in all (default 1000)
}

// DefaultLimits returns the documented defaults.
func DefaultLimits() Limits {
	return Limits{MaxFrontMatter: 1 << 20, MaxList: 1000}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFrontMatter <= 0 {
		l.MaxFrontMatter = d.MaxFrontMatter
	}
	if l.MaxFrontMatter > 1<<40 { // keeps cap*aliasFactor and cap+slack from overflowing
		l.MaxFrontMatter = 1 << 40
	}
	if l.MaxList <= 0 {
		l.MaxList = d.MaxList
	}
	return l
}
