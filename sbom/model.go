package sbom

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/hallmarkdev/hallmark/formats/modelcard"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/source"
)

// Property namespace: the CycloneDX taxonomy's namespace:name form.
const ns = "hallmark:"

// facts is what the target's files and packaging say, merged.
type facts struct {
	oci  source.Model // the packaging's description, first non-empty field wins
	card *modelcard.Card
	cfg  *scan.FileResult  // config.json
	gguf map[string]string // the GGUF file's general.* metadata
	name string            // the name a weights file states (GGUF general.name)
}

func (b *builder) collect() facts {
	var f facts
	for _, m := range b.t.Models {
		mergeModel(&f.oci, m)
	}
	for i := range b.files {
		fr := &b.files[i]
		if fr.Facts == nil {
			continue
		}
		if fr.Facts.Card != nil && f.card == nil {
			f.card = fr.Facts.Card
		}
		if strings.EqualFold(baseName(fr.Name), "config.json") && fr.Facts.Format == scan.FormatJSON && f.cfg == nil && (fr.Facts.ModelType != "" || fr.Facts.Architecture != "") {
			f.cfg = fr
		}
		if fr.Facts.Format == scan.FormatGGUF && f.gguf == nil {
			f.gguf = fr.Facts.Metadata
			f.name = fr.Facts.ModelName
			if f.gguf == nil {
				f.gguf = map[string]string{}
			}
		}
	}
	return f
}

// mergeModel fills the empty fields of dst from m.
func mergeModel(dst *source.Model, m source.Model) {
	set := func(d *string, v string) {
		if *d == "" {
			*d = v
		}
	}
	set(&dst.Source, m.Source)
	set(&dst.Name, m.Name)
	set(&dst.Version, m.Version)
	set(&dst.Description, m.Description)
	set(&dst.Vendor, m.Vendor)
	set(&dst.DocURL, m.DocURL)
	set(&dst.SourceURL, m.SourceURL)
	set(&dst.Revision, m.Revision)
	set(&dst.Created, m.Created)
	set(&dst.Family, m.Family)
	set(&dst.Architecture, m.Architecture)
	set(&dst.Format, m.Format)
	set(&dst.ParamSize, m.ParamSize)
	set(&dst.Precision, m.Precision)
	set(&dst.Quantization, m.Quantization)
	set(&dst.ArtifactType, m.ArtifactType)
	set(&dst.ConfigMediaType, m.ConfigMediaType)
	if dst.ContextLength == 0 {
		dst.ContextLength = m.ContextLength
	}
	if len(dst.Authors) == 0 {
		dst.Authors = m.Authors
	}
	dst.Licenses = appendNew(dst.Licenses, m.Licenses...)
	dst.InputTypes = appendNew(dst.InputTypes, m.InputTypes...)
	dst.OutputTypes = appendNew(dst.OutputTypes, m.OutputTypes...)
	dst.Datasets = append(dst.Datasets, m.Datasets...)
	for k, v := range m.Extra {
		if dst.Extra == nil {
			dst.Extra = map[string]string{}
		}
		if _, ok := dst.Extra[k]; !ok {
			dst.Extra[k] = v
		}
	}
}

func appendNew(dst []string, vs ...string) []string {
	for _, v := range vs {
		if v != "" && !contains(dst, v) {
			dst = append(dst, v)
		}
	}
	return dst
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// model is the machine-learning-model component.
func (b *builder) model(sigs []Signature) cdx.Component {
	f := b.collect()
	t := b.t
	c := cdx.Component{Type: cdx.ComponentTypeMachineLearningModel}
	props := &propList{}

	// Identity.
	hfID, hfRev := hfCache(t.Root)
	c.Name = first(f.oci.Name, cardName(f.card), f.name, lastSegment(t.Repository), lastSegment(hfID), baseName(t.Root), baseName(t.Target), "model")
	c.Version = first(f.oci.Version, f.gguf["general.version"], t.Tag)
	c.Description = first(f.oci.Description, f.gguf["general.description"])
	c.BOMRef = b.ref("model", c.Name)
	switch {
	case t.Digest != "":
		c.PackageURL = ociPURL(t.Registry, t.Repository, t.Digest, t.Tag, strings.HasPrefix(t.Target, "oci-layout://"))
		if hx, ok := strings.CutPrefix(t.Digest, "sha256:"); ok {
			c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hx}}
		}
	case hfID != "":
		c.PackageURL = "pkg:huggingface/" + hfID + "@" + hfRev
	}
	if c.Hashes == nil && t.Kind == "file" && len(b.files) == 1 && b.files[0].SHA256 != "" {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: b.files[0].SHA256}}
	}
	if authors := appendNew(nil, append(append([]string{}, f.oci.Authors...), f.gguf["general.author"])...); len(authors) > 0 && b.spec == Spec16 {
		var as []cdx.OrganizationalContact
		for _, a := range authors {
			as = append(as, cdx.OrganizationalContact{Name: a})
		}
		c.Authors = &as
	}
	if v := first(f.oci.Vendor, f.gguf["general.organization"]); v != "" {
		if b.spec == Spec16 {
			c.Manufacturer = &cdx.OrganizationalEntity{Name: v}
		} else {
			c.Supplier = &cdx.OrganizationalEntity{Name: v}
		}
	}

	// Licences, in the order the sources are trusted: the packaging, the
	// model card, the weights' own metadata, config files.
	c.Licenses = b.licenses(f)

	// External references.
	var ext []cdx.ExternalReference
	addExt := func(typ cdx.ExternalReferenceType, u, comment string) {
		if u == "" || !usableURL(u) {
			return
		}
		if typ != cdx.ERTypeDistribution && typ != cdx.ERTypeAttestation && typ != cdx.ERTypeDigitalSignature && typ != cdx.ERTypeOther && !webURL(u) {
			return // a link the model states: http(s) only
		}
		for _, e := range ext {
			if e.Type == typ && e.URL == u {
				return
			}
		}
		ext = append(ext, cdx.ExternalReference{Type: typ, URL: u, Comment: comment})
	}
	if t.Digest != "" && !strings.HasPrefix(t.Target, "oci-layout://") {
		addExt(cdx.ERTypeDistribution, "oci://"+t.Registry+"/"+t.Repository+"@"+t.Digest, "the artifact as pulled")
	}
	if hfID != "" {
		addExt(cdx.ERTypeWebsite, "https://huggingface.co/"+hfID, "")
	}
	addExt(cdx.ERTypeDocumentation, f.oci.DocURL, "")
	addExt(cdx.ERTypeVCS, f.oci.SourceURL, "")
	if f.card != nil {
		addExt(cdx.ERTypeLicense, f.card.LicenseLink, "model card license_link")
	}
	addExt(cdx.ERTypeLicense, f.gguf["general.license.link"], "GGUF general.license.link")
	addExt(cdx.ERTypeWebsite, f.gguf["general.url"], "")
	addExt(cdx.ERTypeVCS, f.gguf["general.repo_url"], "")
	for _, s := range sigs {
		if !s.Verified || s.Ref == "" {
			continue
		}
		typ := cdx.ERTypeDigitalSignature
		if s.Attestation {
			typ = cdx.ERTypeAttestation
		}
		if b.spec == Spec15 {
			typ = cdx.ERTypeOther // attestation and digital-signature are 1.6 types
		}
		addExt(typ, s.Ref, "verified by hallmark: "+s.Format+" "+s.Method)
	}
	if len(ext) > 0 {
		c.ExternalReferences = &ext
	}

	// Model card, datasets, base models.
	b.addDatasets(f)
	c.ModelCard = b.modelCard(f)
	c.Pedigree = b.pedigree(f)

	// Files.
	var files []cdx.Component
	for i := range b.files {
		files = append(files, b.fileComponent(&b.files[i]))
	}
	if len(files) > 0 {
		c.Components = &files
	}

	// Properties: facts, scan result, signatures.
	b.modelProps(props, f, sigs)
	if len(props.l) > 0 {
		c.Properties = &props.l
	}
	return c
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func cardName(c *modelcard.Card) string {
	if c == nil {
		return ""
	}
	return c.ModelName
}

func lastSegment(repo string) string {
	if i := strings.LastIndexByte(repo, '/'); i >= 0 {
		return repo[i+1:]
	}
	return repo
}

var hfSnapshot = regexp.MustCompile(`(?:^|/)models--([A-Za-z0-9][A-Za-z0-9._-]*)--([A-Za-z0-9][A-Za-z0-9._-]*)/snapshots/([0-9a-f]{40})(?:/|$)`)

// hfCache reads a Hugging Face id and revision from a hub cache path
// (…/models--org--name/snapshots/<commit>), the layout huggingface_hub
// writes: the one place a local folder states both.
func hfCache(root string) (id, rev string) {
	m := hfSnapshot.FindStringSubmatch(strings.ReplaceAll(root, "\\", "/"))
	if m == nil || strings.Contains(m[1], "--") || strings.Contains(m[2], "--") {
		return "", ""
	}
	return m[1] + "/" + m[2], m[3]
}

// ociPURL is the purl-spec oci type: the name is the repository's last
// segment lower-cased, the version the manifest digest.
func ociPURL(registry, repo, digest, tag string, layout bool) string {
	name := strings.ToLower(lastSegment(repo))
	if name == "" {
		return ""
	}
	p := "pkg:oci/" + url.PathEscape(name) + "@" + strings.ReplaceAll(digest, ":", "%3A")
	q := url.Values{}
	if !layout && registry != "" {
		q.Set("repository_url", registry+"/"+repo)
	}
	if tag != "" {
		q.Set("tag", tag)
	}
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// usableURL keeps references that are absolute URLs without spaces or
// control characters (the schema's iri-reference), in the schemes hallmark
// writes: http(s) for links the model states, oci and file for where
// hallmark found a signature. A model card's javascript: or data: link
// never reaches a BOM viewer.
func usableURL(u string) bool {
	if len(u) > 2000 || strings.ContainsAny(u, " \t\r\n\"<>\\^`{|}") {
		return false
	}
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch strings.ToLower(p.Scheme) {
	case "http", "https", "oci":
		return p.Host != ""
	case "file":
		return p.Path != ""
	}
	return false
}

// webURL is usableURL for links taken from the model's own text: http(s)
// only.
func webURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && usableURL(u) && (strings.EqualFold(p.Scheme, "http") || strings.EqualFold(p.Scheme, "https"))
}

// propList collects properties in a fixed order.
type propList struct{ l []cdx.Property }

func (p *propList) add(name, value string) {
	if value == "" {
		return
	}
	p.l = append(p.l, cdx.Property{Name: ns + name, Value: value})
}

func (p *propList) int(name string, v int64) {
	if v > 0 {
		p.add(name, strconv.FormatInt(v, 10))
	}
}

// weights picks the format holding the model's tensors: the format of
// the most tensor bytes (a folder with both safetensors and a GGUF
// export counts one of them, not both).
func (b *builder) weights() (format string, files []*scan.FileResult) {
	bytes := map[string]int64{}
	for i := range b.files {
		fr := &b.files[i]
		if fr.Facts == nil || fr.Facts.Tensors == 0 && fr.Facts.Parameters == 0 {
			continue
		}
		bytes[formatName(fr)] += fr.Size
	}
	if len(bytes) == 0 {
		// No parser counted tensors (pickle-based checkpoints): the
		// largest scanned file in a model format holds the weights.
		var big *scan.FileResult
		for i := range b.files {
			fr := &b.files[i]
			switch formatName(fr) {
			case scan.FormatJSON, scan.FormatPython, scan.FormatJinja, scan.FormatUnknown, "":
				continue
			}
			if fr.Scanned && (big == nil || fr.Size > big.Size) {
				big = fr
			}
		}
		if big == nil {
			return "", nil
		}
		return formatName(big), nil
	}
	var best int64 = -1
	for k, v := range bytes {
		if v > best || v == best && k < format {
			format, best = k, v
		}
	}
	for i := range b.files {
		fr := &b.files[i]
		if fr.Facts != nil && (fr.Facts.Tensors > 0 || fr.Facts.Parameters > 0) && formatName(fr) == format {
			files = append(files, fr)
		}
	}
	return format, files
}

func formatName(fr *scan.FileResult) string {
	if fr.Facts != nil && fr.Facts.Format == scan.FormatZip && strings.HasPrefix(fr.Facts.Framework, "pytorch") {
		return "pytorch"
	}
	if fr.Facts != nil && len(fr.Facts.WeightFormats) == 1 {
		return fr.Facts.WeightFormats[0] // a GGUF in a tar layer is a GGUF model
	}
	if fr.Facts != nil && fr.Facts.Format != "" {
		return fr.Facts.Format
	}
	return fr.Format
}

func (b *builder) modelProps(p *propList, f facts, sigs []Signature) {
	format, wfiles := b.weights()
	p.add("model:format", first(format, f.oci.Format))
	var params, tensors int64
	var dtypes []string
	quant := ""
	for _, fr := range wfiles {
		params += fr.Facts.Parameters
		tensors += int64(fr.Facts.Tensors)
		dtypes = appendNew(dtypes, fr.Facts.Dtypes...)
		quant = first(quant, fr.Facts.Quantization)
	}
	if f.cfg != nil {
		quant = first(quant, f.cfg.Facts.Quantization)
	}
	sort.Strings(dtypes)
	p.int("model:parameters", params)
	p.add("model:parameter_size", f.oci.ParamSize)
	p.int("model:tensors", tensors)
	p.add("model:dtypes", strings.Join(dtypes, ","))
	p.add("model:precision", f.oci.Precision)
	p.add("model:quantization", first(quant, f.oci.Quantization))
	if q := f.gguf["general.quantization_version"]; q != "" {
		p.add("model:gguf_quantization_version", q)
	}
	var ctx int64
	for _, fr := range wfiles {
		if ctx == 0 {
			ctx = fr.Facts.ContextLength
		}
	}
	if ctx == 0 && f.cfg != nil {
		ctx = f.cfg.Facts.ContextLength
	}
	if ctx == 0 {
		ctx = f.oci.ContextLength
	}
	p.int("model:context_length", ctx)
	if f.cfg != nil {
		p.add("model:framework", f.cfg.Facts.Framework)
		for _, k := range sortedKeys(f.cfg.Facts.Metadata) {
			if k != "base_model" {
				p.add("config:"+propKey(k), f.cfg.Facts.Metadata[k])
			}
		}
	}
	for i := range b.files {
		fr := &b.files[i]
		if fr.Facts == nil || !strings.EqualFold(baseName(fr.Name), "generation_config.json") {
			continue
		}
		for _, k := range sortedKeys(fr.Facts.Metadata) {
			p.add("generation:"+propKey(k), fr.Facts.Metadata[k])
		}
		break
	}
	// Every chat template the model carries, by content: the hash a
	// reviewer pins, whichever file it came from.
	seen := map[string]bool{}
	for i := range b.files {
		fr := &b.files[i]
		if fr.Facts == nil {
			continue
		}
		for _, ct := range fr.Facts.ChatTemplates {
			if !seen[ct.SHA256] {
				seen[ct.SHA256] = true
				p.add("model:chat_template_sha256", ct.SHA256)
			}
		}
	}
	if c := f.card; c != nil {
		p.add("card:base_model_relation", c.BaseModelRelation)
		p.add("card:library_name", c.LibraryName)
		p.add("card:language", strings.Join(c.Languages, ","))
		p.add("card:license_name", c.LicenseName)
		if c.CO2 != nil {
			p.add("card:co2_eq_emissions_grams", c.CO2.Emissions)
			p.add("card:co2_source", c.CO2.Source)
			p.add("card:co2_training_type", c.CO2.TrainingType)
			p.add("card:co2_geographical_location", c.CO2.GeographicalLocation)
			p.add("card:co2_hardware_used", c.CO2.HardwareUsed)
		}
	}
	for _, k := range []string{"general.basename", "general.size_label", "general.finetune", "general.license.name", "tokenizer.ggml.model"} {
		p.add("gguf:"+propKey(k), f.gguf[k])
	}
	if b.t.Family != "" {
		p.add("oci:family", b.t.Family)
		p.add("oci:artifact_type", f.oci.ArtifactType)
		p.add("oci:config_media_type", f.oci.ConfigMediaType)
		p.add("oci:created", f.oci.Created)
		p.add("oci:revision", f.oci.Revision)
		for _, k := range sortedKeys(f.oci.Extra) {
			p.add("oci:"+propKey(k), f.oci.Extra[k])
		}
	}

	// The scan, and the gate's decision when `check` made one.
	r := b.res
	verdict := "clean"
	switch {
	case r.Failed():
		verdict = "failed"
	case r.Incomplete():
		verdict = "incomplete"
	}
	p.add("scan:verdict", verdict)
	if g := r.Gate; g != nil {
		p.add("gate:verdict", g.Verdict)
		for i, reason := range g.Reasons {
			if i == 16 {
				p.add("gate:reason", fmt.Sprintf("and %d more", len(g.Reasons)-i))
				break
			}
			p.add("gate:reason", reason)
		}
		p.add("gate:policy_digest", g.Digest)
	}
	p.add("scan:fail_on", r.FailOn.String())
	p.add("scan:rules_version", r.RulesVersion)
	p.int("scan:files", int64(len(b.files)))
	for _, sev := range []scan.Severity{scan.Critical, scan.High, scan.Medium, scan.Low, scan.Info} {
		n := 0
		for i := range b.files {
			for _, fd := range b.files[i].Findings {
				if fd.Severity == sev && fd.Suppressed == "" {
					n += max(fd.Count, 1)
				}
			}
		}
		p.add("scan:findings:"+sev.String(), strconv.Itoa(n))
	}
	suppressed := 0
	for i := range b.files {
		for _, fd := range b.files[i].Findings {
			if fd.Suppressed != "" {
				suppressed += max(fd.Count, 1)
			}
		}
	}
	p.int("scan:suppressed", int64(suppressed))
	p.int("scan:incomplete_files", int64(countIf(b.files, func(fr *scan.FileResult) bool { return fr.Scanned && !fr.Complete })))
	p.int("scan:errors", int64(countIf(b.files, func(fr *scan.FileResult) bool { return fr.Error != "" })))

	// Signatures.
	for _, s := range sigs {
		p.add("signature:verified", strconv.FormatBool(s.Verified))
		p.add("signature:format", s.Format)
		p.add("signature:method", s.Method)
		p.add("signature:identity", s.Identity)
		p.add("signature:issuer", s.Issuer)
		p.add("signature:key_fingerprint", s.Key)
		p.add("signature:ref", s.Ref)
	}
}

func countIf(fs []scan.FileResult, pred func(*scan.FileResult) bool) int {
	n := 0
	for i := range fs {
		if pred(&fs[i]) {
			n++
		}
	}
	return n
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// propKey keeps a key within the property taxonomy's characters
// ([A-Za-z0-9_-] and ":" between namespaces; dots become underscores).
func propKey(k string) string {
	var sb strings.Builder
	for _, r := range k {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == ':':
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
		if sb.Len() >= 100 {
			break
		}
	}
	return sb.String()
}

// fileComponent is one file of the model.
func (b *builder) fileComponent(fr *scan.FileResult) cdx.Component {
	c := cdx.Component{Type: cdx.ComponentTypeFile, Name: fr.Name, BOMRef: b.ref("file", fr.Name)}
	if fr.SHA256 != "" {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: fr.SHA256}}
	}
	p := &propList{}
	p.int("file:size", fr.Size)
	p.add("file:format", formatName(fr))
	p.add("file:verdict", fr.Verdict)
	p.add("oci:media_type", fr.MediaType)
	if fr.Error != "" {
		p.add("file:error", fr.Error)
	}
	if x := fr.Facts; x != nil {
		p.add("file:framework", x.Framework)
		p.add("file:format_version", x.FormatVersion)
		p.add("file:producer", x.Producer)
		p.add("file:architecture", x.Architecture)
		p.int("file:parameters", x.Parameters)
		p.int("file:tensors", int64(x.Tensors))
		p.add("file:dtypes", strings.Join(x.Dtypes, ","))
		p.add("file:quantization", x.Quantization)
		p.int("file:context_length", x.ContextLength)
		p.add("file:opsets", strings.Join(x.Opsets, ","))
		for _, ct := range x.ChatTemplates {
			p.add("file:chat_template", fmt.Sprintf("%s sha256:%s", ct.Source, ct.SHA256))
		}
	}
	n := map[scan.Severity]int{}
	suppressed := 0
	for _, fd := range fr.Findings {
		if fd.Suppressed != "" {
			suppressed += max(fd.Count, 1)
			continue
		}
		n[fd.Severity] += max(fd.Count, 1)
	}
	p.int("file:suppressed", int64(suppressed))
	for _, sev := range []scan.Severity{scan.Critical, scan.High, scan.Medium, scan.Low, scan.Info} {
		if n[sev] > 0 {
			p.add("file:findings:"+sev.String(), strconv.Itoa(n[sev]))
		}
	}
	if len(p.l) > 0 {
		c.Properties = &p.l
	}
	return c
}

// modelCard is the CycloneDX modelCard: what the model does, its shape,
// the data it learned from and how it scored.
func (b *builder) modelCard(f facts) *cdx.MLModelCard {
	mp := cdx.MLModelParameters{}
	if f.card != nil {
		mp.Task = f.card.PipelineTag
	}
	family := f.oci.Family
	if f.cfg != nil && f.cfg.Facts.ModelType != "" {
		family = f.cfg.Facts.ModelType
	}
	if family == "" {
		for i := range b.files {
			if fr := &b.files[i]; fr.Facts != nil && fr.Facts.Format == scan.FormatGGUF && fr.Facts.Architecture != "" {
				family = fr.Facts.Architecture
				break
			}
		}
	}
	mp.ArchitectureFamily = family
	if f.cfg != nil && f.cfg.Facts.Architecture != f.cfg.Facts.ModelType {
		mp.ModelArchitecture = f.cfg.Facts.Architecture
	}
	if mp.ModelArchitecture == "" && f.oci.Architecture != "" && f.oci.Architecture != family {
		mp.ModelArchitecture = f.oci.Architecture
	}
	if len(b.dsRefs) > 0 {
		var ds []cdx.MLDatasetChoice
		for _, r := range b.dsRefs {
			ds = append(ds, cdx.MLDatasetChoice{Ref: r})
		}
		mp.Datasets = &ds
	}
	io := func(types []string, tensors func(*scan.Facts) []string) *[]cdx.MLInputOutputParameters {
		var out []cdx.MLInputOutputParameters
		for _, t := range types {
			out = append(out, cdx.MLInputOutputParameters{Format: t})
		}
		if len(out) == 0 {
			// The graph's own signature (ONNX, TensorFlow, Keras).
			_, wfiles := b.weights()
			for _, fr := range wfiles {
				for _, s := range tensors(fr.Facts) {
					if len(out) < 64 {
						out = append(out, cdx.MLInputOutputParameters{Format: s})
					}
				}
			}
		}
		if len(out) == 0 {
			return nil
		}
		return &out
	}
	mp.Inputs = io(f.oci.InputTypes, func(x *scan.Facts) []string { return x.Inputs })
	mp.Outputs = io(f.oci.OutputTypes, func(x *scan.Facts) []string { return x.Outputs })

	mc := &cdx.MLModelCard{}
	if mp != (cdx.MLModelParameters{}) {
		mc.ModelParameters = &mp
	}
	if f.card != nil && len(f.card.Results) > 0 {
		var pm []cdx.MLPerformanceMetric
		for _, r := range f.card.Results {
			slice := first(r.Dataset, r.DatasetType)
			if r.Split != "" {
				slice += "/" + r.Split
			}
			typ := r.Metric
			if r.Name != "" && r.Name != r.Metric {
				typ += " (" + r.Name + ")"
			}
			if r.Task != "" {
				slice = first(slice, r.Task)
			}
			pm = append(pm, cdx.MLPerformanceMetric{Type: typ, Value: r.Value, Slice: slice})
		}
		mc.QuantitativeAnalysis = &cdx.MLQuantitativeAnalysis{PerformanceMetrics: &pm}
	}
	if mc.ModelParameters == nil && mc.QuantitativeAnalysis == nil {
		return nil
	}
	mc.BOMRef = b.ref("model-card", "0")
	return mc
}

var hfRepoID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$`)

// addDatasets makes one data component per dataset a source names.
func (b *builder) addDatasets(f facts) {
	type ds struct{ name, url, license, desc, source string }
	var all []ds
	seen := map[string]bool{}
	add := func(d ds) {
		key := strings.ToLower(first(d.name, d.url))
		if key == "" || seen[key] || len(all) >= 256 {
			return
		}
		seen[key] = true
		all = append(all, d)
	}
	if f.card != nil {
		for _, name := range f.card.Datasets {
			d := ds{name: name, source: "model card"}
			if hfRepoID.MatchString(name) {
				// The card's datasets key holds Hub dataset ids.
				d.url = "https://huggingface.co/datasets/" + name
			}
			add(d)
		}
	}
	for _, d := range f.oci.Datasets {
		add(ds{name: first(d.Name, d.Path, d.URL), url: d.URL, license: d.License, desc: d.Description, source: "packaging"})
	}
	for i := 0; i < 256; i++ {
		k := "general.dataset." + strconv.Itoa(i) + "."
		name, repo := f.gguf[k+"name"], f.gguf[k+"repo_url"]
		if name == "" && repo == "" {
			break
		}
		add(ds{name: first(name, repo), url: repo, source: "GGUF metadata"})
	}
	for _, d := range all {
		ref := b.ref("dataset", d.name)
		cd := cdx.ComponentData{Type: cdx.ComponentDataTypeDataset, Name: d.name, Description: d.desc}
		if d.url != "" && webURL(d.url) {
			cd.Contents = &cdx.ComponentDataContents{URL: d.url}
		}
		c := cdx.Component{Type: cdx.ComponentTypeData, Name: d.name, BOMRef: ref, Data: &[]cdx.ComponentData{cd}}
		if d.license != "" {
			c.Licenses = b.licenseList([]licenseIn{{text: d.license}})
		}
		c.Properties = &[]cdx.Property{{Name: ns + "dataset:source", Value: d.source}}
		b.datasets = append(b.datasets, c)
		b.dsRefs = append(b.dsRefs, ref)
	}
}

// pedigree names the base models the card and the GGUF metadata state.
func (b *builder) pedigree(f facts) *cdx.Pedigree {
	type base struct{ id, url, source string }
	var bases []base
	seen := map[string]bool{}
	add := func(x base) {
		if x.id == "" || seen[strings.ToLower(x.id)] || len(bases) >= 64 {
			return
		}
		seen[strings.ToLower(x.id)] = true
		bases = append(bases, x)
	}
	if f.card != nil {
		for _, id := range f.card.BaseModels {
			add(base{id: id, source: "model card"})
		}
	}
	for i := 0; i < 64; i++ {
		k := "general.base_model." + strconv.Itoa(i) + "."
		name, org, repo := f.gguf[k+"name"], f.gguf[k+"organization"], f.gguf[k+"repo_url"]
		if name == "" && repo == "" {
			break
		}
		id := name
		if u, err := url.Parse(repo); err == nil && u.Host == "huggingface.co" && hfRepoID.MatchString(strings.Trim(u.Path, "/")) {
			id = strings.Trim(u.Path, "/")
		} else if org != "" && name != "" {
			id = org + "/" + name
		}
		add(base{id: id, url: repo, source: "GGUF metadata"})
	}
	if len(bases) == 0 {
		return nil
	}
	var anc []cdx.Component
	for _, x := range bases {
		c := cdx.Component{Type: cdx.ComponentTypeMachineLearningModel, Name: x.id, BOMRef: b.ref("base-model", x.id)}
		if hfRepoID.MatchString(x.id) && strings.Contains(x.id, "/") {
			c.PackageURL = "pkg:huggingface/" + x.id
			if x.url == "" {
				x.url = "https://huggingface.co/" + x.id
			}
		}
		if webURL(x.url) {
			c.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeWebsite, URL: x.url}}
		}
		c.Properties = &[]cdx.Property{{Name: ns + "base_model:source", Value: x.source}}
		if f.card != nil && f.card.BaseModelRelation != "" && x.source == "model card" {
			*c.Properties = append(*c.Properties, cdx.Property{Name: ns + "base_model:relation", Value: f.card.BaseModelRelation})
		}
		anc = append(anc, c)
	}
	return &cdx.Pedigree{Ancestors: &anc}
}
