package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/spf13/cobra"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/internal/cdxschema"
	"github.com/hallmarkdev/hallmark/sbom"
	"github.com/hallmarkdev/hallmark/scan"
)

// bomOptions are the flags of `hallmark bom`.
type bomOptions struct {
	Format       string
	SpecVersion  string
	Output       string
	SerialNumber string
	Jobs         int
	Quiet        bool
	Insecure     bool
}

func (o *bomOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Format, "format", sbom.FormatJSON, "output format: "+strings.Join(sbom.Formats(), ", "))
	f.StringVar(&o.SpecVersion, "spec-version", sbom.Spec16, "CycloneDX spec version: 1.6 or 1.5")
	f.StringVarP(&o.Output, "output", "o", "", "write the BOM to FILE instead of stdout")
	f.StringVar(&o.SerialNumber, "serial-number", "", "the BOM serial number (urn:uuid:…); default: random, or derived from the content when SOURCE_DATE_EPOCH is set")
	f.IntVar(&o.Jobs, "jobs", 0, "files read at once (default: number of CPUs)")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress on stderr")
	f.BoolVar(&o.Insecure, "insecure", false, "oci:// targets: allow plain HTTP and unverified TLS to registries that are not on a loopback address (dangerous)")
	cmd.MarkFlagFilename("output")
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH (reproducible-builds.org): the
// BOM's timestamp, so that two runs over the same bytes give one BOM.
func sourceDateEpoch() (time.Time, error) {
	v, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok || v == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 253402300799 {
		return time.Time{}, usagef("SOURCE_DATE_EPOCH=%q: want seconds since 1970 (a non-negative integer)", v)
	}
	return time.Unix(n, 0).UTC(), nil
}

func newBOM() *cobra.Command {
	o := &bomOptions{}
	cmd := &cobra.Command{
		Use:   "bom [flags] TARGET",
		Short: "Write a CycloneDX ML-BOM of a model (disk or OCI)",
		Long: `Bom reads every byte of TARGET once (a file, a folder, an oci:// artifact or an
oci-layout:// image layout), scanning it as 'hallmark scan' does, and writes a
CycloneDX 1.6 (or 1.5) ML-BOM: the model as a machine-learning-model component
with every file nested in it (SHA-256), its model card (task, architecture,
datasets, evaluation results), base models, licences, format facts (parameters,
dtypes, quantization, context length, chat-template SHA-256) and the scan
verdict as hallmark: properties.

Facts come from config.json, generation_config.json, tokenizer_config.json, the
README's front matter, GGUF metadata, safetensors headers and the OCI packaging
(ModelPack, KitOps, Docker model, Ollama). A fact no input states is absent.

The BOM is written whatever the scan found (the verdict is in it); the exit
status is 3 if a file could not be read. Output is deterministic with
--serial-number or SOURCE_DATE_EPOCH.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(sbom.Formats(), o.Format) {
				return usagef("--format %q: want one of %s", o.Format, strings.Join(sbom.Formats(), ", "))
			}
			if o.SpecVersion != sbom.Spec16 && o.SpecVersion != sbom.Spec15 {
				return usagef("--spec-version %q: want 1.6 or 1.5", o.SpecVersion)
			}
			if o.Jobs < 0 {
				return usagef("--jobs must be 0 or more")
			}
			ts, err := sourceDateEpoch()
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			cfg := audit.Config{FailOn: scan.Medium, Jobs: o.Jobs}
			cfg.OCI.Insecure = o.Insecure
			warnInsecure(stderr, o.Insecure)
			cfg.Progress, cfg.OCI.Progress = progress(stderr, o.Quiet)
			res, err := audit.Run(cmd.Context(), args, cfg)
			if err != nil {
				return err
			}
			if t := res.Targets[0]; t.Error != "" {
				return &incompleteError{fmt.Errorf("%s", t.Error)}
			}
			bom, err := sbom.Build(res, sbom.Options{SpecVersion: o.SpecVersion, SerialNumber: o.SerialNumber, Timestamp: ts})
			if err != nil {
				return usagef("%v", err)
			}
			if err := writeBOM(cmd, o.Output, bom, o.Format, o.SpecVersion); err != nil {
				return &incompleteError{fmt.Errorf("writing the BOM: %w", err)}
			}
			for _, f := range res.Targets[0].Files {
				if f.Error != "" {
					fmt.Fprintf(stderr, "hallmark: %s\n", f.Error)
				}
			}
			if res.Incomplete() {
				return &incompleteError{fmt.Errorf("%d file(s) could not be read: the BOM lists them without a hash", res.Summary.Errors)}
			}
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// writeBOM writes the BOM to --output or stdout.
func writeBOM(cmd *cobra.Command, output string, bom *cdx.BOM, format, spec string) error {
	var buf bytes.Buffer
	if err := encodeValidBOM(&buf, bom, format, spec); err != nil {
		return err
	}
	if output == "" || output == "-" {
		_, err := cmd.OutOrStdout().Write(buf.Bytes())
		return err
	}
	return os.WriteFile(output, buf.Bytes(), 0o644)
}

// encodeValidBOM encodes the whole BOM first, so a failed encoding never
// leaves half a file, and checks it against the official CycloneDX schema
// (the JSON form; the XML is the same BOM): hallmark never hands out a BOM
// a validator would refuse.
func encodeValidBOM(w io.Writer, bom *cdx.BOM, format, spec string) error {
	var js bytes.Buffer
	if err := sbom.Encode(&js, bom, sbom.FormatJSON, spec); err != nil {
		return err
	}
	if err := cdxschema.ValidateJSON(js.Bytes(), spec); err != nil {
		return fmt.Errorf("the BOM does not validate (a hallmark bug: please report it): %w", err)
	}
	if format == sbom.FormatJSON {
		_, err := w.Write(js.Bytes())
		return err
	}
	return sbom.Encode(w, bom, format, spec)
}
