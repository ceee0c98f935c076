package verify

import (
	"fmt"
	"strings"

	"github.com/hallmarkdev/hallmark/verify/manifest"
)

// compareResources compares signed and local resource lists as sets keyed
// by name (manifest.Compare; order does not matter, producers order
// differently). A single resource named "." (model_signing's single-file
// model) matches a single resource of any name: the OMS spec and the Go
// ports name it by its basename.
func compareResources(signed, local []manifest.Resource) *manifest.Diff {
	if len(signed) == 1 && len(local) == 1 && (signed[0].Name == "." || local[0].Name == ".") {
		s, l := signed[0], local[0]
		s.Name, l.Name = ".", "."
		signed, local = []manifest.Resource{s}, []manifest.Resource{l}
	}
	return manifest.Compare(signed, local)
}

// describeDiff says in one line what differs, naming at most a few paths
// of each kind.
func describeDiff(d *manifest.Diff) string {
	var parts []string
	add := func(what string, names []string) {
		if len(names) == 0 {
			return
		}
		const show = 3
		q := make([]string, 0, show)
		for i, n := range names {
			if i == show {
				break
			}
			q = append(q, fmt.Sprintf("%q", truncate(n, 200)))
		}
		s := fmt.Sprintf("%d %s (%s", len(names), what, strings.Join(q, ", "))
		if len(names) > show {
			s += ", …"
		}
		parts = append(parts, s+")")
	}
	add("changed", d.Mismatched)
	add("missing", d.Missing)
	add("unsigned", d.Extra)
	return strings.Join(parts, "; ")
}
