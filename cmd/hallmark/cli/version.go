package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hallmarkdev/hallmark/internal/version"
	"github.com/hallmarkdev/hallmark/pickle"
)

func newVersion() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and rules version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := version.Get()
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(struct {
					version.Info
					Rules string `json:"rules"`
				}{v, pickle.RulesVersion})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "hallmark %s\ncommit   %s\nrules    %s\n", v.Version, v.Commit, pickle.RulesVersion)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
