package cdxschema

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

const schemaBase = "http://cyclonedx.org/schema/"

// jsonResource is a vendored file and every URL it must answer to: the
// canonical $id and the SNAPSHOT name the npm copies' $refs were rewritten to.
type jsonResource struct {
	file string
	urls []string
}

func jsonResources(version string) []jsonResource {
	return []jsonResource{
		{"bom-" + version + ".SNAPSHOT.schema.json", []string{schemaBase + "bom-" + version + ".schema.json"}},
		{"spdx.SNAPSHOT.schema.json", []string{schemaBase + "spdx.schema.json", schemaBase + "spdx.SNAPSHOT.schema.json"}},
		{"jsf-0.82.SNAPSHOT.schema.json", []string{schemaBase + "jsf-0.82.schema.json", schemaBase + "jsf-0.82.SNAPSHOT.schema.json"}},
	}
}

type compiled struct {
	once sync.Once
	sch  *jsonschema.Schema
	err  error
}

var jsonSchemas = map[string]*compiled{"1.5": {}, "1.6": {}}

// jsonSchema compiles the schema for version once per process.
func jsonSchema(version string) (*jsonschema.Schema, error) {
	c := jsonSchemas[version]
	c.once.Do(func() { c.sch, c.err = compileJSON(version) })
	return c.sch, c.err
}

// newCompiler returns a compiler that knows only the vendored resources.
// It sets no URLLoader, so a $ref to anything unregistered fails to compile
// instead of being fetched.
func newCompiler(resources []jsonResource) (*jsonschema.Compiler, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	for _, r := range resources {
		raw, err := schemaFS.ReadFile("schema/" + r.file)
		if err != nil {
			return nil, err
		}
		for _, u := range r.urls {
			// A fresh tree per URL: the compiler may annotate what it is given.
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				return nil, fmt.Errorf("cdxschema: vendored %s: %w", r.file, err)
			}
			if err := c.AddResource(u, doc); err != nil {
				return nil, fmt.Errorf("cdxschema: register %s: %w", u, err)
			}
		}
	}
	return c, nil
}

func compileJSON(version string) (*jsonschema.Schema, error) {
	res := jsonResources(version)
	c, err := newCompiler(res)
	if err != nil {
		return nil, err
	}
	sch, err := c.Compile(res[0].urls[0])
	if err != nil {
		return nil, fmt.Errorf("cdxschema: compile CycloneDX %s JSON schema: %w", version, err)
	}
	return sch, nil
}

// ValidateJSON checks a CycloneDX JSON document against the vendored schema
// for specVersion ("1.5" or "1.6"), then checks that the document declares
// that specVersion, that every bom-ref is unique and that every reference
// (dependencies ref/dependsOn/provides, modelCard datasets ref, compositions,
// vulnerability affects, formulation refs) names a bom-ref of the document.
// A document that fails returns a *ValidationError listing the problems.
func ValidateJSON(data []byte, specVersion string) error {
	if err := checkVersion(specVersion); err != nil {
		return err
	}
	if len(data) > MaxDocumentSize {
		return fmt.Errorf("cdxschema: JSON document is %d bytes, over the %d-byte limit", len(data), MaxDocumentSize)
	}
	sch, err := jsonSchema(specVersion)
	if err != nil {
		return err
	}
	var is issues
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		is.add("at '': not JSON: %v", err)
		return is.err("JSON", specVersion)
	}
	if err := sch.Validate(inst); err != nil {
		ve, ok := err.(*jsonschema.ValidationError)
		if !ok {
			return fmt.Errorf("cdxschema: validate: %w", err)
		}
		addSchemaIssues(ve, &is)
	}
	if obj, ok := inst.(map[string]any); ok {
		if v, ok := obj["specVersion"].(string); ok && v != specVersion {
			is.add("at '/specVersion': document says %s, validated as %s", quoteValue(v), specVersion)
		}
	}
	var x refIndex
	var path []string
	walkJSON(inst, &path, &x, &is)
	x.resolve(&is)
	return is.err("JSON", specVersion)
}

// addSchemaIssues flattens the validator's error tree to its leaves: the
// inner nodes ("oneOf failed", "$ref failed") only repeat what leaves say.
// The library's cause order is not stable, so leaves are sorted before the
// cap picks which ones to keep.
func addSchemaIssues(e *jsonschema.ValidationError, is *issues) {
	var leaves []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			if len(leaves) < maxSchemaLeaves {
				leaves = append(leaves, describe(e))
			} else {
				is.dropped++
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(e)
	slices.Sort(leaves)
	for _, l := range leaves {
		is.add("%s", l)
	}
}

// maxSchemaLeaves bounds the leaves held for sorting.
const maxSchemaLeaves = 10000

// describe renders one leaf as "at '<pointer>': <message>"; long enums (the
// SPDX list has hundreds of entries) are summarised instead of printed.
func describe(e *jsonschema.ValidationError) string {
	if en, ok := e.ErrorKind.(*kind.Enum); ok && len(en.Want) > 8 {
		return fmt.Sprintf("at '%s': value %s is not one of the %d allowed values",
			pointer(e.InstanceLocation), renderValue(en.Got), len(en.Want))
	}
	return e.Error()
}

func renderValue(v any) string {
	if s, ok := v.(string); ok {
		return quoteValue(s)
	}
	return finding.Shorten(fmt.Sprint(v), 80)
}

// pointer renders an instance location as an RFC 6901 JSON pointer.
func pointer(path []string) string {
	var sb strings.Builder
	for _, p := range path {
		sb.WriteByte('/')
		sb.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(p))
	}
	return sb.String()
}

// walkJSON finds bom-ref definitions and the references to them. The keys
// are matched wherever they occur: in CycloneDX 1.5/1.6 "bom-ref" always
// defines and "ref" always references, and "dependsOn", "provides",
// "assemblies" and compositions' "dependencies" are lists of bom-refs (the
// top-level "dependencies" holds objects, so string items single it out).
func walkJSON(v any, path *[]string, x *refIndex, is *issues) {
	switch t := v.(type) {
	case map[string]any:
		// Sorted keys keep the issue list stable from run to run.
		for _, k := range slices.Sorted(maps.Keys(t)) {
			val := t[k]
			*path = append(*path, k)
			switch k {
			case "bom-ref":
				if s, ok := val.(string); ok && !x.define(s) {
					is.add("at '%s': duplicate bom-ref %s", pointer(*path), quoteValue(s))
				}
			case "ref":
				if s, ok := val.(string); ok {
					x.use(s, "at '"+pointer(*path)+"'")
				}
			case "dependsOn", "provides", "assemblies", "dependencies":
				if arr, ok := val.([]any); ok {
					for i, item := range arr {
						if s, ok := item.(string); ok {
							x.use(s, fmt.Sprintf("at '%s/%d'", pointer(*path), i))
						}
					}
				}
			}
			walkJSON(val, path, x, is)
			*path = (*path)[:len(*path)-1]
		}
	case []any:
		for i, item := range t {
			*path = append(*path, fmt.Sprint(i))
			walkJSON(item, path, x, is)
			*path = (*path)[:len(*path)-1]
		}
	}
}
