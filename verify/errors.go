package verify

import (
	"errors"
	"strings"

	"github.com/hallmarkdev/hallmark/verify/manifest"
)

// ErrVerification is wrapped by every error that means "this signature does
// not verify" (the CLI's exit code 1): a malformed or tampered bundle, the
// wrong key, an untrusted chain, a signer that does not match the policy, or
// signed resources that differ from the model. Errors that do not wrap it
// are configuration errors (an unreadable key file, a bad regexp, a broken
// trusted root) found by NewVerifier, NewKeySigner and friends.
var ErrVerification = errors.New("signature verification failed")

// The causes. Every *Error carries exactly one of them as its Kind, and
// errors.Is(err, ErrWrongKey) etc. work through wrapping.
var (
	// The bundle itself.
	ErrMalformedBundle = errors.New("malformed bundle")
	ErrMediaType       = errors.New("unsupported bundle media type")
	ErrPayloadType     = errors.New("bad DSSE payload type")

	// The in-toto statement inside the envelope.
	ErrMalformedStatement = errors.New("malformed statement")
	ErrStatementType      = errors.New("bad statement type")
	ErrPredicateType      = errors.New("bad predicate type")
	ErrSubject            = errors.New("bad statement subject")
	ErrRootDigest         = errors.New("root digest mismatch")

	// Which verification method the bundle was made for.
	ErrWrongMethod = errors.New("wrong verification method")

	// Key method.
	ErrWrongKey = errors.New("wrong key")

	// Certificate methods (certificate chain and keyless).
	ErrUntrustedChain      = errors.New("untrusted certificate chain")
	ErrKeyUsage            = errors.New("certificate not usable for signing")
	ErrCertificateValidity = errors.New("certificate not valid at signing time")
	ErrWrongIdentity       = errors.New("wrong signer identity")
	ErrWrongIssuer         = errors.New("wrong identity issuer")

	// Keyless: transparency log and timestamps.
	ErrNoTlogEntry  = errors.New("no verified transparency-log entry")
	ErrTlogMismatch = errors.New("transparency-log entry does not match the bundle")
	ErrNoTimestamp  = errors.New("no verified timestamp")

	// Every method.
	ErrBadSignature = errors.New("bad signature")

	// The signed resources against the model on disk.
	ErrResourceMismatch = errors.New("model does not match the signed manifest")
)

// Error is a verification failure: one cause (Kind), a one-line detail, and
// the underlying error when there is one.
type Error struct {
	Kind   error          // one of the Err* causes above
	Detail string         // one line, says what differs
	Err    error          // underlying error (x509, sigstore-go, json), may be nil
	Diff   *manifest.Diff // for ErrResourceMismatch: what differs
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(ErrVerification.Error())
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return oneLine(b.String())
}

// Unwrap lets errors.Is find ErrVerification, the Kind and the cause.
func (e *Error) Unwrap() []error {
	out := []error{ErrVerification, e.Kind}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

func fail(kind error, detail string) *Error { return &Error{Kind: kind, Detail: detail} }

func failErr(kind error, detail string, err error) *Error {
	return &Error{Kind: kind, Detail: detail, Err: err}
}

// oneLine folds newlines and tabs (errors.Join, x509 messages) into spaces.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// truncate shortens attacker-controlled strings quoted in messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
