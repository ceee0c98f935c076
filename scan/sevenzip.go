package scan

import (
	"fmt"

	"github.com/bodgit/sevenzip"
)

// sevenZip scans every member of a 7z archive by content, whatever its
// name (nullifAI shipped "PyTorch" models as 7z).
func (w *walker) sevenZip(in input) {
	ra, size, ok := w.randomAccess(in, Format7z)
	if !ok {
		return
	}
	r, err := sevenzip.NewReader(ra, size)
	if err != nil {
		w.add(in, Finding{Rule: RuleContainerMalformed, Severity: High, Offset: 0, Message: fmt.Sprintf("7z archive cannot be read: %v; its content is not known to be clean", err)})
		return
	}
	var declared int64
	for _, f := range r.File {
		declared += int64(min(f.UncompressedSize, 1<<62))
	}
	w.declaredBomb(in, declared, size)
	for _, f := range r.File {
		if w.ctx.Err() != nil {
			return
		}
		if f.FileInfo().IsDir() {
			continue
		}
		if w.members >= w.lim.MaxMembers {
			w.add(in, Finding{Rule: RuleLimit, Severity: High, Offset: -1, Message: fmt.Sprintf("more than %d archive members in this file: the rest were not scanned", w.lim.MaxMembers)})
			return
		}
		w.members++
		rc, err := f.Open()
		if err != nil {
			w.add(input{member: in.join(f.Name)}, Finding{Rule: RuleContainerMalformed, Severity: High, Offset: -1, Message: fmt.Sprintf("member cannot be read: %v", err)})
			continue
		}
		g := &guard{w: w, in: input{member: in.join(f.Name)}, r: rc, format: Format7z}
		// 7z packs members into shared folders, so there is no per-member
		// compressed size: the ratio is checked against the whole archive.
		g.src = &counter{n: size}
		w.scan(input{member: in.join(f.Name), name: f.Name, r: g, size: int64(f.UncompressedSize), depth: in.depth + 1})
		rc.Close()
	}
}
