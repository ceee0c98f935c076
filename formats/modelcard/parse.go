package modelcard

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"

	// yaml.v2 is the parser under sigs.k8s.io/yaml. It is used directly
	// because sigs.k8s.io/yaml.YAMLToJSON writes every alias expansion out
	// as JSON text: a 126 KB card that aliases one 100 KB string 2000 times
	// became 200 MB of JSON and 800 MB of allocations. yaml.v2's own tree
	// shares aliased strings, and its alias-ratio check stops exponential
	// expansion; expandedSize below stops the rest.
	yaml "go.yaml.in/yaml/v2"
)

// Report is what Parse found in one README.md.
type Report struct {
	Card     *Card // nil if there is no front matter or it could not be read
	Findings []finding.Finding
	// Complete is false when the front matter (or part of a list) was
	// not analysed; a finding then says why.
	Complete bool
}

const (
	maxID   = 200  // bytes of an identifier-like string (ids, slugs, values)
	maxText = 1000 // bytes of free text (names, URLs, descriptions)
	// aliasFactor bounds the size of the expanded document, in multiples of
	// Limits.MaxFrontMatter, before it counts as an alias bomb. Without
	// aliases the expanded size is below the text's size.
	aliasFactor = 8
	// closingSlack is how far past MaxFrontMatter the reader goes to find
	// the closing --- line (with trailing blanks and CRLF).
	closingSlack = 64
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Parse reads the YAML front matter of a model card. It reads the opening
// --- line at byte 0 (after an optional UTF-8 BOM) and then line by line
// up to the closing --- line, never more than Limits.MaxFrontMatter bytes
// plus a few KiB of read-ahead, so a huge README costs nothing. It never
// fails: problems are findings.
//
// Like huggingface_hub, it accepts \n and \r\n line ends and a closing line
// of --- followed by blanks, and treats a front matter that is never
// closed as no front matter. A file without front matter gives a nil Card
// and no finding.
func Parse(r io.Reader, lim Limits) Report {
	lim = lim.withDefaults()
	var l finding.List
	l.PerRule = 8 // at most six lists can hit MaxList: all are reported
	rep := Report{Complete: true}
	done := func() Report {
		rep.Findings = l.Findings
		return rep
	}

	body, start, st, err := readFrontMatter(r, lim.MaxFrontMatter)
	switch st {
	case fmNone:
		return done()
	case fmTooLarge:
		rep.Complete = false
		l.Add(finding.Finding{Rule: RuleTooLarge, Level: finding.Low, Offset: start, Where: "front matter",
			Message: fmt.Sprintf("model card front matter does not end within %d bytes: not analysed, so the BOM lacks the card's licence, base model and datasets", lim.MaxFrontMatter)})
		return done()
	case fmReadError:
		rep.Complete = false
		l.Add(finding.Finding{Rule: RuleMalformed, Level: finding.Low, Offset: start, Where: "front matter",
			Message:  "cannot read the model card's front matter: the BOM lacks the card's licence, base model and datasets",
			Evidence: clean(err.Error(), maxID)})
		return done()
	}

	doc, dupErr, err := decode(body)
	if dupErr != nil {
		l.Add(finding.Finding{Rule: RuleDuplicateKey, Level: finding.Low, Offset: start, Where: "front matter",
			Message:  "a key appears twice in the model card's front matter: readers disagree on which value counts (hallmark keeps the last, like huggingface_hub)",
			Evidence: clean(dupErr.Error(), maxID)})
	}
	if err == nil {
		if n, ok := expandedSize(doc, aliasFactor*lim.MaxFrontMatter); !ok {
			err = fmt.Errorf("%w: expands to more than %d bytes (text %d bytes)", errAliasBomb, n, len(body))
		}
	}
	if err != nil {
		rep.Complete = false
		if errors.Is(err, errAliasBomb) {
			l.Add(finding.Finding{Rule: RuleAliasBomb, Level: finding.Medium, Offset: start, Where: "front matter",
				Message:  "model card front matter uses YAML aliases that expand far beyond its size (billion laughs): crafted to exhaust the tools that read it; not analysed",
				Evidence: clean(err.Error(), maxID)})
		} else {
			l.Add(finding.Finding{Rule: RuleMalformed, Level: finding.Low, Offset: start, Where: "front matter",
				Message:  "model card front matter is not valid YAML: the BOM lacks the card's licence, base model and datasets",
				Evidence: clean(err.Error(), maxID)})
		}
		return done()
	}
	if doc == nil { // "---\n---": an empty front matter
		rep.Card = &Card{}
		return done()
	}
	m, ok := doc.(map[interface{}]interface{})
	if !ok {
		rep.Complete = false
		l.Add(finding.Finding{Rule: RuleMalformed, Level: finding.Low, Offset: start, Where: "front matter",
			Message:  "model card front matter is a YAML " + kindOf(doc) + ", not a mapping of keys: the BOM lacks the card's licence, base model and datasets",
			Evidence: scalar(doc, maxID)}) // "" for a list: it may be huge
		return done()
	}
	b := builder{lim: lim, list: &l}
	rep.Card = b.card(m)
	if b.truncated {
		rep.Complete = false
	}
	return done()
}

type fmStatus int

const (
	fmNone fmStatus = iota
	fmFound
	fmTooLarge
	fmReadError
)

// readFrontMatter returns the YAML text between the --- lines and its
// offset in the file.
func readFrontMatter(r io.Reader, max int64) (body []byte, start int64, st fmStatus, err error) {
	br := bufio.NewReaderSize(r, 4096)
	p, err := br.Peek(len(utf8BOM))
	if err != nil && err != io.EOF {
		return nil, 0, fmReadError, err
	}
	if bytes.Equal(p, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
		start = int64(len(utf8BOM))
	}
	p, err = br.Peek(5)
	if err != nil && err != io.EOF {
		return nil, start, fmReadError, err
	}
	n := 0
	switch {
	case bytes.HasPrefix(p, []byte("---\n")):
		n = 4
	case bytes.HasPrefix(p, []byte("---\r\n")):
		n = 5
	default:
		return nil, start, fmNone, nil
	}
	_, _ = br.Discard(n) // peeked: cannot fail
	start += int64(n)

	limit := max + closingSlack
	for {
		lineStart := len(body)
		eof := false
		for {
			frag, err := br.ReadSlice('\n')
			body = append(body, frag...)
			if int64(len(body)) > limit {
				return nil, start, fmTooLarge, nil
			}
			if err == nil {
				break
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err == io.EOF {
				eof = true
				break
			}
			return nil, start, fmReadError, err
		}
		if closing(body[lineStart:]) {
			body = body[:lineStart]
			if int64(len(body)) > max {
				return nil, start, fmTooLarge, nil
			}
			return body, start, fmFound, nil
		}
		if eof { // never closed: huggingface_hub sees no metadata either
			return nil, start, fmNone, nil
		}
	}
}

// closing reports whether line is the closing "---", allowing trailing
// blanks and a \r\n or \n end (huggingface_hub's REGEX_YAML_BLOCK).
func closing(line []byte) bool {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	line = bytes.TrimRight(line, " \t")
	return string(line) == "---"
}

var errAliasBomb = errors.New("excessive YAML alias expansion")

// decode parses the front matter. Strict parsing finds duplicate keys; the
// text is then parsed again leniently, where the last value wins as in
// PyYAML. A document with merge keys (<<) is not checked for duplicates:
// overriding a merged key is legal there and strict mode reports it.
func decode(body []byte) (doc interface{}, dupErr, err error) {
	doc, err = unmarshal(body, yaml.UnmarshalStrict)
	var te *yaml.TypeError
	if errors.As(err, &te) && onlyDuplicates(te) {
		if !bytes.Contains(body, []byte("<<")) {
			dupErr = errors.New(strings.Join(te.Errors, "; "))
		}
		doc, err = unmarshal(body, yaml.Unmarshal)
	}
	if err != nil && strings.Contains(err.Error(), "excessive aliasing") {
		err = fmt.Errorf("%w: %v", errAliasBomb, err)
	}
	return doc, dupErr, err
}

func onlyDuplicates(te *yaml.TypeError) bool {
	for _, e := range te.Errors {
		if !strings.Contains(e, "already set in map") {
			return false
		}
	}
	return len(te.Errors) > 0
}

func unmarshal(body []byte, fn func([]byte, interface{}) error) (doc interface{}, err error) {
	defer func() {
		if p := recover(); p != nil {
			doc, err = nil, fmt.Errorf("YAML parser failed: %v", p)
		}
	}()
	err = fn(body, &doc)
	return doc, err
}

// expandedSize is about how many bytes the document takes with every alias
// expanded (as JSON would write it), giving up past budget. yaml.v2 shares
// an aliased string between its uses, so the tree is small even when this
// is huge; tools that serialise or copy it are not so lucky. Iterative:
// alias chains can make the tree far deeper than the text.
func expandedSize(doc interface{}, budget int64) (int64, bool) {
	var n int64
	stack := []interface{}{doc}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n += 2
		switch v := v.(type) {
		case string:
			n += int64(len(v))
		case []interface{}:
			stack = append(stack, v...)
		case map[interface{}]interface{}:
			for k, e := range v {
				stack = append(stack, k, e)
			}
		default:
			n += 8
		}
		if n > budget {
			return n, false
		}
	}
	return n, true
}

func kindOf(v interface{}) string {
	switch v.(type) {
	case []interface{}:
		return "list"
	case map[interface{}]interface{}:
		return "mapping"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int, int64, uint64, float64:
		return "number"
	}
	return "scalar"
}

// builder turns the decoded front matter into a Card, capping lists.
type builder struct {
	lim       Limits
	list      *finding.List
	truncated bool
}

func (b *builder) card(m map[interface{}]interface{}) *Card {
	c := &Card{}
	if v, ok := m["license"]; ok {
		if l, isList := v.([]interface{}); isList {
			c.Licenses = b.strings("license", l, maxID, false)
			if len(c.Licenses) > 0 {
				c.License = c.Licenses[0]
			}
		} else {
			c.License = scalar(v, maxID)
		}
	}
	c.LicenseName = scalar(m["license_name"], maxID)
	c.LicenseLink = scalar(m["license_link"], maxText)
	c.BaseModels = b.stringOrList("base_model", m["base_model"], maxID, false)
	c.BaseModelRelation = scalar(m["base_model_relation"], maxID)
	c.Datasets = b.stringOrList("datasets", m["datasets"], maxID, false)
	c.PipelineTag = scalar(m["pipeline_tag"], maxID)
	c.Languages = b.stringOrList("language", m["language"], maxID, true)
	c.LibraryName = scalar(m["library_name"], maxID)
	c.Tags = b.stringOrList("tags", m["tags"], maxID, false)
	b.modelIndex(c, m["model-index"])
	c.CO2 = co2(m["co2_eq_emissions"])
	for k := range m {
		if s, ok := k.(string); ok && strings.HasPrefix(s, "extra_gated") {
			c.ExtraGated = true
			break
		}
	}
	return c
}

// stringOrList reads a key that holds one string or a list of them.
func (b *builder) stringOrList(key string, v interface{}, max int, language bool) []string {
	if l, ok := v.([]interface{}); ok {
		return b.strings(key, l, max, language)
	}
	s := scalarLang(v, max, language)
	if s == "" {
		return nil
	}
	return []string{s}
}

// strings keeps the scalar entries of l, without duplicates, up to MaxList.
func (b *builder) strings(key string, l []interface{}, max int, language bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range l {
		s := scalarLang(e, max, language)
		if s == "" || seen[s] {
			continue
		}
		if len(out) == b.lim.MaxList {
			b.limit(key)
			break
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

func (b *builder) limit(key string) {
	b.truncated = true
	b.list.Add(finding.Finding{Rule: RuleLimit, Level: finding.Low, Offset: -1, Where: key,
		Message: fmt.Sprintf("model card lists more than %d %s entries: the rest were dropped, so the BOM is incomplete", b.lim.MaxList, key)})
}

// modelIndex flattens model-index[].results[].metrics[] into c.Results.
// Entries of the wrong shape are skipped, as the Hub's widget skips them.
func (b *builder) modelIndex(c *Card, v interface{}) {
	entries, _ := v.([]interface{})
	for i, e := range entries {
		em, _ := e.(map[interface{}]interface{})
		if em == nil {
			continue
		}
		if i == 0 {
			c.ModelName = scalar(em["name"], maxID)
		}
		results, _ := em["results"].([]interface{})
		for _, r := range results {
			rm, _ := r.(map[interface{}]interface{})
			if rm == nil {
				continue
			}
			task, _ := rm["task"].(map[interface{}]interface{})
			ds, _ := rm["dataset"].(map[interface{}]interface{})
			src, _ := rm["source"].(map[interface{}]interface{})
			base := Result{
				Task:            scalar(task["type"], maxID),
				TaskName:        scalar(task["name"], maxText),
				DatasetType:     scalar(ds["type"], maxID),
				Dataset:         scalar(ds["name"], maxText),
				DatasetConfig:   scalar(ds["config"], maxID),
				Split:           scalar(ds["split"], maxID),
				DatasetRevision: scalar(ds["revision"], maxID),
				Source:          scalar(src["name"], maxText),
				SourceURL:       scalar(src["url"], maxText),
			}
			if base.Dataset == "" {
				base.Dataset = base.DatasetType
			}
			metrics, _ := rm["metrics"].([]interface{})
			for _, mt := range metrics {
				mm, _ := mt.(map[interface{}]interface{})
				if mm == nil {
					continue
				}
				res := base
				res.Metric = scalar(mm["type"], maxID)
				res.Name = scalar(mm["name"], maxText)
				if res.Metric == "" {
					res.Metric = clean(res.Name, maxID)
				}
				res.Value = scalar(mm["value"], maxID)
				if res.Metric == "" || res.Value == "" {
					continue
				}
				res.Verified = truthy(mm["verified"])
				if len(c.Results) == b.lim.MaxList {
					b.limit("model-index")
					return
				}
				c.Results = append(c.Results, res)
			}
		}
	}
}

// co2 reads co2_eq_emissions: grams as a number, or an object.
func co2(v interface{}) *CO2 {
	if v == nil {
		return nil
	}
	var c CO2
	if m, ok := v.(map[interface{}]interface{}); ok {
		c = CO2{
			Emissions:            scalar(m["emissions"], maxID),
			Source:               scalar(m["source"], maxText),
			TrainingType:         scalar(m["training_type"], maxID),
			GeographicalLocation: scalar(m["geographical_location"], maxText),
			HardwareUsed:         scalar(m["hardware_used"], maxText),
		}
	} else {
		c.Emissions = scalar(v, maxID)
	}
	if c == (CO2{}) {
		return nil
	}
	return &c
}

func truthy(v interface{}) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

func scalar(v interface{}, max int) string { return scalarLang(v, max, false) }

// scalarLang formats a YAML scalar as text; lists, mappings and null give
// "". For languages, YAML 1.1's false is the Norwegian code `no` that
// yaml.v2 (like PyYAML) read as a boolean.
func scalarLang(v interface{}, max int, language bool) string {
	switch v := v.(type) {
	case string:
		return clean(v, max)
	case bool:
		if language && !v {
			return "no"
		}
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		return formatFloat(v)
	}
	return ""
}

// formatFloat writes f as encoding/json does (json.Number text); YAML's
// .nan and .inf have no JSON form and are spelled out.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	b, err := json.Marshal(f)
	if err != nil {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return json.Number(b).String()
}

// clean makes untrusted text safe for one-line output: it drops control,
// bidi-override and zero-width-no-break characters, turns line breaks and
// tabs into single spaces, replaces invalid UTF-8 and cuts the result to
// max bytes on a rune boundary.
func clean(s string, max int) string {
	cut := false
	if lim := 4*max + 16; len(s) > lim { // bound the work on a huge string
		s, cut = finding.Shorten(s, lim), true
		s = strings.TrimSuffix(s, "…")
	}
	var sb strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == 0x85 || r == 0x2028 || r == 0x2029:
			space = true
			continue
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0),
			r == 0x061C, r == 0x200E, r == 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069,
			r == 0xFEFF:
			continue
		}
		if space && sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		space = false
		sb.WriteRune(r) // writes U+FFFD for invalid UTF-8
	}
	out := sb.String()
	if cut && len(out) <= max {
		out += "…"
	}
	return finding.Shorten(out, max)
}
