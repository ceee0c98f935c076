package scan

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"strings"
)

// tar scans every regular member of a tar (ustar, pax, GNU) as a stream.
// Links and special files are reported and never followed: tarfile's
// extractfile follows links inside the archive, which is how a PyTorch
// legacy tar's "pickle" member can be made to read another member.
func (w *walker) tar(in input) {
	tr := tar.NewReader(in.r)
	names := map[string]bool{}
	for n := 0; ; n++ {
		if w.ctx.Err() != nil {
			return
		}
		if w.members >= w.lim.MaxMembers {
			w.add(in, Finding{Rule: RuleLimit, Severity: High, Offset: -1, Message: fmt.Sprintf("more than %d archive members in this file: the rest were not scanned", w.lim.MaxMembers)})
			return
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if err == errBomb || err == errBudget {
				return
			}
			w.add(in, Finding{Rule: RuleContainerMalformed, Severity: High, Offset: -1, Message: fmt.Sprintf("tar is malformed after %d members: %v; what follows was not scanned", n, err)})
			return
		}
		w.members++
		name := hdr.Name
		if unsafeName(name) {
			w.add(in, Finding{Rule: RuleUnsafePath, Severity: Medium, Offset: -1, Message: fmt.Sprintf("member name %q is absolute or climbs out with \"..\": extracting it writes outside the target directory", name)})
		}
		if names[name] {
			w.add(in, Finding{Rule: RuleDuplicateMember, Severity: High, Offset: -1, Message: fmt.Sprintf("two members named %q: readers disagree on which one they use; both were scanned", name)})
		} else if len(names) < 100_000 {
			names[name] = true
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
			if w.facts.Framework == "" && in.depth == 0 && (name == "pickle" || name == "storages" || name == "sys_info" || name == "tensors") {
				w.facts.Framework = "pytorch (legacy tar)"
			}
			w.scan(input{member: in.join(name), name: name, r: tr, size: hdr.Size, depth: in.depth + 1})
		case tar.TypeSymlink, tar.TypeLink:
			w.add(input{member: in.join(name)}, Finding{Rule: RuleArchiveLink, Severity: Medium, Offset: -1, Message: fmt.Sprintf("link member to %q: never followed, but extraction or tarfile.extractfile follows it", hdr.Linkname)})
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			w.add(input{member: in.join(name)}, Finding{Rule: RuleArchiveSpecial, Severity: Medium, Offset: -1, Message: "device or FIFO member: model archives have no reason to carry one"})
		}
	}
}

func unsafeName(name string) bool {
	if strings.ContainsRune(name, 0) || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "\\") || (len(name) > 1 && name[1] == ':') {
		return true
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return true
		}
	}
	return path.IsAbs(name)
}
