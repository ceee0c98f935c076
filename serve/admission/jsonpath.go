package admission

import (
	"fmt"
	"strconv"
	"strings"
)

// Caps on configured paths: they come from the operator, but a path is
// walked for every admission request.
const (
	maxPathLen   = 512
	maxPathSteps = 32
	maxPathIndex = 1 << 20
)

// step is one JSONPath step: a member name, an array index, or [*].
type step struct {
	name  string
	index int  // -1 unless an index step
	all   bool // [*]
}

// parsePath parses the JSONPath subset Extra rules use: "$" followed by
// ".name", "['name']" (or ["name"]), "[N]" and "[*]". Names after a dot
// are letters, digits, "_" and "-"; a quoted name is anything but its
// quote and a backslash. Filters, recursion, slices and ".*" are refused:
// a path that silently matched nothing would let a model through.
func parsePath(p string) ([]step, error) {
	if len(p) > maxPathLen {
		return nil, fmt.Errorf("longer than %d bytes", maxPathLen)
	}
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("must start with $")
	}
	var steps []step
	i := 1
	for i < len(p) {
		if len(steps) == maxPathSteps {
			return nil, fmt.Errorf("more than %d steps", maxPathSteps)
		}
		switch p[i] {
		case '.':
			j := i + 1
			for j < len(p) && isNameByte(p[j]) {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("at byte %d: want a name after '.' (use ['…'] for other characters; .*, .. are not supported)", i)
			}
			steps = append(steps, step{name: p[i+1 : j], index: -1})
			i = j
		case '[':
			rest := p[i+1:]
			switch {
			case strings.HasPrefix(rest, "*]"):
				steps = append(steps, step{all: true, index: -1})
				i += 3
			case strings.HasPrefix(rest, "'"), strings.HasPrefix(rest, `"`):
				q := rest[0]
				end := strings.IndexByte(rest[1:], q)
				if end < 0 || !strings.HasPrefix(rest[1+end+1:], "]") {
					return nil, fmt.Errorf("at byte %d: unterminated quoted name", i)
				}
				name := rest[1 : 1+end]
				if name == "" || strings.ContainsRune(name, '\\') {
					return nil, fmt.Errorf("at byte %d: a quoted name is non-empty and has no backslash", i)
				}
				steps = append(steps, step{name: name, index: -1})
				i += 1 + 1 + end + 1 + 1
			default:
				end := strings.IndexByte(rest, ']')
				if end <= 0 {
					return nil, fmt.Errorf("at byte %d: want [N], [*] or ['name']", i)
				}
				n, err := strconv.Atoi(rest[:end])
				if err != nil || n < 0 || n > maxPathIndex || strings.Trim(rest[:end], "0123456789") != "" {
					return nil, fmt.Errorf("at byte %d: %q is not an array index (filters and slices are not supported)", i, rest[:end])
				}
				steps = append(steps, step{index: n})
				i += 1 + end + 1
			}
		default:
			return nil, fmt.Errorf("at byte %d: unexpected %q", i, p[i])
		}
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("names no field")
	}
	return steps, nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// fieldPath appends a member name to a Kubernetes-style field path
// ("spec.volumes[2].image.reference", "metadata.annotations[a.b/c]").
func fieldPath(base, name string) string {
	plain := name != ""
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i]) {
			plain = false
			break
		}
	}
	switch {
	case !plain:
		return base + "[" + name + "]"
	case base == "":
		return name
	default:
		return base + "." + name
	}
}

func indexPath(base string, i int) string { return base + "[" + strconv.Itoa(i) + "]" }
