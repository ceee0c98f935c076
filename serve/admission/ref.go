package admission

import (
	"fmt"
	"regexp"
	"strings"
)

// MaxRefLength caps one reference or URI as written. Longer strings are
// never parsed; a registry host name is at most 253 bytes and a repository
// path at most 255, so no pullable reference is this long.
const MaxRefLength = 1024

// The image reference grammar of github.com/distribution/reference, which
// the kubelet (ParseNormalizedNamed), containerd and CRI-O apply. Parsing
// by the same grammar matters: a reference hallmark rejects must be one
// the node rejects too, or rejecting it would let a model through.
const (
	refAlnum      = `[a-z0-9]+`
	refSeparator  = `(?:[._]|__|[-]+)`
	refPathComp   = refAlnum + `(?:` + refSeparator + refAlnum + `)*`
	refRemoteName = refPathComp + `(?:/` + refPathComp + `)*`
	refDomainComp = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	refHost       = `(?:` + refDomainComp + `(?:\.` + refDomainComp + `)*|\[[a-fA-F0-9:]+\])`
	refHostPort   = refHost + `(?::[0-9]+)?`
	refName       = `(?:` + refHostPort + `/)?` + refRemoteName
	refTag        = `[\w][\w.-]{0,127}`
	refDigest     = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[[:xdigit:]]{32,}`
)

var (
	referenceRE = regexp.MustCompile(`^(` + refName + `)(?::(` + refTag + `))?(?:@(` + refDigest + `))?$`)
	nameRE      = regexp.MustCompile(`^(?:(` + refHostPort + `)/)?(` + refRemoteName + `)$`)
	imageIDRE   = regexp.MustCompile(`^[a-f0-9]{64}$`)
	// The digest algorithms go-digest registers by default, with the
	// encoding each one must have (lower-case hex of the hash size).
	digestHex = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}
)

// NormalizeImage returns the oci:// form of an image reference as a
// container runtime resolves it:
//
//   - the first path component is the registry host only if it contains
//     "." or ":", is "localhost", or has an upper-case letter; otherwise
//     the registry is docker.io ("index.docker.io" also becomes docker.io);
//   - a docker.io repository with one path component gets "library/";
//   - no tag and no digest means tag "latest";
//   - a reference with both a tag and a digest keeps only the digest,
//     which is what the runtime pulls.
//
// So "ghcr.io/a/b:v1" is "oci://ghcr.io/a/b:v1" and "x" is
// "oci://docker.io/library/x:latest". A registry mirror configured on the
// node is not visible here: the name is checked as written.
func NormalizeImage(s string) (string, error) {
	if len(s) > MaxRefLength {
		return "", fmt.Errorf("longer than %d bytes", MaxRefLength)
	}
	if s == "" {
		return "", fmt.Errorf("empty")
	}
	if imageIDRE.MatchString(s) {
		return "", fmt.Errorf("a 64-hex image ID, not a reference")
	}
	domain, rest := splitDomain(s)
	remote := rest
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		remote = rest[:i]
	}
	if strings.ToLower(remote) != remote {
		return "", fmt.Errorf("repository name must be lowercase")
	}
	full := domain + "/" + rest
	m := referenceRE.FindStringSubmatch(full)
	if m == nil {
		return "", fmt.Errorf("invalid reference format")
	}
	name, tag, digest := m[1], m[2], m[3]
	if n := nameRE.FindStringSubmatch(name); n != nil && len(n[2]) > 255 {
		return "", fmt.Errorf("repository name longer than 255 characters")
	}
	out := name + ":" + tag
	if tag == "" {
		out = name + ":latest"
	}
	if digest != "" {
		out = name + "@" + digest
	}
	if len(out) > MaxRefLength {
		// Keeps normalising idempotent: the result parses again.
		return "", fmt.Errorf("longer than %d bytes once normalised", MaxRefLength)
	}
	if digest != "" {
		alg, hex, _ := strings.Cut(digest, ":")
		want, ok := digestHex[alg]
		if !ok {
			return "", fmt.Errorf("unsupported digest algorithm %q", alg)
		}
		if len(hex) != want || strings.Trim(hex, "0123456789abcdef") != "" {
			return "", fmt.Errorf("invalid %s digest", alg)
		}
	}
	return "oci://" + out, nil
}

// splitDomain separates the registry host the way the runtime does.
func splitDomain(s string) (domain, rest string) {
	first, after, ok := strings.Cut(s, "/")
	if !ok {
		return "docker.io", "library/" + s
	}
	switch {
	case first == "localhost", strings.ContainsAny(first, ".:"), strings.ToLower(first) != first:
		domain, rest = first, after
	default:
		domain, rest = "docker.io", s
	}
	if domain == "index.docker.io" {
		domain = "docker.io"
	}
	if domain == "docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	return domain, rest
}

// ociScheme reports whether s is an OCI URI ("oci://…" or KServe's
// "oci+native://…", "oci+modelcar://…", "oci+fetch://…"; the scheme is
// matched case-insensitively, which only ever checks more) and returns
// the image reference after "://".
func ociScheme(s string) (image string, ok bool) {
	scheme, rest, found := strings.Cut(s, "://")
	if !found {
		return "", false
	}
	scheme = strings.ToLower(scheme)
	if scheme == "oci" || (strings.HasPrefix(scheme, "oci+") && len(scheme) > 4) {
		return rest, true
	}
	return "", false
}

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// hasScheme reports whether s starts with "scheme://".
func hasScheme(s string) bool { return schemeRE.MatchString(s) }
