package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hallmarkdev/hallmark/formats/finding"
	"github.com/hallmarkdev/hallmark/source"
)

// Config blobs that describe a model (aibom-oci.md §4). The ModelPack,
// KitOps and Jozu types are in oci.go.
const (
	cfgCNAI        = "application/vnd.cnai.model.config.v1+json"
	cfgDockerV01   = "application/vnd.docker.ai.model.config.v0.1+json"
	cfgDockerV02   = "application/vnd.docker.ai.model.config.v0.2+json"
	cfgDockerImage = "application/vnd.docker.container.image.v1+json" // Ollama's config
)

// Caps on what a config or the annotations may put into a source.Model:
// all of it is attacker-written text that ends up in reports and BOMs.
const (
	maxConfig     = 4 << 20 // config blob read into memory
	maxText       = 1000    // bytes of one string (then "…")
	maxKey        = 200     // bytes of an Extra key built from a config's own keys
	maxList       = 1000    // entries of one list
	maxExtra      = 1000    // Extra entries of one model
	maxMapExtra   = 200     // Extra entries taken from one free-form map (Docker's gguf…)
	maxKitEntries = 100     // Kitfile entries of one section listed in Extra
	maxKitPaths   = 10000   // Kitfile digest → path links
	maxContextLen = 1 << 40
)

// Model.Source values.
const (
	srcModelPack   = "modelpack"
	srcCNAI        = "cnai"
	srcKitfile     = "kitfile"
	srcDocker      = "docker-model"
	srcOllama      = "ollama"
	srcAnnotations = "annotations"
)

// configSource says which parser reads a config of base media type mt in
// a manifest of family fam ("" when none: the config is not read).
// Docker's container-image type is Ollama's only in an Ollama manifest.
// A ModelKit's config is read as a Kitfile whatever its type (as kit
// itself does), except the empty descriptor.
func configSource(mt, fam string) string {
	switch {
	case mt == cfgModelPack:
		return srcModelPack
	case mt == cfgCNAI:
		return srcCNAI
	case mt == cfgDockerV01 || mt == cfgDockerV02:
		return srcDocker
	case mt == cfgKit || mt == cfgJozu:
		return srcKitfile
	case fam == FamilyKitOps && mt != mtEmpty && !strings.HasPrefix(mt, cfgDockerPrefix):
		return srcKitfile
	case fam == FamilyOllama && mt == cfgDockerImage:
		return srcOllama
	}
	return ""
}

var sourceNames = map[string]string{
	srcModelPack: "ModelPack", srcCNAI: "CNAI", srcKitfile: "KitOps", srcDocker: "Docker model", srcOllama: "Ollama",
}

// describe records what image manifest m (digest d, files under dir)
// says about its model: one source.Model per manifest, from its config
// blob and its annotations. For a ModelKit it also sets b.kitPaths from
// the same read of the Kitfile.
func (b *builder) describe(m *manifest, fam, d, dir string) error {
	mod := source.Model{Dir: dir, Digest: d, ArtifactType: text(m.ArtifactType)}
	src := ""
	if m.Config != nil {
		mod.ConfigMediaType, mod.ConfigDigest = text(m.Config.MediaType), text(m.Config.Digest)
		src = configSource(baseType(m.Config.MediaType), fam)
	}
	if src != "" {
		raw, err := b.readConfig(m.Config, dir, src)
		if err != nil {
			return err
		}
		if raw != nil {
			got := mod
			kit, err := parseConfig(src, raw, &got, layerSet(m))
			switch {
			case err != nil && src == srcKitfile:
				b.skip(path.Join(dir, "Kitfile"), "unreadable", fmt.Sprintf("KitOps config %s is not a Kitfile in JSON (%s): layers keep their digest names", m.Config.Digest, text(err.Error())))
			case err != nil:
				b.skip(path.Join(dir, "config"), "unreadable", fmt.Sprintf("%s config %s is not a JSON object (%s): what it says about the model is not recorded", sourceNames[src], m.Config.Digest, text(err.Error())))
			default:
				mod, mod.Source = got, src
				if src == srcKitfile {
					b.kitPaths = kit
				}
			}
		}
	}
	if fromAnnotations(&mod, m.Annotations) && mod.Source == "" {
		mod.Source = srcAnnotations
	}
	b.art.Models = append(b.art.Models, mod)
	return nil
}

// readConfig reads a config blob whole, digest-checked, or records why
// not (nil, nil): a config too large or with an unusable digest is a gap
// in what is known, not a reason to stop the scan.
func (b *builder) readConfig(cfg *descriptor, dir, src string) ([]byte, error) {
	where, after := path.Join(dir, "config"), "what it says about the model is not recorded"
	if src == srcKitfile {
		where, after = path.Join(dir, "Kitfile"), "layers keep their digest names"
	}
	if _, ok := sha256Hex(cfg.Digest); !ok {
		b.skip(where, "unreadable", fmt.Sprintf("%s config has an unsupported or malformed digest %q: %s", sourceNames[src], text(cfg.Digest), after))
		return nil, nil
	}
	if cfg.Size < 0 || cfg.Size > maxConfig {
		b.skip(where, "unreadable", fmt.Sprintf("%s config %s declares %d bytes, more than the %d-byte cap: %s", sourceNames[src], cfg.Digest, cfg.Size, maxConfig, after))
		return nil, nil
	}
	return b.readBlob(cfg.Digest, cfg.Size)
}

// layerSet is the set of layer digests a manifest lists.
func layerSet(m *manifest) map[string]bool {
	s := make(map[string]bool, len(m.Layers))
	for _, l := range m.Layers {
		s[l.Digest] = true
	}
	return s
}

// parseConfig reads a config of kind src into mod. Unknown keys and
// known keys of the wrong JSON type are ignored; only a blob that is not
// a JSON object is an error. For a Kitfile it also returns its layer
// digest → path links (as written: cleanPath judges them where used).
func parseConfig(src string, raw []byte, mod *source.Model, layers map[string]bool) (map[string]string, error) {
	o, err := object(raw)
	if err != nil {
		return nil, err
	}
	switch src {
	case srcModelPack, srcCNAI:
		modelPack(o, mod, src)
	case srcKitfile:
		return kitfile(o, mod, layers), nil
	case srcDocker:
		dockerModel(o, mod)
	case srcOllama:
		ollama(o, mod)
	}
	return nil, nil
}

// modelPack reads a ModelPack config (CNAI's has the same shape):
// descriptor{…}, config{…, capabilities{…}} (model-spec docs/config.md).
func modelPack(o obj, mod *source.Model, src string) {
	d, c := o.obj("descriptor"), o.obj("config")
	mod.Name, mod.Version, mod.Description, mod.Vendor = d.str("name"), d.str("version"), d.str("description"), d.str("vendor")
	mod.Authors, mod.Licenses = d.strs("authors"), d.strs("licenses")
	mod.DocURL, mod.SourceURL, mod.Revision = d.str("docURL"), d.str("sourceURL"), d.str("revision")
	mod.Family = d.str("family")
	created(mod, src+":createdAt", d.str("createdAt"))
	extra(mod, "title", d.str("title"))
	for _, u := range d.strs("datasetsURL") {
		mod.Datasets = append(mod.Datasets, source.Dataset{URL: u})
	}
	mod.Architecture, mod.Format, mod.ParamSize = c.str("architecture"), c.str("format"), c.str("paramSize")
	mod.Precision, mod.Quantization = c.str("precision"), c.str("quantization")
	caps := c.obj("capabilities")
	mod.InputTypes, mod.OutputTypes = caps.strs("inputTypes"), caps.strs("outputTypes")
	extra(mod, src+":knowledgeCutoff", caps.str("knowledgeCutoff"))
	extra(mod, src+":reasoning", caps.boolean("reasoning"))
	extra(mod, src+":toolUsage", caps.boolean("toolUsage"))
	extra(mod, src+":reward", caps.boolean("reward"))
	extra(mod, src+":languages", strings.Join(caps.strs("languages"), ","))
}

// kitfile reads a ModelKit config, the Kitfile as JSON (kitops
// pkg/artifact/kitfile.go): package{…}, model{…, parts[]}, code[],
// datasets[], docs[] (and prompts[] in newer kits). Each entry links to
// its layer by digest. The package names the artifact; the model entry
// fills what the package leaves out.
func kitfile(o obj, mod *source.Model, layers map[string]bool) map[string]string {
	pkg, model := o.obj("package"), o.obj("model")
	mod.Name = firstNonEmpty(pkg.str("name"), model.str("name"))
	mod.Version = firstNonEmpty(pkg.str("version"), model.str("version"))
	mod.Description = firstNonEmpty(pkg.str("description"), model.str("description"))
	mod.Authors = pkg.strs("authors")
	for _, l := range []string{pkg.str("license"), model.str("license")} {
		if l != "" && (len(mod.Licenses) == 0 || mod.Licenses[0] != l) {
			mod.Licenses = append(mod.Licenses, l)
		}
	}
	mod.Format = model.str("format")
	extra(mod, "kitfile:manifestVersion", o.str("manifestVersion"))
	extra(mod, "kitfile:framework", model.str("framework"))
	for _, k := range []string{"name", "version", "description", "license", "path"} {
		extra(mod, "kitfile:model."+k, model.str(k))
	}
	extra(mod, "kitfile:model.parameters", model.compact("parameters"))

	parts, code, datasets := model.objs("parts"), o.objs("code"), o.objs("datasets")
	docs, prompts := o.objs("docs"), o.objs("prompts")
	// Links in kit's own layer order (model, parts, code, datasets, docs,
	// prompts): a digest named twice keeps the last.
	paths := map[string]string{}
	for _, list := range [][]obj{{model}, parts, code, datasets, docs, prompts} {
		for _, e := range list {
			if d, p := e.raw("digest"), e.raw("path"); d != "" && p != "" && len(paths) < maxKitPaths {
				paths[d] = p
			}
		}
	}
	for _, s := range []struct {
		name   string
		list   []obj
		fields []string
	}{
		{"model.parts", parts, []string{"name", "path", "license", "type"}},
		{"code", code, []string{"path", "description", "license"}},
		{"docs", docs, []string{"path", "description"}},
		{"prompts", prompts, []string{"path", "description"}},
	} {
		for i, e := range s.list[:min(len(s.list), maxKitEntries)] {
			for _, f := range s.fields {
				extra(mod, fmt.Sprintf("kitfile:%s.%d.%s", s.name, i, f), e.str(f))
			}
		}
	}
	for _, e := range datasets[:min(len(datasets), maxList)] {
		ds := source.Dataset{Name: e.str("name"), Path: e.str("path"), Description: e.str("description"), License: e.str("license")}
		// Only a layer this manifest lists is "packaged"; a digest the
		// Kitfile names but the manifest lacks is not claimed.
		if d := e.raw("digest"); layers[d] {
			ds.Digest = d
		}
		if ds != (source.Dataset{}) {
			mod.Datasets = append(mod.Datasets, ds)
		}
	}
	return paths
}

// dockerModel reads a Docker Model Runner config (model-runner
// pkg/distribution/types/config.go): config{format, quantization,
// parameters, architecture, size, context_size, gguf{}, safetensors{},
// diffusers{}}, descriptor{created}.
func dockerModel(o obj, mod *source.Model) {
	c := o.obj("config")
	mod.Format, mod.Quantization, mod.Architecture = c.str("format"), c.str("quantization"), c.str("architecture")
	mod.ParamSize = c.str("parameters") // "8.03 B"; size is the bytes ("4.58 GiB")
	mod.ContextLength = c.posInt("context_size")
	extra(mod, "docker:size", c.str("size"))
	for _, sec := range []string{"gguf", "safetensors", "diffusers"} {
		mapExtra(mod, "docker:"+sec+":", c.obj(sec))
	}
	created(mod, "docker:created", o.obj("descriptor").str("created"))
}

// ollama reads an Ollama config (ollama types/model ConfigV2). Its
// architecture and os are the image-spec platform fields (amd64, linux),
// not the model's architecture, so they stay in Extra.
func ollama(o obj, mod *source.Model) {
	mod.Format, mod.Family = o.str("model_format"), o.str("model_family")
	mod.ParamSize, mod.Quantization = o.str("model_type"), o.str("file_type")
	mod.ContextLength = o.posInt("context_length")
	extra(mod, "ollama:model_families", strings.Join(o.strs("model_families"), ","))
	extra(mod, "ollama:capabilities", strings.Join(o.strs("capabilities"), ","))
	for _, k := range []string{"renderer", "parser", "requires", "remote_host", "remote_model", "base_name", "architecture", "os"} {
		extra(mod, "ollama:"+k, o.str(k))
	}
	if n := o.posInt("embedding_length"); n > 0 {
		extra(mod, "ollama:embedding_length", strconv.FormatInt(n, 10))
	}
	draft := o.obj("draft")
	for _, k := range []string{"model_format", "architecture", "tensor_prefix", "config"} {
		extra(mod, "ollama:draft."+k, draft.str(k))
	}
	extra(mod, "ollama:generation_defaults", o.compact("generation_defaults"))
}

// Manifest annotations: OCI's pre-defined keys, then the legacy CNAI
// ones (the CloudNativeAI model-spec before the rename).
const (
	annOCI  = "org.opencontainers.image."
	annCNAI = "org.cnai.model."
)

// fromAnnotations fills the fields still empty from the manifest's
// annotations (a config says more and wins). It reports whether they
// gave anything.
func fromAnnotations(mod *source.Model, ann map[string]string) bool {
	if len(ann) == 0 {
		return false
	}
	got := false
	value := func(keys ...string) string {
		for _, k := range keys {
			if v := text(ann[k]); v != "" {
				return v
			}
		}
		return ""
	}
	set := func(dst *string, keys ...string) {
		if *dst == "" {
			if v := value(keys...); v != "" {
				*dst, got = v, true
			}
		}
	}
	list := func(dst *[]string, keys ...string) {
		if len(*dst) == 0 {
			if v := value(keys...); v != "" { // one free-form string / SPDX expression
				*dst, got = []string{v}, true
			}
		}
	}
	set(&mod.Name, annCNAI+"name")
	set(&mod.Version, annOCI+"version", annCNAI+"version")
	set(&mod.Description, annOCI+"description", annCNAI+"description")
	set(&mod.Vendor, annOCI+"vendor", annCNAI+"vendor")
	list(&mod.Authors, annOCI+"authors", annCNAI+"authors")
	list(&mod.Licenses, annOCI+"licenses", annCNAI+"licenses")
	set(&mod.DocURL, annOCI+"documentation", annCNAI+"documentation")
	set(&mod.SourceURL, annOCI+"source", annCNAI+"source")
	set(&mod.Revision, annOCI+"revision", annCNAI+"revision")
	set(&mod.Family, annCNAI+"family")
	set(&mod.Architecture, annCNAI+"architecture")
	set(&mod.Format, annCNAI+"format")
	set(&mod.ParamSize, annCNAI+"param.size")
	set(&mod.Precision, annCNAI+"precision")
	set(&mod.Quantization, annCNAI+"quantization")
	if mod.Created == "" {
		if v := value(annOCI+"created", annCNAI+"created"); v != "" {
			created(mod, "annotations:created", v)
			got = true
		}
	}
	for _, key := range []string{"title", "url"} {
		if _, ok := mod.Extra[key]; !ok {
			if v := value(annOCI+key, annCNAI+key); v != "" {
				extra(mod, key, v)
				got = true
			}
		}
	}
	return got
}

// created sets Created to an RFC 3339 time as written; anything else is
// kept under key in Extra rather than passed on as a time.
func created(mod *source.Model, key, v string) {
	if v == "" {
		return
	}
	if _, err := time.Parse(time.RFC3339, v); err == nil {
		mod.Created = v
		return
	}
	extra(mod, key, v)
}

// extra records a fact under key unless the key is taken, the value is
// empty or the model has maxExtra facts already.
func extra(mod *source.Model, key, v string) {
	v = text(v)
	if v == "" || len(mod.Extra) >= maxExtra {
		return
	}
	if mod.Extra == nil {
		mod.Extra = map[string]string{}
	}
	if _, ok := mod.Extra[key]; !ok {
		mod.Extra[key] = v
	}
}

// mapExtra records the string values of a free-form map under prefix,
// at most maxMapExtra of them, by sorted key so the cut is stable.
func mapExtra(mod *source.Model, prefix string, m obj) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		if n >= maxMapExtra {
			return
		}
		v := m.str(k)
		key := clean(k, maxKey)
		if v == "" || key == "" {
			continue
		}
		extra(mod, prefix+key, v)
		n++
	}
}

// text makes an untrusted string safe to report: control and bidi
// formatting characters become spaces (a description's line breaks
// included: reports are line-oriented), invalid UTF-8 becomes U+FFFD, and
// the result is cut to maxText bytes.
func text(s string) string { return clean(s, maxText) }

func clean(s string, n int) string {
	if s == "" {
		return ""
	}
	// Cut first so a 4 MiB string is not mapped whole; cut again after.
	s = finding.Shorten(s, 4*n)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return finding.Shorten(strings.TrimSpace(s), n)
}

// obj is a JSON object read leniently: each field is decoded on its own
// and one of the wrong type reads as absent.
type obj map[string]json.RawMessage

func object(raw []byte) (obj, error) {
	var o obj
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, err
	}
	if o == nil {
		return nil, errors.New("null")
	}
	return o, nil
}

// raw is a string field as written (for paths and digests that are
// checked where they are used).
func (o obj) raw(k string) string {
	var s string
	if json.Unmarshal(o[k], &s) != nil {
		return ""
	}
	return s
}

func (o obj) str(k string) string { return text(o.raw(k)) }

func (o obj) obj(k string) obj {
	var m obj
	if json.Unmarshal(o[k], &m) != nil {
		return nil
	}
	return m
}

func (o obj) list(k string, n int) []json.RawMessage {
	var l []json.RawMessage
	if json.Unmarshal(o[k], &l) != nil {
		return nil
	}
	return l[:min(len(l), n)]
}

// strs is a list of strings; entries of another type or empty once
// cleaned are left out.
func (o obj) strs(k string) []string {
	var out []string
	for _, e := range o.list(k, maxList) {
		var s string
		if json.Unmarshal(e, &s) == nil {
			if s = text(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// objs is a list of objects, up to maxKitPaths of them (a Kitfile links
// that many layers); entries of another type are left out.
func (o obj) objs(k string) []obj {
	var out []obj
	for _, e := range o.list(k, maxKitPaths) {
		var m obj
		if json.Unmarshal(e, &m) == nil && m != nil {
			out = append(out, m)
		}
	}
	return out
}

// boolean is "true" or "false" for a JSON boolean, "" otherwise.
func (o obj) boolean(k string) string {
	var b bool
	if v, ok := o[k]; !ok || json.Unmarshal(v, &b) != nil || string(bytes.TrimSpace(v)) == "null" {
		return ""
	}
	return strconv.FormatBool(b)
}

// posInt is a JSON integer literal in (0, maxContextLen), else 0.
func (o obj) posInt(k string) int64 {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(o[k])), 10, 64)
	if err != nil || n <= 0 || n >= maxContextLen {
		return 0
	}
	return n
}

// compact is a field's JSON, compacted and cut ("" for absent or null).
func (o obj) compact(k string) string {
	v := bytes.TrimSpace(o[k])
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return ""
	}
	return b.String()
}
