package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
)

// RootDigest is the OMS subject digest: SHA-256 over the raw bytes of every
// resource digest, concatenated in the given order (the payload order when
// verifying; model_signing's order when signing). It is SHA-256 whatever the
// resources' hash. A digest that is empty or not hex is an error.
func RootDigest(rs []Resource) ([]byte, error) {
	h := sha256.New()
	var buf [64]byte
	for _, r := range rs {
		if r.Digest == "" {
			return nil, fmt.Errorf("resource %q: empty digest", r.Name)
		}
		if len(r.Digest)%2 != 0 {
			return nil, fmt.Errorf("resource %q: digest is not hex (odd length)", r.Name)
		}
		var raw []byte
		if n := len(r.Digest) / 2; n <= len(buf) {
			raw = buf[:n]
		} else {
			raw = make([]byte, n)
		}
		if _, err := hex.Decode(raw, []byte(r.Digest)); err != nil {
			return nil, fmt.Errorf("resource %q: digest is not hex: %v", r.Name, err)
		}
		h.Write(raw)
	}
	return h.Sum(nil), nil
}

// CheckUnique reports the first resource name that appears more than once.
// A signature that lists a name twice is refused (model_signing would keep
// one of the entries silently).
func CheckUnique(rs []Resource) error {
	seen := make(map[string]struct{}, len(rs))
	for _, r := range rs {
		if _, dup := seen[r.Name]; dup {
			return fmt.Errorf("resource %q is listed more than once", r.Name)
		}
		seen[r.Name] = struct{}{}
	}
	return nil
}

// Compare compares a signed resource list with a locally computed one, as
// sets keyed by name: a signed name absent locally is Missing, a local name
// absent from the signature is Extra, and a name in both whose algorithm or
// digest differs is Mismatched. Each list is sorted by string for stable
// messages.
//
// Two refinements keep Compare fail-closed for callers that tolerate Extra
// (--ignore-unsigned-files):
//   - a local shard ("path:start:end") of a file that the signature has
//     shards of is Mismatched, not Extra: the file's length changed;
//   - a name that the signature lists twice with different algorithm or
//     digest is Mismatched whatever the local digest (call [CheckUnique]
//     first to refuse such signatures outright).
func Compare(signed, local []Resource) *Diff {
	d := &Diff{}
	type sig struct {
		r        Resource
		conflict bool
	}
	sm := make(map[string]*sig, len(signed))
	signedShardPaths := map[string]bool{}
	for _, r := range signed {
		if s, ok := sm[r.Name]; ok {
			if s.r != r {
				s.conflict = true
			}
			continue
		}
		sm[r.Name] = &sig{r: r}
		if p, _, _, err := ParseShardName(r.Name); err == nil {
			signedShardPaths[p] = true
		}
	}
	lm := make(map[string]Resource, len(local))
	for _, r := range local {
		if _, ok := lm[r.Name]; !ok {
			lm[r.Name] = r
		}
	}
	for name, s := range sm {
		l, ok := lm[name]
		switch {
		case !ok:
			d.Missing = append(d.Missing, name)
		case s.conflict || l.Algorithm != s.r.Algorithm || l.Digest != s.r.Digest:
			d.Mismatched = append(d.Mismatched, name)
		}
	}
	for name := range lm {
		if _, ok := sm[name]; ok {
			continue
		}
		if p, _, _, err := ParseShardName(name); err == nil && signedShardPaths[p] {
			d.Mismatched = append(d.Mismatched, name)
			continue
		}
		d.Extra = append(d.Extra, name)
	}
	sort.Strings(d.Missing)
	sort.Strings(d.Extra)
	sort.Strings(d.Mismatched)
	return d
}
