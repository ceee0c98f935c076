// Package report writes an audit.Result as text, JSON or SARIF 2.1.0.
package report

import (
	"fmt"
	"io"

	"github.com/hallmarkdev/hallmark/audit"
)

// Formats lists the output formats, for flag help and validation.
func Formats() []string { return []string{"text", "json", "sarif"} }

// Options tune the writers.
type Options struct {
	Color bool // ANSI colour in text output (terminals only)
}

// Write writes res in format to w.
func Write(w io.Writer, format string, res *audit.Result, opt Options) error {
	switch format {
	case "text":
		return writeText(w, res, opt)
	case "json":
		return writeJSON(w, res)
	case "sarif":
		return writeSARIF(w, res)
	}
	return fmt.Errorf("unknown format %q (want text, json or sarif)", format)
}
