package report

import (
	"encoding/json"
	"io"

	"github.com/hallmarkdev/hallmark/audit"
)

// SchemaVersion is the version of the JSON report's schema
// (report/schema/report.schema.json). Adding fields keeps it; renaming or
// removing one bumps it.
const SchemaVersion = "1"

type jsonReport struct {
	Schema        string `json:"$schema"`
	SchemaVersion string `json:"schema_version"`
	*audit.Result
}

func writeJSON(w io.Writer, res *audit.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(jsonReport{Schema: "https://github.com/hallmarkdev/hallmark/report/schema/report.schema.json", SchemaVersion: SchemaVersion, Result: res})
}
