package actiontest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// runStep runs one of action.yml's bash steps the way the runner does
// (bash --noprofile --norc -eo pipefail), in dir, with only the given
// environment plus PATH and HOME. It returns the exit code, the combined
// output and the step's outputs (GITHUB_OUTPUT).
func runStep(t *testing.T, script, dir string, env map[string]string) (int, string, map[string]string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	f := filepath.Join(t.TempDir(), "step.sh")
	if err := os.WriteFile(f, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(t.TempDir(), "github_output")
	if err := os.WriteFile(outFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "--noprofile", "--norc", "-eo", "pipefail", f)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LC_ALL=C", "GITHUB_OUTPUT=" + outFile}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok || ctx.Err() != nil {
			t.Fatalf("running the step: %v\n%s", err, out)
		}
		code = ee.ExitCode()
	}
	raw, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			if _, dup := outputs[k]; dup {
				t.Errorf("output %s written twice", k)
			}
			outputs[k] = v
		}
	}
	return code, string(out), outputs
}

// fakeHallmark records its arguments (NUL-separated) in $FAKE_ARGV, writes
// the files named by --output and --bom unless FAKE_NO_WRITE is set, prints a
// workflow command as a hostile model name might, and exits with $FAKE_EXIT.
const fakeHallmark = `#!/bin/sh
: > "$FAKE_ARGV"
for a in "$@"; do printf '%s\0' "$a" >> "$FAKE_ARGV"; done
prev=
for a in "$@"; do
  if [ -z "$FAKE_NO_WRITE" ]; then
    case "$prev" in
      --output) printf '{"version":"2.1.0","runs":[]}' > "$a" ;;
      --bom) printf '{"bomFormat":"CycloneDX"}' > "$a" ;;
    esac
  fi
  prev=$a
done
echo "::error::written-by-the-model"
exit "${FAKE_EXIT:-0}"
`

type checkRun struct {
	code    int
	out     string
	outputs map[string]string
	argv    []string // nil when hallmark did not run
	dir     string
}

func runCheckStep(t *testing.T, inputs map[string]string, fakeEnv map[string]string) checkRun {
	t.Helper()
	return runCheckStepIn(t, t.TempDir(), inputs, fakeEnv)
}

// runCheckStepIn runs the check step in dir, the workspace.
func runCheckStepIn(t *testing.T, dir string, inputs map[string]string, fakeEnv map[string]string) checkRun {
	t.Helper()
	step := stepByID(t, loadAction(t), "check")
	// A file for a stray glob in the step to expand to.
	if err := os.WriteFile(filepath.Join(dir, "decoy"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "hallmark")
	if err := os.WriteFile(bin, []byte(fakeHallmark), 0o755); err != nil {
		t.Fatal(err)
	}
	argvFile := filepath.Join(t.TempDir(), "argv")
	env := map[string]string{"FAKE_ARGV": argvFile}
	// The step's env: block with the defaults action.yml declares, as the
	// runner would evaluate it, then the test's inputs.
	a := loadAction(t)
	inputRe := regexp.MustCompile(`^\$\{\{ inputs\.([a-z-]+) \}\}$`)
	for k, v := range step.Env {
		switch {
		case v == "${{ steps.install.outputs.path }}":
			env[k] = bin
		case inputRe.MatchString(v):
			name := inputRe.FindStringSubmatch(v)[1]
			val, ok := inputs[name]
			if !ok {
				val = a.Inputs[name].Default
			}
			env[k] = val
		default:
			t.Fatalf("env %s = %q: the test does not know how the runner evaluates it", k, v)
		}
	}
	for k, v := range fakeEnv {
		env[k] = v
	}
	code, out, outputs := runStep(t, step.Run, dir, env)
	r := checkRun{code: code, out: out, outputs: outputs, dir: dir}
	if raw, err := os.ReadFile(argvFile); err == nil {
		r.argv = strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
	}
	return r
}

func TestCheckStepPassesInputsVerbatim(t *testing.T) {
	target := "models/my model $(touch pwned) `touch pwned2`; *"
	r := runCheckStep(t, map[string]string{
		"target":          target,
		"policy":          "policy file.yaml",
		"bom-file":        "my model.cdx.json",
		"args":            "--fail-on high\n  --jobs 2 --policy *",
		"key":             "cosign.pub",
		"identity":        "https://github.com/acme/x/.github/workflows/sign.yml@refs/heads/main",
		"identity-regexp": "^https://github.com/acme/.*$",
		"issuer":          "https://token.actions.githubusercontent.com",
		"issuer-regexp":   "^https://.*$",
	}, nil)
	if r.code != 0 {
		t.Fatalf("the check step exited %d; it must always leave the gate to the last step\n%s", r.code, r.out)
	}
	want := []string{
		"check", "--format", "sarif", "--output", "hallmark.sarif",
		"--bom", "my model.cdx.json",
		"--policy", "policy file.yaml",
		"--key", "cosign.pub",
		"--identity", "https://github.com/acme/x/.github/workflows/sign.yml@refs/heads/main",
		"--identity-regexp", "^https://github.com/acme/.*$",
		"--issuer", "https://token.actions.githubusercontent.com",
		"--issuer-regexp", "^https://.*$",
		"--fail-on", "high", "--jobs", "2", "--policy", "*",
		"--", target,
	}
	if !slices.Equal(r.argv, want) {
		t.Errorf("hallmark got\n  %q\nwant\n  %q", r.argv, want)
	}
	for _, f := range []string{"pwned", "pwned2"} {
		if _, err := os.Stat(filepath.Join(r.dir, f)); err == nil {
			t.Errorf("an input was run as shell: %s exists", f)
		}
	}
	if r.outputs["exit-code"] != "0" || r.outputs["sarif-file"] != "hallmark.sarif" || r.outputs["upload"] != "true" {
		t.Errorf("outputs = %v", r.outputs)
	}
	if r.outputs["bom-file"] != "my model.cdx.json" {
		t.Errorf("bom-file output = %q", r.outputs["bom-file"])
	}
}

func TestCheckStepKeepsTheExitCode(t *testing.T) {
	for _, tc := range []struct {
		exit      string
		noWrite   bool
		format    string
		wantSARIF string
		upload    string
		errorText string
	}{
		{exit: "0", wantSARIF: "hallmark.sarif", upload: "true"},
		{exit: "1", wantSARIF: "hallmark.sarif", upload: "true", errorText: "failed the gate"},
		// An incomplete report is never uploaded: it would close open alerts.
		{exit: "3", wantSARIF: "hallmark.sarif", upload: "false", errorText: "could not complete"},
		{exit: "3", noWrite: true, wantSARIF: "", upload: "false"},
		{exit: "2", noWrite: true, wantSARIF: "", upload: "false", errorText: "usage error"},
		{exit: "1", format: "json", wantSARIF: "", upload: "false"},
	} {
		name := fmt.Sprintf("exit%s/nowrite=%v/format=%s", tc.exit, tc.noWrite, tc.format)
		t.Run(name, func(t *testing.T) {
			inputs := map[string]string{"target": "model"}
			if tc.format != "" {
				inputs["format"] = tc.format
			}
			fake := map[string]string{"FAKE_EXIT": tc.exit}
			if tc.noWrite {
				fake["FAKE_NO_WRITE"] = "1"
			}
			r := runCheckStep(t, inputs, fake)
			if r.code != 0 {
				t.Fatalf("step exited %d\n%s", r.code, r.out)
			}
			if r.outputs["exit-code"] != tc.exit || r.outputs["sarif-file"] != tc.wantSARIF || r.outputs["upload"] != tc.upload {
				t.Errorf("outputs = %v", r.outputs)
			}
			if tc.errorText != "" && !strings.Contains(r.out, tc.errorText) {
				t.Errorf("no %q annotation in\n%s", tc.errorText, r.out)
			}
			if tc.format == "json" && slices.Contains(r.argv, "--output") {
				t.Errorf("json goes to the log, got %q", r.argv)
			}
		})
	}
}

// A SARIF file left by an earlier run must not be uploaded as this run's.
func TestCheckStepRemovesAStaleReport(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"stale.sarif", "stale.cdx.json"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(`{"old":true}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := runCheckStepIn(t, dir, map[string]string{"target": "model", "sarif-file": "stale.sarif", "bom-file": "stale.cdx.json"},
		map[string]string{"FAKE_EXIT": "1", "FAKE_NO_WRITE": "1"})
	if r.outputs["sarif-file"] != "" || r.outputs["bom-file"] != "" || r.outputs["upload"] != "false" {
		t.Errorf("outputs %v after a run that wrote no files", r.outputs)
	}
}

func TestCheckStepRejectsBadInputs(t *testing.T) {
	for name, inputs := range map[string]map[string]string{
		"empty target":       {"target": ""},
		"unknown format":     {"target": "m", "format": "xml"},
		"newline in sarif":   {"target": "m", "sarif-file": "a\nupload=true"},
		"newline in bom":     {"target": "m", "bom-file": "b.json\rx"},
		"sarif without file": {"target": "m", "sarif-file": ""},
	} {
		t.Run(name, func(t *testing.T) {
			r := runCheckStep(t, inputs, nil)
			if r.code != 0 || r.outputs["exit-code"] != "2" {
				t.Errorf("code %d, outputs %v; want the usage code 2 handed to the gate", r.code, r.outputs)
			}
			if r.argv != nil {
				t.Errorf("hallmark ran with %q", r.argv)
			}
			if r.outputs["upload"] == "true" {
				t.Error("a forged output line got through")
			}
		})
	}
}

// Output from hallmark (names and strings from the model) is fenced with
// ::stop-commands:: so the runner reads none of it as a workflow command.
func TestCheckStepFencesTheReport(t *testing.T) {
	r := runCheckStep(t, map[string]string{"target": "m", "format": "text"}, nil)
	m := regexp.MustCompile(`(?m)^::stop-commands::([0-9a-f]{32})$`).FindStringSubmatchIndex(r.out)
	if m == nil {
		t.Fatalf("no ::stop-commands:: before hallmark's output:\n%s", r.out)
	}
	tok := r.out[m[2]:m[3]]
	end := strings.Index(r.out, "\n::"+tok+"::\n")
	inside := strings.Index(r.out, "::error::written-by-the-model")
	if end < 0 || inside < m[1] || inside > end {
		t.Errorf("hallmark's output is not between stop-commands and the resume token:\n%s", r.out)
	}
	r2 := runCheckStep(t, map[string]string{"target": "m", "format": "text"}, nil)
	if strings.Contains(r2.out, "::stop-commands::"+tok) {
		t.Error("the stop-commands token is not random")
	}
}

func TestGateStep(t *testing.T) {
	var gate actionStep
	for _, s := range loadAction(t).Runs.Steps {
		if s.Env["HALLMARK_EXIT_CODE"] != "" {
			gate = s
		}
	}
	if gate.Run == "" {
		t.Fatal("no gate step")
	}
	for in, want := range map[string]int{"0": 0, "1": 1, "2": 2, "3": 3, "": 3, "1; touch x": 3, "-1": 3} {
		dir := t.TempDir()
		code, out, _ := runStep(t, gate.Run, dir, map[string]string{"HALLMARK_EXIT_CODE": in})
		if code != want {
			t.Errorf("exit code %q: the gate exited %d, want %d\n%s", in, code, want, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
			t.Error("the gate ran its input as shell")
		}
	}
}

// releaseServer serves a fake hallmark release over TLS on loopback, laid
// out as GitHub serves it under /<owner>/<repo>/releases.
type releaseServer struct {
	srv      *httptest.Server
	base     string // …/hallmarkdev/hallmark/releases
	caFile   string
	requests atomic.Int32
}

func newReleaseServer(t *testing.T, latest string, files map[string][]byte) *releaseServer {
	t.Helper()
	rs := &releaseServer{}
	const prefix = "/hallmarkdev/hallmark/releases"
	rs.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.requests.Add(1)
		p := strings.TrimPrefix(r.URL.Path, prefix)
		if p == "/latest" {
			http.Redirect(w, r, prefix+latest, http.StatusFound)
			return
		}
		if strings.HasPrefix(p, "/tag/") || p == "" {
			_, _ = w.Write([]byte("release page"))
			return
		}
		b, ok := files[strings.TrimPrefix(p, "/download/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(rs.srv.Close)
	rs.base = rs.srv.URL + prefix
	rs.caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rs.srv.Certificate().Raw})
	if err := os.WriteFile(rs.caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return rs
}

// fakeArchive is a release tar.gz holding a hallmark that prints its version.
func fakeArchive(t *testing.T, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	bin := []byte("#!/bin/sh\necho \"hallmark " + version + "\"\n")
	for _, f := range []struct {
		name string
		body []byte
		mode int64
	}{{"README.md", []byte("readme\n"), 0o644}, {"hallmark", bin, 0o755}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func runInstallStep(t *testing.T, rs *releaseServer, version, runnerOS, runnerArch string) (int, string, map[string]string, string) {
	t.Helper()
	for _, tool := range []string{"curl", "tar", "awk", "od"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	step := stepByID(t, loadAction(t), "install")
	temp := t.TempDir()
	pathFile := filepath.Join(t.TempDir(), "github_path")
	env := map[string]string{}
	for k, v := range step.Env {
		env[k] = v
	}
	env["HALLMARK_VERSION"] = version
	env["HALLMARK_INSTALL"] = "release"
	env["HALLMARK_RELEASES_URL"] = rs.base
	env["CURL_CA_BUNDLE"] = rs.caFile
	env["RUNNER_OS"] = runnerOS
	env["RUNNER_ARCH"] = runnerArch
	env["RUNNER_TEMP"] = temp
	env["GITHUB_PATH"] = pathFile
	code, out, outputs := runStep(t, step.Run, t.TempDir(), env)
	gp, _ := os.ReadFile(pathFile)
	return code, out, outputs, string(gp)
}

func TestInstallStepVerifiesTheRelease(t *testing.T) {
	archive := fakeArchive(t, "v1.2.3")
	asset := "hallmark_1.2.3_linux_amd64.tar.gz"
	good := map[string][]byte{
		"v1.2.3/" + asset: archive,
		"v1.2.3/checksums.txt": []byte(sha256hex([]byte("other")) + "  hallmark_1.2.3_darwin_arm64.tar.gz\n" +
			sha256hex(archive) + "  " + asset + "\n"),
	}

	t.Run("latest", func(t *testing.T) {
		rs := newReleaseServer(t, "/tag/v1.2.3", good)
		code, out, outputs, gp := runInstallStep(t, rs, "latest", "Linux", "X64")
		if code != 0 {
			t.Fatalf("install failed (%d):\n%s", code, out)
		}
		bin := outputs["path"]
		if filepath.Base(bin) != "hallmark" || !strings.HasPrefix(bin, filepath.Dir(filepath.Dir(bin))) {
			t.Fatalf("path output = %q", bin)
		}
		if st, err := os.Stat(bin); err != nil || st.Mode()&0o111 == 0 {
			t.Fatalf("%s is not an executable: %v", bin, err)
		}
		if strings.TrimSpace(gp) != filepath.Dir(bin) {
			t.Errorf("GITHUB_PATH = %q, want %q", gp, filepath.Dir(bin))
		}
		if !strings.Contains(out, "hallmark v1.2.3") {
			t.Errorf("the installed binary was not run (hallmark version):\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(bin), "README.md")); err == nil {
			t.Error("only the hallmark binary should be extracted")
		}
	})

	t.Run("tag without v", func(t *testing.T) {
		rs := newReleaseServer(t, "/tag/v9.9.9", good)
		code, out, outputs, _ := runInstallStep(t, rs, "1.2.3", "Linux", "X64")
		if code != 0 || outputs["path"] == "" {
			t.Fatalf("install of 1.2.3 failed (%d):\n%s", code, out)
		}
	})

	t.Run("tampered archive", func(t *testing.T) {
		bad := map[string][]byte{"v1.2.3/" + asset: fakeArchive(t, "evil"), "v1.2.3/checksums.txt": good["v1.2.3/checksums.txt"]}
		rs := newReleaseServer(t, "/tag/v1.2.3", bad)
		code, out, outputs, gp := runInstallStep(t, rs, "v1.2.3", "Linux", "X64")
		if code == 0 || outputs["path"] != "" || gp != "" {
			t.Fatalf("a tampered archive was installed (%d):\n%s", code, out)
		}
		if !strings.Contains(out, "does not match checksums.txt") || strings.Contains(out, "hallmark evil") {
			t.Errorf("want a checksum error and no run of the binary:\n%s", out)
		}
	})

	t.Run("no checksum entry", func(t *testing.T) {
		rs := newReleaseServer(t, "/tag/v1.2.3", map[string][]byte{
			"v1.2.3/" + asset: archive, "v1.2.3/checksums.txt": []byte(sha256hex(archive) + "  x" + asset + "\n"),
		})
		code, out, _, _ := runInstallStep(t, rs, "v1.2.3", "Linux", "X64")
		if code == 0 || !strings.Contains(out, "no entry for "+asset) {
			t.Fatalf("want a missing-entry error (%d):\n%s", code, out)
		}
	})

	t.Run("no release yet", func(t *testing.T) {
		rs := newReleaseServer(t, "", good) // /latest redirects to /releases
		code, out, _, _ := runInstallStep(t, rs, "latest", "Linux", "X64")
		if code == 0 || !strings.Contains(out, "could not find the latest hallmark release") {
			t.Fatalf("want a no-release error (%d):\n%s", code, out)
		}
	})

	for name, c := range map[string][3]string{
		"windows":     {"v1.2.3", "Windows", "X64"},
		"32-bit":      {"v1.2.3", "Linux", "X86"},
		"bad version": {"v1.2.3; touch x", "Linux", "X64"},
		"branch":      {"main", "Linux", "X64"},
	} {
		t.Run(name, func(t *testing.T) {
			rs := newReleaseServer(t, "/tag/v1.2.3", good)
			code, out, outputs, _ := runInstallStep(t, rs, c[0], c[1], c[2])
			if code == 0 || outputs["path"] != "" {
				t.Fatalf("install accepted %v (%d):\n%s", c, code, out)
			}
			if n := rs.requests.Load(); n != 0 {
				t.Errorf("%d requests made before the inputs were checked", n)
			}
		})
	}
}
