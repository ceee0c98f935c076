package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hallmarkdev/hallmark/source"
)

// Exit codes: the one place they are defined (README "Exit codes").
const (
	ExitOK         = 0 // done; nothing at or above the threshold
	ExitPolicy     = 1 // a finding at or above --fail-on (a finding always beats an error)
	ExitUsage      = 2 // bad flags or arguments
	ExitIncomplete = 3 // could not complete: I/O, unreadable target, limits of the machine
)

// usageError marks errors in how hallmark was called.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// policyFailed is returned by a command whose result failed the policy;
// the result itself was already written.
var errPolicyFailed = errors.New("policy failed")

// errIncompleteReported is returned by a command that could not complete
// and has already said why on stderr.
var errIncompleteReported = errors.New("could not complete")

// incompleteError says the run could not complete.
type incompleteError struct{ err error }

func (e *incompleteError) Error() string { return e.err.Error() }
func (e *incompleteError) Unwrap() error { return e.err }

// exitCode maps a command's error to the process exit code and prints it.
// ran says whether a command's RunE started: an error before that (unknown
// command or flag, wrong number of arguments) is a usage error.
func exitCode(err error, ran bool, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, errPolicyFailed) {
		return ExitPolicy
	}
	if errors.Is(err, errIncompleteReported) {
		return ExitIncomplete
	}
	msg := strings.TrimSpace(err.Error())
	var ue *usageError
	var sue *source.UsageError
	if !ran || errors.As(err, &ue) || errors.As(err, &sue) {
		fmt.Fprintf(stderr, "hallmark: %s\nhallmark: hint: see 'hallmark --help'\n", msg)
		return ExitUsage
	}
	fmt.Fprintf(stderr, "hallmark: %s\n", msg)
	return ExitIncomplete
}
