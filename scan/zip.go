package scan

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/keras"
	"github.com/hallmarkdev/hallmark/internal/tzip"
)

func entryNames(a *tzip.Archive) []string {
	names := make([]string, 0, min(len(a.Entries), 4096))
	for i := range a.Entries {
		if len(names) == cap(names) {
			break
		}
		names = append(names, a.Entries[i].Name)
	}
	return names
}

// zipIssueSeverity ranks what the tolerant reader found. Parser
// differentials (what one reader sees and another does not) are high.
var zipIssueSeverity = map[string]Severity{
	tzip.IssueDuplicateName:  High,
	tzip.IssueNameMismatch:   High,
	tzip.IssueFlagBits:       Medium,
	tzip.IssueCRCMismatch:    Medium,
	tzip.IssuePrefixData:     High,
	tzip.IssueTrailingData:   Medium,
	tzip.IssueOverlap:        High,
	tzip.IssueUnsafePath:     Medium,
	tzip.IssueZip64:          Medium,
	tzip.IssueLocalOnly:      High,
	tzip.IssueMethod:         Medium,
	tzip.IssueSizeMismatch:   Medium,
	tzip.IssueBomb:           High,
	tzip.IssueTooManyEntries: High,
	tzip.IssueMultipleEOCD:   High,
	tzip.IssueCentralDir:     Medium,
	tzip.IssueLocalHeader:    Medium,
	tzip.IssueTruncated:      Medium,
	tzip.IssueHeaderMismatch: Medium,
	tzip.IssueGap:            Low,
}

func (w *walker) zipLimits() tzip.Limits {
	return tzip.Limits{MaxEntries: w.lim.MaxMembers, MaxRatio: w.lim.MaxRatio, MaxTotal: w.lim.MaxInflated}
}

// zip reads an archive the way PyTorch's loader does (stored or deflated;
// encryption flag and CRC ignored for reading but reported), scans every
// member by content, and reports every irregularity of the archive.
func (w *walker) zip(in input) {
	ra, size, ok := w.randomAccess(in, FormatZip)
	if !ok {
		return
	}
	a, err := tzip.Open(ra, size, w.zipLimits())
	if err != nil {
		w.add(in, Finding{Rule: RuleContainerMalformed, Severity: High, Offset: 0, Message: fmt.Sprintf("zip cannot be read: %v; its content is not known to be clean", err)})
		return
	}
	w.zipMembers(in, a)
}

var (
	torchData    = regexp.MustCompile(`(^|/)data\.pkl$`)
	tensorMember = regexp.MustCompile(`(^|/)data/[0-9]+$`)
)

func (w *walker) zipMembers(in input, a *tzip.Archive) {
	torch, script := false, false
	for i := range a.Entries {
		n := a.Entries[i].Name
		if torchData.MatchString(n) {
			torch = true
		}
		if strings.Contains(n, "/code/") || strings.HasPrefix(n, "code/") {
			script = true
		}
	}
	isKeras := false
	if names := entryNames(a); keras.IsKeras3Archive(names) {
		isKeras = true
		w.kerasArchive(in, names)
	}
	if in.depth == 0 && torch && w.facts.Framework == "" {
		w.facts.Framework = "pytorch"
		if script {
			w.facts.Framework = "pytorch (torchscript)"
		}
	}
	for i := range a.Entries {
		if w.ctx.Err() != nil {
			return
		}
		e := &a.Entries[i]
		if strings.HasSuffix(e.Name, "/") && e.UncompressedSize == 0 {
			continue
		}
		if w.members >= w.lim.MaxMembers {
			w.add(in, Finding{Rule: RuleLimit, Severity: High, Offset: -1, Message: fmt.Sprintf("more than %d archive members in this file: the rest were not scanned", w.lim.MaxMembers)})
			break
		}
		w.members++
		m, err := a.Open(e)
		if err != nil {
			sev := Medium
			if e.Method != 0 && e.Method != 8 {
				sev = High // a member hallmark cannot read is not known to be clean
			}
			w.add(input{member: in.join(e.Name)}, Finding{Rule: RuleContainerMalformed, Severity: sev, Offset: e.HeaderOffset, Message: fmt.Sprintf("member cannot be read: %v", err)})
			continue
		}
		member := input{member: in.join(e.Name), name: e.Name, r: m, size: e.UncompressedSize, depth: in.depth + 1}
		// PyTorch reads <dir>/data/<key> members as raw tensor bytes, never
		// unpickles them: random weights that happen to decode as opcodes
		// must not raise parse errors, only what a pickle there would do.
		member.tensor = torch && tensorMember.MatchString(e.Name)
		if e.Method == 0 {
			member.ra = a.Raw(e)
			if sr, ok := member.ra.(*io.SectionReader); ok {
				member.size = sr.Size()
			}
		}
		if isKeras && e.Name == "config.json" {
			// Keras reads config.json whatever its encoding (json.loads
			// detects UTF-16 and UTF-32): the Keras analyser gets it
			// directly rather than through content sniffing.
			data, err := io.ReadAll(io.LimitReader(m, w.lim.MaxInMemory+1))
			switch {
			case err != nil:
				w.add(member, Finding{Rule: RuleContainerMalformed, Severity: High, Offset: -1, Message: fmt.Sprintf("member cannot be read: %v", err)})
			case int64(len(data)) > w.lim.MaxInMemory:
				w.add(member, Finding{Rule: RuleLimit, Severity: High, Offset: -1, Message: fmt.Sprintf("Keras config.json larger than %d MiB: not analysed", w.lim.MaxInMemory>>20)})
			default:
				w.kerasConfig(member, data, "config.json")
				w.kerasDone[member.member] = true
				member.r, member.ra, member.size = bytes.NewReader(data), bytes.NewReader(data), int64(len(data))
			}
		}
		format := w.scan(member)
		if script && strings.HasSuffix(e.Name, ".py") && format == FormatUnknown {
			w.torchScriptCode(member, a, e)
		}
		m.Close()
	}
	// Stored members (PyTorch's tensors) cost nothing to skip; compressed
	// ones that declare far more than they take are a bomb, read or not.
	var declared, packed int64
	for i := range a.Entries {
		if e := &a.Entries[i]; e.Method != 0 {
			declared += max(e.UncompressedSize, 0)
			packed += max(e.CompressedSize, 0)
		}
	}
	w.declaredBomb(in, declared, packed)
	for _, is := range a.IssueList() {
		sev, ok := zipIssueSeverity[is.Kind]
		if !ok {
			sev = Medium
		}
		if is.Kind == tzip.IssueTrailingData && is.Offset > 0 && in.ra != nil && in.size > is.Offset {
			// Bytes after the end record can be a whole pickle (a loader
			// that reads the file as a pickle stream from there runs it).
			w.scan(input{member: in.join("[after the end of the archive]"), r: io.NewSectionReader(in.ra, is.Offset, in.size-is.Offset), ra: io.NewSectionReader(in.ra, is.Offset, in.size-is.Offset), size: in.size - is.Offset, base: is.Offset, depth: in.depth + 1})
		}
		at := in
		if is.Entry != "" {
			at = input{member: in.join(is.Entry)}
		}
		w.add(at, Finding{Rule: "zip/" + is.Kind, Severity: sev, Offset: is.Offset, Message: is.Message})
	}
}

// hostAccess is TorchScript source that reaches for the host: TorchScript
// compiles a restricted language, so any of this is a forged archive or an
// escape attempt.
var hostAccess = regexp.MustCompile(`\bimport\s+(os|sys|subprocess|socket|ctypes|builtins|importlib|shutil|pty)\b|\bfrom\s+(os|sys|subprocess|socket|ctypes|builtins|importlib)\s+import\b|\b(os|subprocess|ctypes|importlib|builtins|__builtins__|socket|shutil)\s*\.\s*[A-Za-z_]+|__import__|\b(eval|exec|compile|getattr|open)\s*\(`)

func (w *walker) torchScriptCode(in input, a *tzip.Archive, e *tzip.Entry) {
	m, err := a.Open(e)
	if err != nil {
		return
	}
	defer m.Close()
	src, _ := io.ReadAll(io.LimitReader(m, 4<<20))
	for _, loc := range hostAccess.FindAllIndex(src, 8) {
		line := 1 + strings.Count(string(src[:loc[0]]), "\n")
		w.add(in, Finding{Rule: RuleTorchScriptHost, Severity: High, Offset: int64(loc[0]), Message: fmt.Sprintf("TorchScript code in %s line %d reaches for the host", path.Base(e.Name), line), Evidence: strings.TrimSpace(string(src[loc[0]:loc[1]]))})
	}
}
