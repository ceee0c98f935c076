package oci

import (
	"errors"

	"github.com/hallmarkdev/hallmark/source"
)

// ParseModelConfig runs the config parser a config of media type mt gets
// (Docker's container-image type read as Ollama's), for the external
// tests and FuzzModelConfig. It also returns the Kitfile's path links.
func ParseModelConfig(mt string, raw []byte) (source.Model, map[string]string, error) {
	var m source.Model
	src := configSource(baseType(mt), FamilyOllama)
	if src == "" {
		return m, nil, errors.New("not a model config type")
	}
	kit, err := parseConfig(src, raw, &m, map[string]bool{})
	m.Source = src
	return m, kit, err
}

// FromAnnotations exposes fromAnnotations to the external tests.
func FromAnnotations(m *source.Model, ann map[string]string) bool { return fromAnnotations(m, ann) }

// Caps the external tests check against.
const (
	MaxText     = maxText
	MaxList     = maxList
	MaxExtra    = maxExtra
	MaxMapExtra = maxMapExtra
	MaxConfig   = maxConfig
)
