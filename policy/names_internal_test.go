package policy

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// The schema's format enum is the list Parse accepts.
func TestSchemaFormatEnum(t *testing.T) {
	b, err := os.ReadFile("schema/policy.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var sch struct {
		Defs struct {
			Format struct {
				Enum []string `json:"enum"`
			} `json:"format"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &sch); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(formatNames)
	for g, members := range formatGroups {
		want = append(want, g)
		for _, m := range members {
			if !slices.Contains(formatNames, m) {
				t.Errorf("group %s: member %s is not a format name", g, m)
			}
		}
	}
	got := slices.Clone(sch.Defs.Format.Enum)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("schema format enum\n got %v\nwant %v", got, want)
	}
	for f, cs := range carries {
		for _, c := range append(cs, f) {
			if !validFormat(c) {
				t.Errorf("carries: %s is not a format", c)
			}
		}
	}
}
