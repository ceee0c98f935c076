// Package policy reads a policy file (YAML or JSON): the severity
// threshold, extra allowed and denied pickle globals, per-rule severity
// overrides, and the gate's requirements: signatures, formats, suppressions
// and size limits. Unknown keys, rule ids and format names are errors, so a
// typo never weakens a gate. policy/schema/policy.schema.json describes the
// same file for editors.
package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hallmarkdev/hallmark/formats/finding"
	"github.com/hallmarkdev/hallmark/pickle"
	"github.com/hallmarkdev/hallmark/report"
	"github.com/hallmarkdev/hallmark/scan"
)

// Caps on what a policy may make hallmark read or hold. A policy is
// configuration, not model content, but a wrong path (a disk image, a
// device) must not make Load allocate without bound.
const (
	// MaxPolicySize caps the policy document itself.
	MaxPolicySize = 4 << 20
	// MaxReferencedFile caps each file the policy names (keys, chains, trusted roots).
	MaxReferencedFile = 1 << 20
	// maxReferencedTotal caps all referenced files together.
	maxReferencedTotal = 16 << 20
	// maxSigners and maxChain cap signature.any-of and one certificate-chain.
	maxSigners = 64
	maxChain   = 16
	// maxSuppressions caps suppress.
	maxSuppressions = 10000
)

// File is the policy file's content, as written.
type File struct {
	// Schema lets JSON policies name their schema for editors; it is ignored.
	Schema string `json:"$schema,omitempty"`
	// Version must be 1.
	Version int `json:"version"`
	// FailOn is the default --fail-on threshold.
	FailOn string `json:"fail-on,omitempty"`
	// Signature is what signatures the gate requires.
	Signature *FileSignature `json:"signature,omitempty"`
	// Formats refuses formats or lists the only ones accepted.
	Formats *FileFormats `json:"formats,omitempty"`
	Pickle  struct {
		// Allow lists "module:qualname" globals to treat as safe. They never
		// override an exact deny rule.
		Allow []string `json:"allow,omitempty"`
		// Deny lists "module:qualname" or "module:*" globals to treat as dangerous.
		Deny []string `json:"deny,omitempty"`
	} `json:"pickle,omitempty"`
	// Severity maps rule ids to the severity to report them at.
	Severity map[string]string `json:"severity,omitempty"`
	// Suppress lists accepted findings, each with a reason.
	Suppress []FileSuppression `json:"suppress,omitempty"`
	// Limits caps file sizes and counts.
	Limits *FileLimits `json:"limits,omitempty"`
}

// FileSignature is the signature section as written.
type FileSignature struct {
	Required bool         `json:"required,omitempty"`
	AnyOf    []FileSigner `json:"any-of,omitempty"`
}

// FileSigner is one signature.any-of entry as written. Pointers tell an
// absent key from an empty one, so `key: ""` is an error, not "no key".
type FileSigner struct {
	Key              *string  `json:"key,omitempty"`
	CertificateChain []string `json:"certificate-chain,omitempty"`
	Identity         *string  `json:"identity,omitempty"`
	IdentityRegexp   *string  `json:"identity-regexp,omitempty"`
	Issuer           *string  `json:"issuer,omitempty"`
	IssuerRegexp     *string  `json:"issuer-regexp,omitempty"`
	TrustedRoot      *string  `json:"trusted-root,omitempty"`
}

// FileFormats is the formats section as written.
type FileFormats struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// FileSuppression is one suppress entry as written.
type FileSuppression struct {
	Rule    string `json:"rule"`
	Path    string `json:"path,omitempty"`
	Global  string `json:"global,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	Reason  string `json:"reason"`
	Expires string `json:"expires,omitempty"`
}

// FileLimits is the limits section as written. Sizes are a number of bytes
// or a string with a unit ("20GiB"), so they stay raw until validated.
type FileLimits struct {
	MaxFileSize  json.RawMessage `json:"max-file-size,omitempty"`
	MaxTotalSize json.RawMessage `json:"max-total-size,omitempty"`
	MaxFiles     json.RawMessage `json:"max-files,omitempty"`
}

// Policy is a parsed, validated policy file.
type Policy struct {
	FailOn    scan.Severity // 0 when the file does not set it
	Pickle    *pickle.Policy
	Overrides map[string]scan.Severity

	Signature Signature // zero: no requirement
	Formats   Formats
	Suppress  []Suppression
	Limits    SizeLimits
	// Digest is "sha256:<hex>" over the policy bytes and every file it
	// loaded, so a verdict cache notices a rotated key as well as an edit.
	Digest string
}

// SizeLimits caps what the gate accepts; 0 means no limit.
type SizeLimits struct {
	MaxFileSize, MaxTotalSize int64
	MaxFiles                  int
}

// Load reads and validates a policy file. Files it names are read relative
// to the policy file's directory.
func Load(path string) (*Policy, error) {
	data, err := readCapped(path, MaxPolicySize)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	p, err := ParseIn(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

// Parse validates a policy document. Relative file references are an error
// here (there is no directory to resolve them against): use Load or ParseIn.
func Parse(data []byte) (*Policy, error) {
	return ParseIn(data, "")
}

// ParseIn validates a policy document whose relative file references are
// resolved against dir ("" refuses relative references).
func ParseIn(data []byte, dir string) (*Policy, error) {
	if len(data) > MaxPolicySize {
		return nil, fmt.Errorf("larger than %d MiB", MaxPolicySize>>20)
	}
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, err
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("version: want 1, got %d", f.Version)
	}
	p := &Policy{Overrides: map[string]scan.Severity{}}
	if f.FailOn != "" {
		s, err := scan.ParseSeverity(f.FailOn)
		if err != nil {
			return nil, fmt.Errorf("fail-on: %w", err)
		}
		p.FailOn = s
	}
	var allow, deny []pickle.Global
	for _, s := range f.Pickle.Allow {
		g, err := pickle.ParseGlobal(s)
		if err != nil || g.Name == "*" {
			return nil, fmt.Errorf("pickle.allow: %q is not of the form module:qualname", s)
		}
		allow = append(allow, g)
	}
	for _, s := range f.Pickle.Deny {
		g, err := pickle.ParseGlobal(s)
		if err != nil {
			return nil, fmt.Errorf("pickle.deny: %w", err)
		}
		deny = append(deny, g)
	}
	p.Pickle = pickle.Default().Extend(allow, deny)
	for rule, sev := range f.Severity {
		if !knownRule(rule) {
			return nil, fmt.Errorf("severity: unknown rule id %q", rule)
		}
		s, err := scan.ParseSeverity(sev)
		if err != nil || s == scan.Never {
			return nil, fmt.Errorf("severity.%s: %q is not a severity", rule, sev)
		}
		p.Overrides[rule] = s
	}
	var err error
	if p.Formats, err = parseFormats(f.Formats); err != nil {
		return nil, err
	}
	if p.Suppress, err = parseSuppress(f.Suppress); err != nil {
		return nil, err
	}
	if p.Limits, err = parseLimits(f.Limits); err != nil {
		return nil, err
	}
	// Files are read last, once everything cheap has been checked.
	ld := &loader{dir: dir}
	if p.Signature, err = parseSignature(f.Signature, ld); err != nil {
		return nil, err
	}
	p.Digest = digest(data, ld.loaded)
	return p, nil
}

func knownRule(id string) bool {
	for _, r := range report.Rules {
		if r.ID == id {
			return true
		}
	}
	return false
}

// Suppression accepts the findings of one rule, optionally only under a
// path, for a stated reason, optionally until a time.
type Suppression struct {
	Rule, Path, Reason string
	// Global, if set, binds the suppression to the pickle global the
	// finding names ("mylib.models.Linear"); SHA256 to the file's content
	// (hex): what was reviewed, not whatever later takes its place.
	Global, SHA256 string
	Expires        time.Time // zero: never
	Source         string    // "suppress[2]", for messages
}

// Matches reports whether the suppression covers a finding of rule in the
// file at relPath (slash-separated, relative to the scanned target). It does
// not look at the expiry: the gate reports an expired suppression instead of
// silently ignoring it.
func (s Suppression) Matches(rule, relPath string) bool {
	if rule != s.Rule {
		return false
	}
	if s.Path == "" {
		return true
	}
	ok, err := path.Match(s.Path, relPath)
	return err == nil && ok
}

// MatchesFinding is Matches, plus the global and content bindings: a
// suppression with global only covers findings about that global, one
// with sha256 only the file with those bytes.
func (s Suppression) MatchesFinding(rule, relPath, global, fileSHA256 string) bool {
	if !s.Matches(rule, relPath) {
		return false
	}
	if s.Global != "" && s.Global != global {
		return false
	}
	return s.SHA256 == "" || strings.EqualFold(s.SHA256, fileSHA256)
}

// Expired reports whether the suppression's expiry has passed at now.
func (s Suppression) Expired(now time.Time) bool {
	return !s.Expires.IsZero() && now.After(s.Expires)
}

func parseSuppress(in []FileSuppression) ([]Suppression, error) {
	if len(in) > maxSuppressions {
		return nil, fmt.Errorf("suppress: more than %d entries", maxSuppressions)
	}
	var out []Suppression
	for i, e := range in {
		src := fmt.Sprintf("suppress[%d]", i)
		if e.Rule == "" {
			return nil, fmt.Errorf("%s.rule: missing", src)
		}
		if !knownRule(e.Rule) {
			return nil, fmt.Errorf("%s.rule: unknown rule id %q", src, e.Rule)
		}
		if e.Path != "" {
			if _, err := path.Match(e.Path, ""); err != nil {
				return nil, fmt.Errorf("%s.path: %q is not a valid pattern: %w", src, e.Path, err)
			}
		}
		if strings.TrimSpace(e.Reason) == "" {
			return nil, fmt.Errorf("%s.reason: missing: say why the finding is accepted", src)
		}
		if e.SHA256 != "" && !isHex64(e.SHA256) {
			return nil, fmt.Errorf("%s.sha256: %q is not 64 hex digits (the file's SHA-256, as hallmark reports it)", src, e.SHA256)
		}
		s := Suppression{Rule: e.Rule, Path: e.Path, Global: e.Global, SHA256: strings.ToLower(e.SHA256), Reason: e.Reason, Source: src}
		if e.Expires != "" {
			t, err := parseExpiry(e.Expires)
			if err != nil {
				return nil, fmt.Errorf("%s.expires: %w", src, err)
			}
			s.Expires = t
		}
		out = append(out, s)
	}
	return out, nil
}

// parseExpiry reads a date (valid to the end of that day, UTC) or an
// RFC 3339 time.
func parseExpiry(v string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		return d.Add(24*time.Hour - time.Nanosecond), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a date (YYYY-MM-DD) nor an RFC 3339 time", v)
}

func parseLimits(in *FileLimits) (SizeLimits, error) {
	var l SizeLimits
	if in == nil {
		return l, nil
	}
	var err error
	if l.MaxFileSize, err = sizeValue(in.MaxFileSize); err != nil {
		return l, fmt.Errorf("limits.max-file-size: %w", err)
	}
	if l.MaxTotalSize, err = sizeValue(in.MaxTotalSize); err != nil {
		return l, fmt.Errorf("limits.max-total-size: %w", err)
	}
	n, err := countValue(in.MaxFiles)
	if err != nil {
		return l, fmt.Errorf("limits.max-files: %w", err)
	}
	if n > int64(int(^uint(0)>>1)) {
		return l, fmt.Errorf("limits.max-files: %d is too large", n)
	}
	l.MaxFiles = int(n)
	return l, nil
}

// sizeValue reads a size written as a number of bytes or a string with a
// unit. Absent (or null) is 0, no limit; an explicit 0 is refused because it
// reads as "nothing" but would mean "anything".
func sizeValue(raw json.RawMessage) (int64, error) {
	if isNull(raw) {
		return 0, nil
	}
	var n int64
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
		v, err := ParseSize(s)
		if err != nil {
			return 0, err
		}
		n = v
	} else {
		v, err := integer(raw)
		if err != nil {
			return 0, err
		}
		n = v
	}
	if n < 1 {
		return 0, fmt.Errorf("must be at least 1 byte (omit the key for no limit)")
	}
	return n, nil
}

func countValue(raw json.RawMessage) (int64, error) {
	if isNull(raw) {
		return 0, nil
	}
	n, err := integer(raw)
	if err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, fmt.Errorf("must be at least 1 (omit the key for no limit)")
	}
	return n, nil
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// integer reads a JSON number that must be a whole number. YAML turns
// "1e9" into 1000000000 on its way to JSON, but a JSON document may write it
// with an exponent, so integral floats within float64's exact range pass.
func integer(raw json.RawMessage) (int64, error) {
	s := strings.TrimSpace(string(raw))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int64(f)) || f > 1<<53 || f < -(1<<53) {
		return 0, fmt.Errorf("%s is not a whole number", oneLine(s))
	}
	return int64(f), nil
}

var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
}

// sizeRE is the grammar the schema's pattern also states: digits, an
// optional single space, an optional unit (case as written: "mb" could be
// megabits).
var sizeRE = regexp.MustCompile(`^([0-9]+) ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$`)

// ParseSize reads a size: a whole number of bytes, or a whole number with
// a unit (B, KB, MB, GB, TB in powers of 1000; KiB, MiB, GiB, TiB in powers
// of 1024), optionally separated by one space: "20GiB", "512 MB", "1024".
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%s is not a size (a whole number with an optional unit: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)", quoteShort(s))
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s is too large", quoteShort(s))
	}
	unit := sizeUnits[m[2]]
	if n > (1<<63-1)/unit {
		return 0, fmt.Errorf("%s is too large", quoteShort(s))
	}
	return n * unit, nil
}

// quoteShort quotes a value for an error message, cut to a readable length.
func quoteShort(s string) string {
	return strconv.Quote(finding.Shorten(s, 64))
}

// digest names the policy and what it loaded. It hashes a list of
// "name sha256:<hex>" lines rather than the bytes run together, so moving
// bytes between the policy and a file cannot give the same digest.
func digest(policy []byte, loaded []loadedFile) string {
	var b strings.Builder
	b.WriteString("hallmark-policy-digest/1\n")
	sum := sha256.Sum256(policy)
	fmt.Fprintf(&b, "policy sha256:%s\n", hex.EncodeToString(sum[:]))
	for _, l := range loaded {
		sum := sha256.Sum256(l.data)
		fmt.Fprintf(&b, "%s sha256:%s\n", l.key, hex.EncodeToString(sum[:]))
	}
	sum = sha256.Sum256([]byte(b.String()))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// readCapped reads a regular file of at most limit bytes. Stat first: a
// FIFO or a device would block or never end.
func readCapped(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: larger than %s", path, humanLimit(limit))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have grown since Stat: read one byte past the cap to tell.
	buf, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(buf)) > limit {
		return nil, fmt.Errorf("%s: larger than %s", path, humanLimit(limit))
	}
	return buf, nil
}

func humanLimit(n int64) string {
	return fmt.Sprintf("%d MiB", n>>20)
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
