package verify

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/hallmarkdev/hallmark/verify/manifest"
)

// Statement and predicate types.
const (
	StatementType = manifest.StatementType // https://in-toto.io/Statement/v1
	// PredicateType is the OMS predicate (model_signing ≥ v0.3).
	PredicateType = manifest.PredicateType // https://model_signing/signature/v1.0
	// PredicateTypeV01 is the model_signing v0.2 predicate: one subject per
	// file, no serialization block, no root digest.
	PredicateTypeV01 = manifest.PredicateTypeCompat // https://model_signing/Digests/v0.1
)

// parseStatement reads the in-toto statement with manifest.ParseStatement
// (the one OMS statement parser: types, one subject, serialization, names,
// root digest) and fills the statement fields of s. On failure it names
// the cause. On top of manifest's checks the verifier refuses a statement
// that signs no resources, an empty algorithm, and digests of the wrong
// length for the hash.
func parseStatement(payload []byte, s *Signature) error {
	ps, err := manifest.ParseStatement(payload)
	if err != nil {
		return classifyStatement(payload, err)
	}
	s.PredicateType = ps.PredicateType
	s.SubjectName = ps.SubjectName
	s.RootDigest = ps.RootDigest
	s.Options = ps.Options
	s.Resources = ps.Resources
	if len(s.Resources) == 0 {
		return fail(ErrMalformedStatement, "the statement signs no resources")
	}
	size := digestSize(s.Options.Hash)
	for _, r := range s.Resources {
		if r.Algorithm == "" {
			return fail(ErrMalformedStatement, fmt.Sprintf("resource %q has no algorithm", truncate(r.Name, 100)))
		}
		if len(r.Digest) != 2*size {
			return fail(ErrMalformedStatement, fmt.Sprintf("resource %q: %s digest of %d hex digits, want %d", truncate(r.Name, 100), s.Options.Hash, len(r.Digest), 2*size))
		}
		if r.Name == "." && len(s.Resources) != 1 && s.Options.Method == manifest.MethodFiles {
			return fail(ErrMalformedStatement, `resource "." (a single-file model) next to other resources`)
		}
	}
	return nil
}

// digestSize is the digest length of each hash_type.
func digestSize(hash string) int {
	if hash == manifest.HashBLAKE2b {
		return 64
	}
	return 32 // sha256, blake3
}

// classifyStatement names why manifest.ParseStatement refused payload:
// the statement type, the predicate type, the subject count, the root
// digest, or else a malformed statement (manifest's message).
func classifyStatement(payload []byte, perr error) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil || top == nil {
		return failErr(ErrMalformedStatement, "the payload is not an in-toto statement", perr)
	}
	str := func(key string) (string, bool) {
		var v string
		raw, ok := top[key]
		if !ok || json.Unmarshal(raw, &v) != nil {
			return "", false
		}
		return v, true
	}
	typ, ok := str("_type")
	if !ok {
		return fail(ErrStatementType, "the statement has no _type")
	}
	if typ != StatementType {
		return fail(ErrStatementType, fmt.Sprintf("%q, want %q", truncate(typ, 100), StatementType))
	}
	pt, ok := str("predicateType")
	if !ok {
		return fail(ErrPredicateType, "the statement has no predicateType")
	}
	if pt != PredicateType && pt != PredicateTypeV01 {
		return fail(ErrPredicateType, fmt.Sprintf("%q, want %q", truncate(pt, 100), PredicateType))
	}
	var subjects []struct {
		Digest map[string]string `json:"digest"`
	}
	if raw, ok := top["subject"]; !ok || json.Unmarshal(raw, &subjects) != nil {
		return failErr(ErrSubject, "the statement has no list of subjects", perr)
	}
	if pt == PredicateTypeV01 {
		if len(subjects) == 0 {
			return fail(ErrSubject, "the v0.2 statement has no subjects")
		}
		return failErr(ErrMalformedStatement, "v0.2 statement", perr)
	}
	if len(subjects) != 1 {
		return fail(ErrSubject, fmt.Sprintf("the statement has %d subjects, want exactly 1", len(subjects)))
	}
	want, err := hex.DecodeString(subjects[0].Digest["sha256"])
	if err != nil || len(want) != 32 {
		return failErr(ErrSubject, "the subject has no sha256 root digest", perr)
	}
	var pred struct {
		Resources []manifest.Resource `json:"resources"`
	}
	if json.Unmarshal(top["predicate"], &pred) == nil && pred.Resources != nil {
		if got, err := manifest.RootDigest(pred.Resources); err == nil && !bytes.Equal(got, want) {
			return fail(ErrRootDigest, fmt.Sprintf("the subject says sha256:%x, the signed resources hash to sha256:%x", want, got))
		}
	}
	return failErr(ErrMalformedStatement, "", perr)
}
