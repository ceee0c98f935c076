// Package cli is hallmark's command line: one file per command, each
// turning flags into one library call.
package cli

import (
	"context"
	"io"

	"github.com/spf13/cobra"
)

// Main runs hallmark with args and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	ran := false
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		// Cobra checks required flags only after this hook: do it here so
		// that a missing flag is a usage error too.
		if err := cmd.ValidateRequiredFlags(); err != nil {
			return &usageError{err}
		}
		ran = true
		return nil
	}
	err := root.ExecuteContext(ctx)
	return exitCode(err, ran, stderr)
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "hallmark",
		Short: "Check a machine-learning model before anyone loads it",
		Long: `hallmark reads every file of a model statically (it never imports, unpickles
or runs anything) and reports what loading it would do.

Exit codes: 0 done, nothing at or above --fail-on; 1 policy failed (a finding at
or above --fail-on); 2 usage error; 3 could not complete.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(newScan(), newVerify(), newSign(), newBOM(), newCheck(), newServe(), newVersion())
	return root
}
