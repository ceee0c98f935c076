package actiontest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// knownCheckFlags are the long flags of `hallmark check`: the CLI contract,
// plus the three after it that the command's --help showed while it was being
// built. Every flag the action, the example workflow, the GitLab template and
// docs/ci pass to `hallmark check` must be one of these. This list is meant to
// be compared with `hallmark check --help` once the command has settled.
var knownCheckFlags = []string{
	"--policy", "--format", "--output", "--bom", "--bom-format", "--fail-on",
	"--signature", "--key", "--certificate-chain", "--identity", "--identity-regexp",
	"--issuer", "--issuer-regexp", "--trusted-root", "--jobs", "--quiet", "--insecure",
	"--bom-spec-version", "--ignore-paths", "--ignore-unsigned-files",
}

type actionInput struct {
	Description string `json:"description"`
	Required    bool   `json:"required"`
	Default     string `json:"default"`
}

type actionOutput struct {
	Description string `json:"description"`
	Value       string `json:"value"`
}

type actionStep struct {
	ID    string            `json:"id"`
	Name  string            `json:"name"`
	If    string            `json:"if"`
	Shell string            `json:"shell"`
	Run   string            `json:"run"`
	Uses  string            `json:"uses"`
	Env   map[string]string `json:"env"`
	With  map[string]string `json:"with"`
}

type actionFile struct {
	Name        string                  `json:"name"`
	Description string                  `json:"description"`
	Inputs      map[string]actionInput  `json:"inputs"`
	Outputs     map[string]actionOutput `json:"outputs"`
	Runs        struct {
		Using string       `json:"using"`
		Steps []actionStep `json:"steps"`
	} `json:"runs"`
}

// repoRoot is the directory holding go.mod above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadYAML parses a file strictly (duplicate keys are an error) into v.
func loadYAML(t *testing.T, rel string, v any) {
	t.Helper()
	b := readRepoFile(t, rel)
	j, err := yaml.YAMLToJSONStrict(b)
	if err != nil {
		t.Fatalf("%s is not well-formed YAML: %v", rel, err)
	}
	if err := yaml.Unmarshal(j, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

func loadAction(t *testing.T) actionFile {
	t.Helper()
	var a actionFile
	loadYAML(t, "action.yml", &a)
	return a
}

func stepByID(t *testing.T, a actionFile, id string) actionStep {
	t.Helper()
	for _, s := range a.Runs.Steps {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("action.yml has no step with id %q", id)
	return actionStep{}
}

var (
	exprRe     = regexp.MustCompile(`\$\{\{(.*?)\}\}`)
	inputRefRe = regexp.MustCompile(`\binputs\.([A-Za-z_][A-Za-z0-9_-]*)|\binputs\[\s*'([^']+)'\s*\]`)
	stepRefRe  = regexp.MustCompile(`\bsteps\.([A-Za-z_][A-Za-z0-9_-]*)\.(outputs|outcome|conclusion)\b`)
	longFlagRe = regexp.MustCompile(`(?:^|[\s("'])(--[a-z][a-z0-9-]*)`)
)

func inputRefs(s string) []string {
	var refs []string
	for _, m := range inputRefRe.FindAllStringSubmatch(s, -1) {
		refs = append(refs, m[1]+m[2])
	}
	return refs
}

func TestActionIsCompositeWithBashSteps(t *testing.T) {
	a := loadAction(t)
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q, want composite", a.Runs.Using)
	}
	if a.Name == "" || a.Description == "" {
		t.Error("the action needs a name and a description")
	}
	if !strings.Contains(a.Description, "Windows") {
		t.Error("the description must say Windows runners are not supported")
	}
	if len(a.Runs.Steps) == 0 {
		t.Fatal("no steps")
	}
	for i, s := range a.Runs.Steps {
		switch {
		case s.Run != "" && s.Uses != "":
			t.Errorf("step %d (%s) has both run and uses", i, s.Name)
		case s.Run != "" && s.Shell != "bash":
			t.Errorf("step %d (%s): shell = %q, want bash", i, s.Name, s.Shell)
		case s.Run == "" && s.Uses == "":
			t.Errorf("step %d (%s) has neither run nor uses", i, s.Name)
		}
	}
}

// Inputs (and any other expression) must reach a script through env:, never
// by ${{ }} interpolation into the script text.
func TestActionScriptsHaveNoExpressions(t *testing.T) {
	a := loadAction(t)
	for i, s := range a.Runs.Steps {
		if s.Run == "" {
			continue
		}
		if refs := inputRefs(s.Run); len(refs) > 0 {
			t.Errorf("step %d (%s) names inputs %v in its script; pass them through env:", i, s.Name, refs)
		}
		if m := exprRe.FindString(s.Run); m != "" {
			t.Errorf("step %d (%s) interpolates %s into its script; pass it through env:", i, s.Name, m)
		}
		for k := range s.Env {
			if !strings.HasPrefix(k, "HALLMARK_") {
				t.Errorf("step %d (%s) sets env %s: keep to HALLMARK_* so no input can set PATH, BASH_ENV and the like", i, s.Name, k)
			}
		}
	}
}

func TestActionReferencesExist(t *testing.T) {
	a := loadAction(t)
	used := map[string]bool{}
	seenIDs := map[string]bool{}
	check := func(where, text string, ids map[string]bool) {
		for _, ref := range inputRefs(text) {
			if _, ok := a.Inputs[ref]; !ok {
				t.Errorf("%s refers to input %q, which action.yml does not declare", where, ref)
			}
			used[ref] = true
		}
		for _, m := range stepRefRe.FindAllStringSubmatch(text, -1) {
			if !ids[m[1]] {
				t.Errorf("%s refers to step %q, which is not an earlier step", where, m[1])
			}
		}
	}
	for i, s := range a.Runs.Steps {
		where := "step " + s.Name
		check(where+" if", s.If, seenIDs)
		for k, v := range s.Env {
			check(where+" env "+k, v, seenIDs)
		}
		for k, v := range s.With {
			check(where+" with "+k, v, seenIDs)
		}
		if s.ID != "" {
			if seenIDs[s.ID] {
				t.Errorf("step %d: duplicate id %q", i, s.ID)
			}
			seenIDs[s.ID] = true
		}
	}
	for name, o := range a.Outputs {
		check("output "+name, o.Value, seenIDs)
	}
	for name := range a.Inputs {
		if !used[name] {
			t.Errorf("input %q is declared but never used", name)
		}
	}
}

func TestActionInputsAndOutputs(t *testing.T) {
	a := loadAction(t)
	want := map[string]string{ // input -> default
		"policy": "", "version": "latest", "install": "release", "format": "sarif",
		"sarif-file": "hallmark.sarif", "bom-file": "", "upload-sarif": "true", "args": "",
		"key": "", "identity": "", "identity-regexp": "", "issuer": "", "issuer-regexp": "",
	}
	if in, ok := a.Inputs["target"]; !ok || !in.Required {
		t.Error("input target must exist and be required")
	}
	for name, def := range want {
		in, ok := a.Inputs[name]
		if !ok {
			t.Errorf("input %q is missing", name)
			continue
		}
		if in.Required || in.Default != def {
			t.Errorf("input %q: required=%v default=%q, want optional with default %q", name, in.Required, in.Default, def)
		}
	}
	for name, in := range a.Inputs {
		if in.Description == "" {
			t.Errorf("input %q has no description", name)
		}
	}
	for _, name := range []string{"exit-code", "sarif-file", "bom-file"} {
		o, ok := a.Outputs[name]
		if !ok {
			t.Errorf("output %q is missing", name)
			continue
		}
		if o.Value != "${{ steps.check.outputs."+name+" }}" {
			t.Errorf("output %q = %q, want the check step's output", name, o.Value)
		}
	}
}

// The SARIF upload runs even when the gate failed, and the gate's code is
// applied only after it.
func TestActionUploadsBeforeTheGate(t *testing.T) {
	a := loadAction(t)
	upload, gate := -1, -1
	for i, s := range a.Runs.Steps {
		if strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif@") {
			upload = i
			if !strings.Contains(s.If, "always()") {
				t.Errorf("the upload step must run with always(), has if: %q", s.If)
			}
			if s.With["category"] != "hallmark" {
				t.Errorf("upload category = %q, want hallmark", s.With["category"])
			}
			if s.With["sarif_file"] != "${{ steps.check.outputs.sarif-file }}" {
				t.Errorf("upload sarif_file = %q", s.With["sarif_file"])
			}
		}
		if s.Env["HALLMARK_EXIT_CODE"] == "${{ steps.check.outputs.exit-code }}" && strings.Contains(s.Run, `exit "$HALLMARK_EXIT_CODE"`) {
			gate = i
		}
	}
	check := -1
	for i, s := range a.Runs.Steps {
		if s.ID == "check" {
			check = i
		}
	}
	if check < 0 || upload < 0 || gate < 0 || !(check < upload && upload < gate) {
		t.Fatalf("want check, then upload, then gate; got steps check=%d upload=%d gate=%d", check, upload, gate)
	}
	if !strings.Contains(stepByID(t, a, "check").Run, "set +e") {
		t.Error("the check step must not stop on hallmark's exit code (set +e)")
	}
}

// checkInvocations returns each `hallmark check` command line in text, with
// backslash-continued lines joined.
func checkInvocations(text string) []string {
	var out []string
	joined := strings.ReplaceAll(text, "\\\n", " ")
	for _, line := range strings.Split(joined, "\n") {
		if strings.Contains(line, "hallmark check") {
			out = append(out, line)
		}
	}
	return out
}

func unknownFlags(text string) []string {
	var bad []string
	for _, m := range longFlagRe.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(knownCheckFlags, m[1]) {
			bad = append(bad, m[1])
		}
	}
	return bad
}

func TestCheckFlagsAreKnown(t *testing.T) {
	a := loadAction(t)
	s := stepByID(t, a, "check")
	if !strings.Contains(s.Run, "cmd=(check)") {
		t.Fatal("the check step no longer builds its command as cmd=(check ...); update this test")
	}
	flags := map[string]bool{}
	for _, m := range longFlagRe.FindAllStringSubmatch(s.Run, -1) {
		flags[m[1]] = true
	}
	if bad := unknownFlags(s.Run); len(bad) > 0 {
		t.Errorf("action.yml passes flags hallmark check does not define: %v", bad)
	}
	// Each input that maps to a flag must pass that flag.
	for _, f := range []string{"--policy", "--format", "--output", "--bom", "--key", "--identity", "--identity-regexp", "--issuer", "--issuer-regexp"} {
		if !flags[f] {
			t.Errorf("the check step never passes %s", f)
		}
	}

	var wf workflowFile
	loadYAML(t, ".github/workflows/hallmark-example.yml", &wf)
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			if bad := unknownFlags(st.With["args"]); len(bad) > 0 {
				t.Errorf("the example workflow passes unknown flags %v", bad)
			}
		}
	}

	gl := string(readRepoFile(t, "docs/ci/gitlab-ci.yml"))
	inv := checkInvocations(gl)
	if len(inv) == 0 {
		t.Error("docs/ci/gitlab-ci.yml runs no hallmark check")
	}
	for _, line := range inv {
		if bad := unknownFlags(line); len(bad) > 0 {
			t.Errorf("docs/ci/gitlab-ci.yml passes unknown flags %v in %q", bad, line)
		}
	}
	for _, doc := range []string{"docs/ci/gitlab.md", "docs/ci/github-actions.md"} {
		for _, line := range checkInvocations(string(readRepoFile(t, doc))) {
			if bad := unknownFlags(line); len(bad) > 0 {
				t.Errorf("%s shows unknown flags %v in %q", doc, bad, line)
			}
		}
	}
}

type workflowFile struct {
	On   any `json:"on"`
	True any `json:"true"` // YAML 1.1 reads a bare `on` key as true
	Jobs map[string]struct {
		Steps []actionStep `json:"steps"`
	} `json:"jobs"`
}

func TestExampleWorkflowIsDispatchOnly(t *testing.T) {
	var wf workflowFile
	loadYAML(t, ".github/workflows/hallmark-example.yml", &wf)
	on := wf.On
	if on == nil {
		on = wf.True
	}
	var triggers []string
	switch v := on.(type) {
	case string:
		triggers = []string{v}
	case []any:
		for _, x := range v {
			s, _ := x.(string)
			triggers = append(triggers, s)
		}
	case map[string]any:
		for k := range v {
			triggers = append(triggers, k)
		}
	default:
		t.Fatalf("cannot read the workflow's triggers: %#v", on)
	}
	sort.Strings(triggers)
	if !slices.Equal(triggers, []string{"workflow_dispatch"}) {
		t.Fatalf("the example workflow triggers on %v, want workflow_dispatch only", triggers)
	}
	usesAction := false
	for _, job := range wf.Jobs {
		for _, s := range job.Steps {
			if s.Run != "" && exprRe.MatchString(s.Run) {
				t.Errorf("step %q interpolates an expression into its script", s.Name)
			}
			if s.Uses == "./" {
				usesAction = true
				if s.With["target"] != "examples/sample-model" {
					t.Errorf("the example checks %q, want examples/sample-model", s.With["target"])
				}
			}
		}
	}
	if !usesAction {
		t.Error("the example workflow does not use the action (uses: ./)")
	}
}

type gitlabJob struct {
	Image     any      `json:"image"`
	Stage     string   `json:"stage"`
	Extends   any      `json:"extends"`
	Script    []string `json:"script"`
	Variables map[string]string
	Needs     []struct {
		Job       string `json:"job"`
		Artifacts bool   `json:"artifacts"`
	} `json:"needs"`
	Artifacts struct {
		When    string         `json:"when"`
		Paths   []string       `json:"paths"`
		Reports map[string]any `json:"reports"`
	} `json:"artifacts"`
}

func TestGitLabTemplate(t *testing.T) {
	var doc map[string]any
	loadYAML(t, "docs/ci/gitlab-ci.yml", &doc)
	var jobs map[string]gitlabJob
	loadYAML(t, "docs/ci/gitlab-ci.yml", &jobs) // top-level variables decode as an empty job
	check, ok := jobs[".hallmark-check"]
	if !ok {
		t.Fatal("no .hallmark-check template")
	}
	img, _ := check.Image.(string)
	if img == "" || !strings.HasPrefix(img, "golang:") || !regexp.MustCompile(`:\d+\.\d+\.\d+`).MatchString(img) {
		t.Errorf("the check job's image %q is not a golang image pinned to a release", img)
	}
	script := strings.Join(check.Script, "\n")
	for _, want := range []string{
		"go install \"github.com/hallmarkdev/hallmark/cmd/hallmark@${HALLMARK_VERSION}\"",
		"hallmark check --format sarif --output gl-hallmark.sarif --bom hallmark.cdx.json",
		"|| code=$?",
		"HALLMARK_EXIT_CODE=$code",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("the check job's script lacks %q", want)
		}
	}
	if check.Artifacts.When != "always" || !slices.Contains(check.Artifacts.Paths, "gl-hallmark.sarif") || !slices.Contains(check.Artifacts.Paths, "hallmark.cdx.json") {
		t.Errorf("the check job must keep gl-hallmark.sarif and hallmark.cdx.json as artifacts, always: %+v", check.Artifacts)
	}
	if check.Artifacts.Reports["cyclonedx"] != "hallmark.cdx.json" || check.Artifacts.Reports["dotenv"] != "hallmark.env" {
		t.Errorf("reports = %v, want cyclonedx: hallmark.cdx.json and dotenv: hallmark.env", check.Artifacts.Reports)
	}
	// reports:sast takes GitLab's own JSON schema, not SARIF.
	if _, ok := check.Artifacts.Reports["sast"]; ok {
		t.Error("SARIF must not be filed under reports:sast")
	}
	gate, ok := jobs["hallmark-gate"]
	if !ok || len(gate.Needs) != 1 || gate.Needs[0].Job != "hallmark-check" || !gate.Needs[0].Artifacts {
		t.Errorf("hallmark-gate must need hallmark-check with its artifacts: %+v", gate.Needs)
	}
	if _, ok := jobs["hallmark-check"]; !ok {
		t.Error("no hallmark-check job")
	}
	vars, _ := doc["variables"].(map[string]any)
	for _, v := range []string{"HALLMARK_TARGET", "HALLMARK_VERSION", "HALLMARK_ARGS"} {
		if _, ok := vars[v]; !ok {
			t.Errorf("top-level variable %s is missing", v)
		}
	}
}

type goreleaserFile struct {
	Version int `json:"version"`
	Builds  []struct {
		ID      string   `json:"id"`
		Main    string   `json:"main"`
		Binary  string   `json:"binary"`
		Ldflags []string `json:"ldflags"`
		Goos    []string `json:"goos"`
		Goarch  []string `json:"goarch"`
	} `json:"builds"`
	Archives []struct {
		Formats         []string `json:"formats"`
		NameTemplate    string   `json:"name_template"`
		FormatOverrides []struct {
			Goos    string   `json:"goos"`
			Formats []string `json:"formats"`
		} `json:"format_overrides"`
	} `json:"archives"`
	Checksum struct {
		NameTemplate string `json:"name_template"`
		Algorithm    string `json:"algorithm"`
	} `json:"checksum"`
	Sboms []any `json:"sboms"`
	Kos   []struct {
		BaseImage    string   `json:"base_image"`
		Repositories []string `json:"repositories"`
		Platforms    []string `json:"platforms"`
	} `json:"kos"`
}

// The release archives must be what action.yml downloads.
func TestGoreleaserMatchesTheAction(t *testing.T) {
	var g goreleaserFile
	loadYAML(t, ".goreleaser.yaml", &g)
	if g.Version != 2 {
		t.Errorf("goreleaser config version = %d, want 2", g.Version)
	}
	if len(g.Builds) != 1 || g.Builds[0].Main != "./cmd/hallmark" || g.Builds[0].Binary != "hallmark" {
		t.Fatalf("want one build of ./cmd/hallmark named hallmark: %+v", g.Builds)
	}
	b := g.Builds[0]
	for _, goos := range []string{"linux", "darwin", "windows"} {
		if !slices.Contains(b.Goos, goos) {
			t.Errorf("no %s build", goos)
		}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if !slices.Contains(b.Goarch, arch) {
			t.Errorf("no %s build", arch)
		}
	}
	if len(g.Archives) != 1 || g.Archives[0].NameTemplate != "hallmark_{{ .Version }}_{{ .Os }}_{{ .Arch }}" ||
		!slices.Equal(g.Archives[0].Formats, []string{"tar.gz"}) {
		t.Errorf("archives must be tar.gz named hallmark_{{ .Version }}_{{ .Os }}_{{ .Arch }}: %+v", g.Archives)
	}
	if g.Checksum.NameTemplate != "checksums.txt" || g.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum = %+v, want checksums.txt with sha256", g.Checksum)
	}
	if len(g.Sboms) != 0 {
		t.Error("archive SBOMs are meant to be off")
	}
	if len(g.Kos) != 1 || g.Kos[0].BaseImage != "gcr.io/distroless/static-debian13:nonroot" ||
		!slices.Equal(g.Kos[0].Repositories, []string{"ghcr.io/hallmarkdev/hallmark"}) {
		t.Errorf("want one ko image ghcr.io/hallmarkdev/hallmark on distroless static nonroot: %+v", g.Kos)
	}

	install := stepByID(t, loadAction(t), "install").Run
	for _, want := range []string{
		`asset="hallmark_${version#v}_${os}_${arch}.tar.gz"`,
		`"$base/download/$version/checksums.txt"`,
		"X64) arch=amd64", "ARM64) arch=arm64", "Linux) os=linux", "macOS) os=darwin",
	} {
		if !strings.Contains(install, want) {
			t.Errorf("the install step no longer has %q; keep it in step with .goreleaser.yaml", want)
		}
	}
	if env := stepByID(t, loadAction(t), "install").Env["HALLMARK_RELEASES_URL"]; env != "https://github.com/hallmarkdev/hallmark/releases" {
		t.Errorf("HALLMARK_RELEASES_URL = %q", env)
	}

	// Every -X target must be a package-level string variable of internal/version.
	vars := versionVars(t)
	xRe := regexp.MustCompile(`-X (\S+)\.(\w+)=`)
	n := 0
	for _, lf := range b.Ldflags {
		for _, m := range xRe.FindAllStringSubmatch(lf, -1) {
			n++
			if m[1] != "github.com/hallmarkdev/hallmark/internal/version" {
				t.Errorf("ldflags set %s.%s, outside internal/version", m[1], m[2])
			} else if !vars[m[2]] {
				t.Errorf("ldflags set version.%s, which internal/version does not declare", m[2])
			}
		}
	}
	if n != 3 {
		t.Errorf("want -X for version, commit and date; found %d", n)
	}
}

func versionVars(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(repoRoot(t), "internal", "version", "version.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, sp := range gd.Specs {
			vs := sp.(*ast.ValueSpec)
			for i, name := range vs.Names {
				// -X only sets string variables initialised to a constant or nothing.
				if i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); !ok || lit.Kind != token.STRING {
						continue
					}
				}
				vars[name.Name] = true
			}
		}
	}
	return vars
}
