package sbom

import "testing"

// The hub cache layout is the one place a local folder states a Hugging
// Face id and revision.
func TestHFCache(t *testing.T) {
	for root, want := range map[string][2]string{
		"/home/u/.cache/huggingface/hub/models--meta-llama--Llama-3.1-8B/snapshots/0123456789abcdef0123456789abcdef01234567":  {"meta-llama/Llama-3.1-8B", "0123456789abcdef0123456789abcdef01234567"},
		"/home/u/.cache/huggingface/hub/models--meta-llama--Llama-3.1-8B/snapshots/0123456789abcdef0123456789abcdef01234567/": {"meta-llama/Llama-3.1-8B", "0123456789abcdef0123456789abcdef01234567"},
		`C:\hf\hub\models--org--name\snapshots\0123456789abcdef0123456789abcdef01234567`:                                      {"org/name", "0123456789abcdef0123456789abcdef01234567"},
		"/models/llama": {"", ""},
		"/hub/models--a--b--c/snapshots/0123456789abcdef0123456789abcdef01234567": {"", ""}, // ambiguous split
		"/hub/models--org--name/snapshots/main":                                   {"", ""}, // not a commit
	} {
		id, rev := hfCache(root)
		if id != want[0] || rev != want[1] {
			t.Errorf("%s: %q %q, want %q %q", root, id, rev, want[0], want[1])
		}
	}
	if got := ociPURL("ghcr.io", "acme/Models/Llama", "sha256:abc", "v1", false); got != "pkg:oci/llama@sha256%3Aabc?repository_url=ghcr.io%2Facme%2FModels%2FLlama&tag=v1" {
		t.Errorf("oci purl %s", got)
	}
	if got := ociPURL("/tmp/layout", "", "sha256:abc", "", true); got != "" {
		t.Errorf("layout without a repository: %q", got)
	}
}
