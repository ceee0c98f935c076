package manifest

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidName checks a resource name taken from a signature before it is used
// to build a path: it must be a canonical, model-relative POSIX path (no
// leading "/", no "." or ".." components, no empty components, no
// backslash, no NUL, valid UTF-8), or "." for the file of a single-file
// model.
//
// ValidName does not know the serialization method, so a name whose last two
// colon-separated fields are both decimal numbers is judged as a shard name
// ("path:start:end"): its path part must be valid as above and start < end
// must be canonical decimals. A files-mode file literally named "x:5:2" is
// therefore refused here; use [ValidResourceName] when the method is known.
func ValidName(name string) error {
	if _, _, _, ok := splitShard(name); ok {
		_, _, _, err := ParseShardName(name)
		return err
	}
	return validPath(name)
}

// ValidResourceName checks name as a resource name of the given
// serialization method: a path ([ValidName]'s rules) for MethodFiles, a
// "path:start:end" shard name ([ParseShardName]) for MethodShards.
func ValidResourceName(method, name string) error {
	switch method {
	case MethodFiles:
		return validPath(name)
	case MethodShards:
		_, _, _, err := ParseShardName(name)
		return err
	default:
		return fmt.Errorf("unknown serialization method %q", method)
	}
}

// ParseShardName splits a shard resource name "path:start:end" on its last
// two colons (file names may contain colons). start and end are canonical
// decimal byte offsets (no sign, no leading zeros) with start < end; end is
// exclusive. The path part must be a valid name (see [ValidName]).
func ParseShardName(name string) (path string, start, end int64, err error) {
	p, s, e, ok := splitShard(name)
	if !ok {
		return "", 0, 0, fmt.Errorf("shard name %q: want \"path:start:end\" with decimal offsets", name)
	}
	if start, err = parseOffset(s); err != nil {
		return "", 0, 0, fmt.Errorf("shard name %q: start: %w", name, err)
	}
	if end, err = parseOffset(e); err != nil {
		return "", 0, 0, fmt.Errorf("shard name %q: end: %w", name, err)
	}
	if start >= end {
		return "", 0, 0, fmt.Errorf("shard name %q: start %d is not below end %d", name, start, end)
	}
	if err := validPath(p); err != nil {
		return "", 0, 0, fmt.Errorf("shard name %q: %w", name, err)
	}
	return p, start, end, nil
}

// ShardName is the resource name of bytes [start, end) of the file at path.
func ShardName(path string, start, end int64) string {
	return path + ":" + strconv.FormatInt(start, 10) + ":" + strconv.FormatInt(end, 10)
}

// splitShard splits name on its last two colons when both trailing fields
// are non-empty runs of ASCII digits.
func splitShard(name string) (path, start, end string, ok bool) {
	i := strings.LastIndexByte(name, ':')
	if i < 0 {
		return "", "", "", false
	}
	j := strings.LastIndexByte(name[:i], ':')
	if j < 0 {
		return "", "", "", false
	}
	start, end = name[j+1:i], name[i+1:]
	if !allDigits(start) || !allDigits(end) {
		return "", "", "", false
	}
	return name[:j], start, end, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseOffset(s string) (int64, error) {
	if !allDigits(s) {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return v, nil
}

var errEmptyName = errors.New("empty name")

// validPath checks a model-relative POSIX path (or "." for a single-file
// model).
func validPath(p string) error {
	switch {
	case p == "":
		return errEmptyName
	case !utf8.ValidString(p):
		return fmt.Errorf("name %q is not valid UTF-8", p)
	case strings.IndexByte(p, 0) >= 0:
		return fmt.Errorf("name %q contains NUL", p)
	case strings.IndexByte(p, '\\') >= 0:
		return fmt.Errorf("name %q contains a backslash", p)
	case p == ".":
		return nil
	case p[0] == '/':
		return fmt.Errorf("name %q is absolute", p)
	}
	for rest := p; ; {
		c, tail, more := strings.Cut(rest, "/")
		switch c {
		case "":
			return fmt.Errorf("name %q has an empty component", p)
		case ".":
			return fmt.Errorf("name %q is not canonical (\".\" component)", p)
		case "..":
			return fmt.Errorf("name %q has a \"..\" component", p)
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

// comparePath orders model-relative POSIX paths as Python's PurePosixPath
// does: component by component, each compared as a string (code points;
// byte order of valid UTF-8 is the same), a path before its extensions.
// So "a/b" < "a-b" < "a.txt" (the component "a" is a prefix of "a-b").
func comparePath(a, b string) int {
	for {
		ca, ra, ma := strings.Cut(a, "/")
		cb, rb, mb := strings.Cut(b, "/")
		if c := strings.Compare(ca, cb); c != 0 {
			return c
		}
		switch {
		case !ma && !mb:
			return 0
		case !ma:
			return -1
		case !mb:
			return 1
		}
		a, b = ra, rb
	}
}

// entry is one resource before it is hashed: a file, or one shard of it.
type entry struct {
	path       string // resource path: model-relative POSIX, "." for a single-file model
	start, end int64  // shards: [start, end); files: 0, size (informative)
	shard      bool
	file       int // index in model.files
}

func (e entry) name() string {
	if e.shard {
		return ShardName(e.path, e.start, e.end)
	}
	return e.path
}

// compareEntry is model_signing's manifest order: by path (component-wise),
// then by numeric start and end.
func compareEntry(a, b entry) int {
	if c := comparePath(a.path, b.path); c != 0 {
		return c
	}
	switch {
	case a.start != b.start:
		if a.start < b.start {
			return -1
		}
		return 1
	case a.end != b.end:
		if a.end < b.end {
			return -1
		}
		return 1
	}
	return 0
}

// SortResources puts resources in model_signing's order: files by
// component-wise path, shards by (path, numeric start, numeric end). Names
// that do not parse as the method's names sort after the others, by string.
func SortResources(method string, rs []Resource) {
	key := func(r Resource) (entry, bool) {
		if method == MethodShards {
			p, s, e, err := ParseShardName(r.Name)
			return entry{path: p, start: s, end: e, shard: true}, err == nil
		}
		return entry{path: r.Name}, validPath(r.Name) == nil
	}
	sort.SliceStable(rs, func(i, j int) bool {
		a, oka := key(rs[i])
		b, okb := key(rs[j])
		switch {
		case oka && okb:
			return compareEntry(a, b) < 0
		case oka != okb:
			return oka
		}
		return rs[i].Name < rs[j].Name
	})
}
