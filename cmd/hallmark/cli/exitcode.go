package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
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

// incompleteError says the run could not complete.
type incompleteError struct{ err error }

func (e *incompleteError) Error() string { return e.err.Error() }
func (e *incompleteError) Unwrap() error { return e.err }

// exitCode maps a command's error to the process exit code and prints it.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, errPolicyFailed) {
		return ExitPolicy
	}
	msg := strings.TrimSpace(err.Error())
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsage(msg) {
		fmt.Fprintf(stderr, "hallmark: %s\nhallmark: hint: see 'hallmark --help'\n", msg)
		return ExitUsage
	}
	fmt.Fprintf(stderr, "hallmark: %s\n", msg)
	return ExitIncomplete
}

// isCobraUsage recognises cobra's own argument and flag errors.
func isCobraUsage(msg string) bool {
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument", "invalid argument", "requires at least", "accepts at most", "accepts ", "bad flag syntax", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
