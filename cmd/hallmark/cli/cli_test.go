package cli_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hallmarkdev/hallmark/cmd/hallmark/cli"
	"github.com/hallmarkdev/hallmark/internal/cdxschema"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
	"github.com/hallmarkdev/hallmark/verify/verifytest"
)

// registries are the in-process registries started by ociregistry, by host.
var registries sync.Map

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hallmark": func() { os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// fixtures are copied into every script's work directory before it runs
// (binary pickles do not fit txtar archives). Source → name in $WORK:
//
//	examples/sample-model/{README.md,config.json,model.pkl} → sample-model/
//	testdata/pickles/malicious/g_os_system_p2.pkl            → os_system.pkl            (critical: os.system call)
//	testdata/pickles/malicious/g_sleepy_unknown_function_p2.pkl → sleepy.pkl           (medium: mylib.patch_weights call)
//	testdata/pickles/benign/numpy_0d_p2.pkl                  → benign.pkl               (clean)
//	testdata/gguf/benign/llama3_q8_0_v3.gguf                 → llama3.gguf              (clean, real Llama 3 template)
//	testdata/gguf/malicious/ssti_named_template_rag.gguf     → ssti.gguf                (critical: template injection)
//	testdata/keras/malicious/lambda_top.keras                → lambda.keras             (critical: Lambda bytecode)
//	testdata/hf/malicious/remote-code-os-system/*            → hf-remote-code/          (auto_map + os.system)
//	testdata/bom/hf-model/*                                  → hf-model/                (clean; card, configs, chat template)
var fixtures = []struct{ src, dst string }{
	{"../../../examples/sample-model/README.md", "sample-model/README.md"},
	{"../../../examples/sample-model/config.json", "sample-model/config.json"},
	{"../../../examples/sample-model/model.pkl", "sample-model/model.pkl"},
	{"../../../testdata/pickles/malicious/g_os_system_p2.pkl", "os_system.pkl"},
	{"../../../testdata/pickles/malicious/g_sleepy_unknown_function_p2.pkl", "sleepy.pkl"},
	{"../../../testdata/pickles/benign/numpy_0d_p2.pkl", "benign.pkl"},
	{"../../../testdata/gguf/benign/llama3_q8_0_v3.gguf", "llama3.gguf"},
	{"../../../testdata/gguf/malicious/ssti_named_template_rag.gguf", "ssti.gguf"},
	{"../../../testdata/keras/malicious/lambda_top.keras", "lambda.keras"},
	{"../../../testdata/hf/malicious/remote-code-os-system/config.json", "hf-remote-code/config.json"},
	{"../../../testdata/hf/malicious/remote-code-os-system/modeling_tiny.py", "hf-remote-code/modeling_tiny.py"},
	{"../../../testdata/hf/malicious/remote-code-os-system/configuration_tiny.py", "hf-remote-code/configuration_tiny.py"},
	{"../../../testdata/hf/malicious/remote-code-os-system/model.safetensors", "hf-remote-code/model.safetensors"},
	{"../../../testdata/bom/hf-model/README.md", "hf-model/README.md"},
	{"../../../testdata/bom/hf-model/config.json", "hf-model/config.json"},
	{"../../../testdata/bom/hf-model/generation_config.json", "hf-model/generation_config.json"},
	{"../../../testdata/bom/hf-model/model.safetensors", "hf-model/model.safetensors"},
	{"../../../testdata/bom/hf-model/special_tokens_map.json", "hf-model/special_tokens_map.json"},
	{"../../../testdata/bom/hf-model/tokenizer_config.json", "hf-model/tokenizer_config.json"},
}

// vectorFiles are the OMS vectors (verify/testdata/vectors) the verify and
// sign scripts use, copied to vectors/ in $WORK.
var vectorFiles = []string{
	"keys/certificate/ca-cert.pem", "keys/certificate/int-ca-cert.pem", "keys/certificate/signing-key.pem",
	"keys/certificate/signing-key-pub.pem", "keys/certificate/signing-key-cert.pem",
	"v1.1.0-elliptic-key/model.sig", "v1.1.0-elliptic-key/signme-1", "v1.1.0-elliptic-key/signme-2", "v1.1.0-elliptic-key/ignore-me",
	"v1.1.0-certificate/model.sig", "v1.1.0-certificate/signme-1", "v1.1.0-certificate/signme-2", "v1.1.0-certificate/ignore-me",
	"v1.0.0-sigstore/model.sig", "v1.0.0-sigstore/signme-1", "v1.0.0-sigstore/signme-2",
	"v1.0.0-elliptic-key/model.sig", "v1.0.0-elliptic-key/signme-1",
}

func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			for _, f := range fixtures {
				if err := copyFile(f.src, filepath.Join(env.WorkDir, filepath.FromSlash(f.dst))); err != nil {
					return err
				}
			}
			for _, f := range vectorFiles {
				if err := copyFile(filepath.Join("../../../verify/testdata/vectors", f), filepath.Join(env.WorkDir, "vectors", filepath.FromSlash(f))); err != nil {
					return err
				}
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exits N prog args...: run prog and require exit status N
			// (stdout and stderr are kept for the following commands).
			"exits": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exits N prog [args...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exits: %v", err)
				}
				got := 0
				if err := ts.Exec(args[1], args[2:]...); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						ts.Fatalf("exits: %v", err)
					}
					got = ee.ExitCode()
				}
				if got != want {
					ts.Fatalf("exit status %d, want %d", got, want)
				}
			},
			// ociregistry: start an in-process registry on 127.0.0.1 for
			// this script; its host:port is in $REGISTRY. DOCKER_CONFIG and
			// XDG_CACHE_HOME point into $WORK.
			"ociregistry": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 0 {
					ts.Fatalf("usage: ociregistry")
				}
				reg := ocitest.NewRegistry()
				registries.Store(reg.Host, reg)
				ts.Defer(func() { registries.Delete(reg.Host); reg.Close() })
				ts.Setenv("REGISTRY", reg.Host)
				ts.Setenv("DOCKER_CONFIG", ts.MkAbs("docker-config"))
				ts.Setenv("XDG_CACHE_HOME", ts.MkAbs("cache"))
			},
			// ocipush [-corrupt] FAMILY REF NAME=FILE...: push an artifact of
			// FAMILY (modelpack, oras, ollama) built from the files to REF
			// ("$REGISTRY/repo:tag"); -corrupt makes the registry serve its
			// first layer with one byte changed.
			"ocipush": func(ts *testscript.TestScript, neg bool, args []string) {
				corrupt := len(args) > 0 && args[0] == "-corrupt"
				if corrupt {
					args = args[1:]
				}
				if neg || len(args) < 3 {
					ts.Fatalf("usage: ocipush [-corrupt] FAMILY REF NAME=FILE...")
				}
				var files []ocitest.File
				for _, a := range args[2:] {
					n, f, ok := strings.Cut(a, "=")
					if !ok {
						ts.Fatalf("ocipush: %q is not NAME=FILE", a)
					}
					files = append(files, ocitest.File{Name: n, Data: []byte(ts.ReadFile(f))})
				}
				img, err := ocitest.Build(args[0], files...)
				ts.Check(err)
				_, err = ocitest.Push(args[1], img)
				ts.Check(err)
				if corrupt {
					host, _, _ := strings.Cut(args[1], "/")
					reg, ok := registries.Load(host)
					if !ok {
						ts.Fatalf("ocipush -corrupt: %s is not an ociregistry", host)
					}
					ls, err := img.Layers()
					ts.Check(err)
					d, err := ls[0].Digest()
					ts.Check(err)
					reg.(*ocitest.Registry).Corrupt(d.String())
					ts.Setenv("CORRUPT_DIGEST", d.String())
				}
			},
			// ocikey NAME: write a fresh ECDSA P-256 key pair to NAME.key
			// (PKCS #8 PEM) and NAME.pub.
			"ocikey": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: ocikey NAME")
				}
				k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				ts.Check(err)
				der, err := x509.MarshalPKCS8PrivateKey(k)
				ts.Check(err)
				ts.Check(os.WriteFile(ts.MkAbs(args[0]+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
				ts.Check(os.WriteFile(ts.MkAbs(args[0]+".pub"), verifytest.PublicKeyPEM(k), 0o644))
			},
			// ocisign bundle|legacy KEY REF [ONTO]: sign the manifest REF
			// names with KEY (from ocikey) as cosign does, a v3 bundle
			// referrer or a legacy .sig tag, attached to ONTO (default REF).
			"ocisign": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 3 || len(args) > 4 {
					ts.Fatalf("usage: ocisign bundle|legacy KEY REF [ONTO]")
				}
				blk, _ := pem.Decode([]byte(ts.ReadFile(args[1])))
				if blk == nil {
					ts.Fatalf("ocisign: %s is not PEM", args[1])
				}
				kk, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
				ts.Check(err)
				k := kk.(*ecdsa.PrivateKey)
				signed, err := name.ParseReference(args[2])
				ts.Check(err)
				src, err := remote.Get(signed)
				ts.Check(err)
				onto := src
				if len(args) == 4 {
					ref, err := name.ParseReference(args[3])
					ts.Check(err)
					onto, err = remote.Get(ref)
					ts.Check(err)
				}
				repo := signed.Context().Name()
				if len(args) == 4 {
					r, _ := name.ParseReference(args[3])
					repo = r.Context().Name()
				}
				switch args[0] {
				case "bundle":
					b, err := verifytest.KeyMessageBundle(k, src.Manifest)
					ts.Check(err)
					_, err = ocitest.PushReferrer(repo, onto.Descriptor, ocitest.SigstoreBundle, ocitest.SigstoreBundle, b, nil)
					ts.Check(err)
				case "legacy":
					payload := ocitest.SimpleSigningPayload(signed.Context().Name(), src.Digest.String())
					sig, err := verifytest.SignSimpleSigning(k, payload)
					ts.Check(err)
					ts.Check(ocitest.PushLegacy(repo, onto.Digest.String(), ".sig", ocitest.Layer{MediaType: ocitest.SimpleSigning, Data: payload,
						Annotations: map[string]string{"dev.cosignproject.cosign/signature": sig}}))
				default:
					ts.Fatalf("ocisign: %q: want bundle or legacy", args[0])
				}
			},
			// mkfifo path: create a named pipe.
			"mkfifo": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: mkfifo path")
				}
				ts.Check(syscall.Mkfifo(ts.MkAbs(args[0]), 0o644))
			},
			// writeq file 'chunk'...: write the concatenated chunks, each read
			// with Go escapes (\x00, \n...), to file.
			"writeq": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: writeq file chunk...")
				}
				var b []byte
				for _, a := range args[1:] {
					s, err := strconv.Unquote(`"` + a + `"`)
					ts.Check(err)
					b = append(b, s...)
				}
				ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
			},
			// cdxvalid file json|xml 1.6|1.5: file (or stdout) is a CycloneDX
			// BOM that validates against the official schema.
			"cdxvalid": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 3 {
					ts.Fatalf("usage: cdxvalid file json|xml 1.6|1.5")
				}
				data := []byte(ts.ReadFile(args[0]))
				var err error
				if args[1] == "xml" {
					err = cdxschema.ValidateXML(data, args[2])
					if errors.Is(err, cdxschema.ErrNoXMLValidator) && os.Getenv("HALLMARK_REQUIRE_XMLLINT") != "1" {
						ts.Logf("XML not validated: %v", err)
						return
					}
				} else {
					err = cdxschema.ValidateJSON(data, args[2])
				}
				switch {
				case neg && err == nil:
					ts.Fatalf("%s validates", args[0])
				case !neg && err != nil:
					ts.Fatalf("%s: %v", args[0], err)
				}
			},
			// jsonvalid file: file (or stdout/stderr) holds one JSON document.
			"jsonvalid": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: jsonvalid file")
				}
				var v any
				err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &v)
				switch {
				case neg && err == nil:
					ts.Fatalf("%s is valid JSON", args[0])
				case !neg && err != nil:
					ts.Fatalf("%s: %v", args[0], err)
				}
			},
		},
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("fixture: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
