package hfrepo

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// hostAccess are the constructs of Python source that reach beyond
// computing a model: real modeling_*.py files use os.path and
// importlib.util for feature checks, which are not listed. Each pattern is
// matched per line, outside comments.
var hostAccess = []struct {
	re    *regexp.Regexp
	level finding.Level
	what  string
}{
	{regexp.MustCompile(`\bos\s*\.\s*(system|popen|exec[lv]p?e?|spawn[lv]p?e?|fork|kill|posix_spawnp?)\s*\(`), finding.High, "runs a process"},
	{regexp.MustCompile(`\b(import\s+subprocess|from\s+subprocess\s+import|subprocess\s*\.\s*\w+\s*\()`), finding.High, "runs a process"},
	{regexp.MustCompile(`\b(import\s+pty|pty\s*\.\s*spawn|commands\s*\.\s*getoutput)\b`), finding.High, "runs a process"},
	{regexp.MustCompile(`(^|[^.\w])(eval|exec)\s*\(`), finding.High, "evaluates a string as code"},
	{regexp.MustCompile(`(^|[^.\w])(__import__|compile)\s*\(`), finding.High, "compiles or imports code chosen at run time"},
	{regexp.MustCompile(`\b(import\s+socket|from\s+socket\s+import|socket\s*\.\s*socket\s*\()`), finding.High, "opens network sockets"},
	{regexp.MustCompile(`\b(urllib\.request|urllib2|http\.client|requests\s*\.\s*(get|post|put|request|Session)\s*\(|import\s+requests\b|httpx\.|urlopen\s*\()`), finding.High, "talks to the network"},
	{regexp.MustCompile(`\b(import\s+ctypes|from\s+ctypes\s+import|ctypes\s*\.\s*(CDLL|cdll|windll))\b`), finding.High, "loads native code"},
	{regexp.MustCompile(`\b(pickle|cPickle|dill|cloudpickle|marshal|shelve)\s*\.\s*loads?\s*\(`), finding.Medium, "deserializes pickles or bytecode"},
	{regexp.MustCompile(`\bbase64\s*\.\s*(b64decode|b32decode|b85decode|decodebytes)\s*\(`), finding.Low, "decodes embedded data"},
	{regexp.MustCompile(`\b(shutil\s*\.\s*rmtree|os\s*\.\s*(remove|unlink|rmdir|chmod|chown)\s*\()`), finding.Medium, "changes the file system"},
	{regexp.MustCompile(`\bos\s*\.\s*environ\s*\[[^\]]*\]\s*=[^=]|\bos\s*\.\s*(putenv|setuid|setgid)\s*\(`), finding.Medium, "changes the process environment"},
}

// AnalysePython reads one Python source file and reports host access,
// line by line. A file without any is one Info finding: code that runs
// when the loader trusts remote code.
func AnalysePython(r io.Reader, lim Limits) (finding.List, bool) {
	lim = lim.orDefault()
	var l finding.List
	l.PerRule = 32
	br := bufio.NewReader(io.LimitReader(r, lim.MaxPython+1))
	var off int64
	found := false
	inDoc := ""
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: check it in pieces; constructs
			// split across the boundary are rare in real code, and minified
			// payloads are flagged by what remains visible.
			for err == bufio.ErrBufferFull {
				found = checkLine(&l, line, off, lineNo) || found
				off += int64(len(line))
				line, err = br.ReadSlice('\n')
			}
		}
		if len(line) > 0 {
			code := string(line)
			// Skip docstring bodies: examples in them are not code.
			if inDoc != "" {
				if strings.Contains(code, inDoc) {
					inDoc = ""
				}
				code = ""
			} else if q := docStart(code); q != "" {
				inDoc = q
				code = ""
			}
			if code != "" {
				found = checkLine(&l, []byte(code), off, lineNo) || found
			}
			off += int64(len(line))
		}
		if err != nil {
			break
		}
		if off > lim.MaxPython {
			l.Addf(RuleTooLarge, finding.Medium, -1, "", "Python file larger than %d MiB: the rest was not checked", lim.MaxPython>>20)
			return l, false
		}
	}
	if !found {
		l.Add(finding.Finding{Rule: RulePython, Level: finding.Info, Offset: -1, Message: "Python source shipped with the model: it runs if a loader trusts remote code; no host access found"})
	}
	return l, true
}

// docStart returns the closing quote of a docstring that opens on this
// line and does not close on it.
func docStart(line string) string {
	t := strings.TrimSpace(line)
	for _, q := range []string{`"""`, `'''`} {
		t2 := strings.TrimLeft(t, "rRbBuU")
		if strings.HasPrefix(t2, q) && !strings.Contains(t2[3:], q) {
			return q
		}
	}
	return ""
}

func checkLine(l *finding.List, line []byte, off int64, lineNo int) bool {
	if i := bytes.IndexByte(line, '#'); i >= 0 && !bytes.ContainsAny(line[:i], `"'`) {
		line = line[:i]
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return false
	}
	hit := false
	for _, p := range hostAccess {
		loc := p.re.FindIndex(line)
		if loc == nil {
			continue
		}
		hit = true
		l.Add(finding.Finding{Rule: RuleHostAccess, Level: p.level, Offset: off + int64(loc[0]), Where: fmt.Sprintf("line %d", lineNo),
			Message:  fmt.Sprintf("Python code shipped with the model %s (line %d); it runs at load time when remote code is trusted", p.what, lineNo),
			Evidence: finding.Shorten(strings.TrimSpace(string(line)), 200)})
	}
	return hit
}
