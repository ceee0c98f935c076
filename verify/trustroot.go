package verify

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// The embedded Sigstore public-good trusted root; see trustroot/README.md.
//
//go:embed trustroot/sigstore-public-good.json
var publicGoodRoot []byte

// DefaultTrustedRootDate is the date of the embedded public-good trusted
// root (sigstore-python commit 27db13db, 2026-08-19), for --help texts.
const DefaultTrustedRootDate = "2026-08-19"

var defaultRoot = sync.OnceValues(func() (*root.TrustedRoot, error) {
	tr, err := root.NewTrustedRootFromJSON(publicGoodRoot)
	if err != nil {
		return nil, fmt.Errorf("embedded trusted root: %w", err)
	}
	return tr, nil
})

// DefaultTrustedRoot is the embedded Sigstore public-good trusted root,
// used offline for keyless verification unless another is given.
func DefaultTrustedRoot() (*root.TrustedRoot, error) { return defaultRoot() }

// ParseTrustedRoot reads a Sigstore trusted root: a trusted_root.json
// (application/vnd.dev.sigstore.trustedroot+json) or a ClientTrustConfig
// JSON whose trustedRoot field holds one.
func ParseTrustedRoot(data []byte) (*root.TrustedRoot, error) {
	var head struct {
		MediaType   string          `json:"mediaType"`
		TrustedRoot json.RawMessage `json:"trustedRoot"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	if strings.HasPrefix(head.MediaType, "application/vnd.dev.sigstore.clienttrustconfig") {
		if len(head.TrustedRoot) == 0 {
			return nil, errors.New("trusted root: client trust config has no trustedRoot")
		}
		data = head.TrustedRoot
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	return tr, nil
}
