package manifest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// In-toto and OMS identifiers.
const (
	// PayloadType is the DSSE payloadType of an OMS signature.
	PayloadType = "application/vnd.in-toto+json"
	// StatementType is the in-toto Statement v1 _type.
	StatementType = "https://in-toto.io/Statement/v1"
	// PredicateType is the OMS predicate (model_signing v0.3 and later).
	PredicateType = "https://model_signing/signature/v1.0"
	// PredicateTypeCompat is model_signing v0.2's predicate: one subject
	// per file, digests sha256, no serialization block and no root digest.
	PredicateTypeCompat = "https://model_signing/Digests/v0.1"
)

// The JSON written by Statement, in model_signing's key order (Python dict
// order; the signed vectors come out of a protobuf Struct in any order).
type stmtOut struct {
	Type          string       `json:"_type"`
	Subject       []subjectOut `json:"subject"`
	PredicateType string       `json:"predicateType"`
	Predicate     predOut      `json:"predicate"`
}

type subjectOut struct {
	Name   string `json:"name"`
	Digest struct {
		SHA256 string `json:"sha256"`
	} `json:"digest"`
}

type predOut struct {
	Serialization serOut     `json:"serialization"`
	Resources     []Resource `json:"resources"`
}

type serOut struct {
	Method        string   `json:"method"`
	HashType      string   `json:"hash_type"`
	ShardSize     int64    `json:"shard_size,omitempty"`
	AllowSymlinks bool     `json:"allow_symlinks"`
	IgnorePaths   []string `json:"ignore_paths,omitempty"`
}

// Statement is the in-toto Statement v1 payload model_signing v1.1 signs
// for m: one subject (subjectName, informational; see [SubjectName]) whose
// sha256 is the root digest of m.Resources in their order, and the OMS
// predicate: serialization {method, hash_type, shard_size (shards only),
// allow_symlinks, ignore_paths (m.Ignored, sorted; omitted when empty)} and
// resources [{name, algorithm, digest}].
//
// JSON is indented by two spaces like model_signing's. One deliberate
// difference: shard_size is written as an integer, where model_signing
// writes a float (1000000000.0) because its predicate passes through a
// protobuf Struct. model_signing reads either; an integer is what the OMS
// specification asks for and what keeps model_signing's own verifier from
// deriving an algorithm name ending in ".0".
func Statement(m *Manifest, subjectName string) ([]byte, error) {
	if m == nil {
		return nil, errors.New("statement: no manifest")
	}
	o := m.Options
	switch o.Method {
	case MethodFiles, MethodShards:
	default:
		return nil, fmt.Errorf("statement: unknown serialization method %q", o.Method)
	}
	switch o.Hash {
	case HashSHA256, HashBLAKE2b, HashBLAKE3:
	default:
		return nil, fmt.Errorf("statement: unknown hash %q", o.Hash)
	}
	for _, r := range m.Resources {
		if err := ValidResourceName(o.Method, r.Name); err != nil {
			return nil, fmt.Errorf("statement: %w", err)
		}
	}
	if err := CheckUnique(m.Resources); err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	root, err := RootDigest(m.Resources)
	if err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	if !utf8.ValidString(subjectName) {
		return nil, fmt.Errorf("statement: subject name %q is not valid UTF-8", subjectName)
	}
	s := stmtOut{Type: StatementType, PredicateType: PredicateType}
	sub := subjectOut{Name: subjectName}
	sub.Digest.SHA256 = hex.EncodeToString(root)
	s.Subject = []subjectOut{sub}
	s.Predicate.Serialization = serOut{
		Method:        o.Method,
		HashType:      o.Hash,
		AllowSymlinks: o.AllowSymlinks,
		IgnorePaths:   sortedUnique(m.Ignored),
	}
	if o.Method == MethodShards {
		s.Predicate.Serialization.ShardSize = o.ShardSize
		if o.ShardSize == 0 {
			s.Predicate.Serialization.ShardSize = DefaultShardSize
		}
	}
	s.Predicate.Resources = m.Resources
	if s.Predicate.Resources == nil {
		s.Predicate.Resources = []Resource{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func sortedUnique(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := append([]string(nil), ss...)
	sort.Strings(out)
	j := 0
	for i, s := range out {
		if i == 0 || s != out[j-1] {
			out[j] = s
			j++
		}
	}
	return out[:j]
}

// SubjectName is the subject name model_signing gives a model at path p:
// its last component, or the resolved directory's name for "." and "..".
func SubjectName(p string) string {
	base := filepath.Base(filepath.Clean(p))
	if base == "." || base == ".." || base == string(filepath.Separator) {
		if abs, err := filepath.Abs(p); err == nil {
			if real, err := filepath.EvalSymlinks(abs); err == nil {
				abs = real
			}
			base = filepath.Base(abs)
		}
		if base == string(filepath.Separator) {
			base = ""
		}
	}
	return base
}

// ParsedStatement is what [ParseStatement] reads from an OMS payload.
type ParsedStatement struct {
	PredicateType string // PredicateType or PredicateTypeCompat
	SubjectName   string // informational; "" for the v0.2 form
	// RootDigest is the subject's sha256 (32 bytes), already checked
	// against Resources; nil for the v0.2 form, which has none.
	RootDigest []byte
	// Options is predicate.serialization: Method, Hash, ShardSize (shards),
	// AllowSymlinks and IgnorePaths (as signed; model_signing adds them to
	// the verifier's ignores). The v0.2 form reads as files/sha256.
	// IgnoreGitPaths is not recorded in a signature: model_signing
	// verifies with it on unless told otherwise.
	Options Options
	// Resources in payload order, digests lower-case. For the v0.2 form:
	// one files/sha256 resource per subject.
	Resources []Resource
}

// ParseStatement parses and checks an OMS in-toto statement (a DSSE
// payload). It is strict where a lax reading could change what is
// verified: the payload must be one JSON object in valid UTF-8, keys are
// matched exactly, _type must be the in-toto Statement v1, predicateType
// the OMS v1.0 predicate or the v0.2 compat form; there must be exactly one
// subject (v1.0) with a sha256 root digest equal to the root digest of the
// resources; method, hash_type and shard_size (an integral number, float
// spelling accepted) must be known and sane; every resource name must be a
// valid name of the method and appear once; digests must be hex. Unknown
// extra fields are ignored, as the OMS predicate asks.
func ParseStatement(payload []byte) (*ParsedStatement, error) {
	if !utf8.Valid(payload) {
		return nil, errors.New("statement: payload is not valid UTF-8")
	}
	top, err := object(payload, "statement")
	if err != nil {
		return nil, err
	}
	typ, err := str(top, "_type", "statement")
	if err != nil {
		return nil, err
	}
	if typ != StatementType {
		return nil, fmt.Errorf("statement: _type is %q, want %q", clip(typ), StatementType)
	}
	pt, err := str(top, "predicateType", "statement")
	if err != nil {
		return nil, err
	}
	rawSubjects, ok := top["subject"]
	if !ok {
		return nil, errors.New("statement: no subject")
	}
	var subjects []json.RawMessage
	if err := json.Unmarshal(rawSubjects, &subjects); err != nil || subjects == nil {
		return nil, errors.New("statement: subject is not a list")
	}
	switch pt {
	case PredicateType:
		return parseV1(top, subjects)
	case PredicateTypeCompat:
		return parseCompat(subjects)
	}
	return nil, fmt.Errorf("statement: predicateType is %q, want %q", clip(pt), PredicateType)
}

func parseV1(top map[string]json.RawMessage, subjects []json.RawMessage) (*ParsedStatement, error) {
	if len(subjects) != 1 {
		return nil, fmt.Errorf("statement: %d subjects, want exactly 1", len(subjects))
	}
	ps := &ParsedStatement{PredicateType: PredicateType}
	sub, err := object(subjects[0], "subject")
	if err != nil {
		return nil, err
	}
	if ps.SubjectName, err = str(sub, "name", "subject"); err != nil {
		return nil, err
	}
	rootHex, err := subjectSHA256(sub)
	if err != nil {
		return nil, err
	}
	if len(rootHex) != 64 {
		return nil, fmt.Errorf("subject: sha256 digest %q is not 64 hex digits", clip(rootHex))
	}
	if ps.RootDigest, err = hex.DecodeString(rootHex); err != nil {
		return nil, fmt.Errorf("subject: sha256 digest %q is not hex", clip(rootHex))
	}

	rawPred, ok := top["predicate"]
	if !ok {
		return nil, errors.New("statement: no predicate")
	}
	pred, err := object(rawPred, "predicate")
	if err != nil {
		return nil, err
	}
	rawSer, ok := pred["serialization"]
	if !ok {
		return nil, errors.New("predicate: no serialization")
	}
	ser, err := object(rawSer, "serialization")
	if err != nil {
		return nil, err
	}
	if ps.Options, err = parseSerialization(ser); err != nil {
		return nil, err
	}

	rawRes, ok := pred["resources"]
	if !ok {
		return nil, errors.New("predicate: no resources")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(rawRes, &items); err != nil || items == nil {
		return nil, errors.New("predicate: resources is not a list")
	}
	ps.Resources = make([]Resource, 0, len(items))
	seen := make(map[string]bool, len(items))
	for i, raw := range items {
		what := "resource " + strconv.Itoa(i)
		o, err := object(raw, what)
		if err != nil {
			return nil, err
		}
		var r Resource
		if r.Name, err = str(o, "name", what); err != nil {
			return nil, err
		}
		if err := ValidResourceName(ps.Options.Method, r.Name); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("resource %q is listed more than once", r.Name)
		}
		seen[r.Name] = true
		if r.Algorithm, err = str(o, "algorithm", what); err != nil {
			return nil, err
		}
		d, err := str(o, "digest", what)
		if err != nil {
			return nil, err
		}
		if r.Digest, err = lowerHex(d); err != nil {
			return nil, fmt.Errorf("resource %q: %w", r.Name, err)
		}
		ps.Resources = append(ps.Resources, r)
	}
	got, err := RootDigest(ps.Resources)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(got, ps.RootDigest) {
		return nil, fmt.Errorf("statement: inconsistent: the subject digest is sha256:%x but the resources hash to sha256:%x", ps.RootDigest, got)
	}
	return ps, nil
}

func parseSerialization(ser map[string]json.RawMessage) (Options, error) {
	var o Options
	var err error
	if o.Method, err = str(ser, "method", "serialization"); err != nil {
		return o, err
	}
	switch o.Method {
	case MethodFiles, MethodShards:
	default:
		return o, fmt.Errorf("serialization: unknown method %q", clip(o.Method))
	}
	if o.Hash, err = str(ser, "hash_type", "serialization"); err != nil {
		return o, err
	}
	switch o.Hash {
	case HashSHA256, HashBLAKE2b, HashBLAKE3:
	default:
		return o, fmt.Errorf("serialization: unsupported hash_type %q", clip(o.Hash))
	}
	if raw, ok := ser["allow_symlinks"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &o.AllowSymlinks); err != nil {
			return o, errors.New("serialization: allow_symlinks is not a boolean")
		}
	}
	if o.Method == MethodShards {
		raw, ok := ser["shard_size"]
		if !ok {
			return o, errors.New("serialization: shards without shard_size")
		}
		if o.ShardSize, err = parseShardSize(raw); err != nil {
			return o, err
		}
	}
	if raw, ok := ser["ignore_paths"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &o.IgnorePaths); err != nil {
			return o, errors.New("serialization: ignore_paths is not a list of strings")
		}
		for _, p := range o.IgnorePaths {
			if _, _, err := cleanIgnore(p); err != nil {
				return o, fmt.Errorf("serialization: %w", err)
			}
		}
	}
	return o, nil
}

// parseShardSize reads a positive integral JSON number. model_signing
// writes 1000000000.0, so an integral float spelling is accepted.
func parseShardSize(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, errors.New("serialization: shard_size is not a number")
	}
	var num json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&num); err != nil {
		return 0, errors.New("serialization: shard_size is not a number")
	}
	s := num.String()
	var v int64
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != math.Trunc(f) || f < 1 || f > 1<<53 {
			return 0, fmt.Errorf("serialization: shard_size %s is not a positive integer", clip(s))
		}
		v = int64(f)
	} else {
		var err error
		if v, err = strconv.ParseInt(s, 10, 64); err != nil || v < 1 {
			return 0, fmt.Errorf("serialization: shard_size %s is not a positive integer", clip(s))
		}
	}
	return v, nil
}

func parseCompat(subjects []json.RawMessage) (*ParsedStatement, error) {
	if len(subjects) == 0 {
		return nil, errors.New("statement: v0.2 statement without subjects")
	}
	ps := &ParsedStatement{
		PredicateType: PredicateTypeCompat,
		Options:       Options{Method: MethodFiles, Hash: HashSHA256},
		Resources:     make([]Resource, 0, len(subjects)),
	}
	seen := make(map[string]bool, len(subjects))
	for i, raw := range subjects {
		what := "subject " + strconv.Itoa(i)
		sub, err := object(raw, what)
		if err != nil {
			return nil, err
		}
		name, err := str(sub, "name", what)
		if err != nil {
			return nil, err
		}
		if err := validPath(name); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("resource %q is listed more than once", name)
		}
		seen[name] = true
		d, err := subjectSHA256(sub)
		if err != nil {
			return nil, err
		}
		if len(d) != 64 {
			return nil, fmt.Errorf("subject %q: sha256 digest %q is not 64 hex digits", name, clip(d))
		}
		if d, err = lowerHex(d); err != nil {
			return nil, fmt.Errorf("subject %q: %w", name, err)
		}
		ps.Resources = append(ps.Resources, Resource{Name: name, Algorithm: HashSHA256, Digest: d})
	}
	return ps, nil
}

func subjectSHA256(sub map[string]json.RawMessage) (string, error) {
	raw, ok := sub["digest"]
	if !ok {
		return "", errors.New("subject: no digest")
	}
	d, err := object(raw, "subject digest")
	if err != nil {
		return "", err
	}
	return str(d, "sha256", "subject digest")
}

// object decodes raw as a JSON object whose values are kept raw. Keys are
// matched exactly later (encoding/json's struct matching would fold case).
func object(raw []byte, what string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, fmt.Errorf("%s: not a JSON object", what)
	}
	return m, nil
}

func str(m map[string]json.RawMessage, key, what string) (string, error) {
	raw, ok := m[key]
	if !ok {
		return "", fmt.Errorf("%s: no %s", what, key)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || string(raw) == "null" {
		return "", fmt.Errorf("%s: %s is not a string", what, key)
	}
	return s, nil
}

// lowerHex checks a non-empty hex digest and returns it in lower case.
func lowerHex(d string) (string, error) {
	if d == "" {
		return "", errors.New("empty digest")
	}
	if _, err := hex.DecodeString(d); err != nil {
		return "", fmt.Errorf("digest %q is not hex", clip(d))
	}
	return strings.ToLower(d), nil
}

// clip shortens untrusted text quoted in an error.
func clip(s string) string {
	if len(s) <= 100 {
		return s
	}
	return s[:100] + "…"
}
