package ocitest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DistributionBinary is the Debian package docker-registry's server (the
// CNCF distribution registry, v2.8). `.ci/run` installs it.
const DistributionBinary = "/usr/bin/docker-registry"

// Distribution is a real registry server (Debian's docker-registry)
// started for one test on 127.0.0.1 with a random port and storage in a
// temporary directory. It has no referrers API (signatures are found
// through the sha256-<hex> tag fallback) and checks that a manifest's
// blobs exist in its repository when it is pushed.
type Distribution struct {
	Host string // "127.0.0.1:port"
	Root string // storage root directory

	cmd  *exec.Cmd
	stop func()
	out  *lockedBuffer
}

// StartDistribution starts the registry and stops it when the test ends.
// The test is skipped when the binary is not installed
// (apt-get install docker-registry), unless
// HALLMARK_REQUIRE_DOCKER_REGISTRY=1 (set by .ci/run), which fails it.
func StartDistribution(t testing.TB) *Distribution {
	t.Helper()
	bin := DistributionBinary
	if b := os.Getenv("HALLMARK_DOCKER_REGISTRY"); b != "" {
		bin = b
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("HALLMARK_REQUIRE_DOCKER_REGISTRY") == "1" {
			t.Fatalf("%s not found and HALLMARK_REQUIRE_DOCKER_REGISTRY=1 (apt-get install docker-registry)", bin)
		}
		t.Skipf("real-registry test skipped: %s not found (apt-get install docker-registry; .ci/run installs it)", bin)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		d, err := startDistribution(t, bin)
		if err == nil {
			return d
		}
		lastErr = err
	}
	t.Fatalf("docker-registry did not start: %v", lastErr)
	return nil
}

func startDistribution(t testing.TB, bin string) (*Distribution, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	root := t.TempDir()
	dir := t.TempDir()
	host := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
`, root, host)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	d := &Distribution{Host: host, Root: root, out: &lockedBuffer{}}
	d.cmd = exec.Command(bin, "serve", cfgPath)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	d.cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- d.cmd.Wait() }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			d.cmd.Process.Kill()
			<-exited
		})
	}
	d.stop = stop
	deadline := time.Now().Add(15 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("exited (%v): %s", err, d.out.String())
		default:
		}
		resp, err := client.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("no answer on http://%s/v2/ after 15 s: %s", host, d.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			if s := strings.TrimSpace(d.out.String()); s != "" {
				t.Logf("docker-registry output:\n%s", s)
			}
		}
	})
	return d, nil
}

// Kill stops the registry at once, as a crash would (fault tests).
func (d *Distribution) Kill() { d.stop() }

// BlobPath is where the registry stores blob digest ("sha256:<hex>") on
// disk; change it to make the registry serve other bytes.
func (d *Distribution) BlobPath(digest string) string {
	h := strings.TrimPrefix(digest, "sha256:")
	return filepath.Join(d.Root, "docker", "registry", "v2", "blobs", "sha256", h[:2], h, "data")
}

// Corrupt flips one byte in the middle of the stored blob (same size,
// other digest).
func (d *Distribution) Corrupt(t testing.TB, digest string) {
	t.Helper()
	p := d.BlobPath(digest)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	off := st.Size() / 2
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x55
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
