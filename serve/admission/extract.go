package admission

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Caps on one object. Reaching one is an error (the server denies): an
// object with more models than hallmark will check is not checked.
const (
	MaxRefs      = 256  // distinct model references
	MaxLocations = 4096 // strings examined as model locations, duplicates included
)

// Caps on the configuration.
const (
	maxExtraRules = 64
	maxRulePaths  = 16
)

// kserveSourceURIAnnotation is set by KServe on the pods (and pod
// templates) of a predictor, transformer or explainer; its pod mutator
// reads it to inject the storage initializer or the modelcar.
const kserveSourceURIAnnotation = "internal.serving.kserve.io/storage-initializer-sourceuri"

const kserveGroup = "serving.kserve.io"

// Ref is one model an object names.
type Ref struct {
	Ref  string // normalised: "oci://registry/repo:tag" or "oci://registry/repo@sha256:…"
	Path string // where in the object: "spec.volumes[2].image.reference"
	Raw  string // as written
}

// PathRule names model locations in objects of one kind.
type PathRule struct {
	Group string   `json:"group" yaml:"group"` // API group; "" is the core group
	Kind  string   `json:"kind" yaml:"kind"`
	Paths []string `json:"paths" yaml:"paths"` // JSONPath subset, see the package doc
}

// Rules says where models are found. Decode the configuration over
// DefaultRules(); the package doc shows the YAML.
type Rules struct {
	// PodImageVolumes: Pod volumes[].image.reference (KEP-4639 image
	// volumes) are models.
	PodImageVolumes bool `json:"podImageVolumes" yaml:"podImageVolumes"`
	// ModelContainersAnnotation names an annotation holding a comma list
	// of container names whose image is a model (init containers that
	// carry one). "" turns it off.
	ModelContainersAnnotation string `json:"modelContainersAnnotation" yaml:"modelContainersAnnotation"`
	// ModelsAnnotation names an annotation, on any object, holding a comma
	// or space separated list of model references. "" turns it off.
	ModelsAnnotation string `json:"modelsAnnotation" yaml:"modelsAnnotation"`
	// KServe: read serving.kserve.io objects and KServe's pod annotation.
	KServe bool `json:"kserve" yaml:"kserve"`
	// Extra rules for other kinds.
	Extra []PathRule `json:"extra,omitempty" yaml:"extra,omitempty"`
	// NonOCI is what to do with a model location that is not OCI (s3://,
	// gs://, hf://, pvc://…): "allow" ("" too) with a warning, or "deny".
	NonOCI string `json:"nonOCI" yaml:"nonOCI"`
	// RequireDigest refuses models named by tag: a validating webhook
	// cannot pin what the node pulls later, and a tag can move after
	// admission. The server enforces it.
	RequireDigest bool `json:"requireDigest" yaml:"requireDigest"`
}

// DefaultRules returns the documented defaults.
func DefaultRules() Rules {
	return Rules{
		PodImageVolumes:           true,
		ModelContainersAnnotation: "hallmark.dev/model-containers",
		ModelsAnnotation:          "hallmark.dev/models",
		KServe:                    true,
		NonOCI:                    "allow",
	}
}

// Kubernetes qualified names (annotation keys): an optional DNS subdomain
// prefix and "/", then a name of at most 63 characters.
var (
	qualifiedNameRE = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	dnsSubdomainRE  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	kindRE          = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,62}$`)
)

func validAnnotationKey(k string) bool {
	prefix, name, ok := strings.Cut(k, "/")
	if !ok {
		prefix, name = "", k
	} else if prefix == "" || len(prefix) > 253 || !dnsSubdomainRE.MatchString(prefix) {
		return false
	}
	return len(name) <= 63 && qualifiedNameRE.MatchString(name)
}

// Validate reports every mistake in the rules, one per line.
func (r Rules) Validate() error {
	var errs []error
	switch r.NonOCI {
	case "", "allow", "deny":
	default:
		errs = append(errs, fmt.Errorf("nonOCI: %q is neither allow nor deny", clip(r.NonOCI, 64)))
	}
	for _, a := range []struct{ name, key string }{
		{"modelContainersAnnotation", r.ModelContainersAnnotation},
		{"modelsAnnotation", r.ModelsAnnotation},
	} {
		if a.key != "" && !validAnnotationKey(a.key) {
			errs = append(errs, fmt.Errorf("%s: %q is not an annotation key", a.name, clip(a.key, 64)))
		}
	}
	if len(r.Extra) > maxExtraRules {
		errs = append(errs, fmt.Errorf("extra: more than %d rules", maxExtraRules))
	}
	for i, e := range r.Extra {
		if i == maxExtraRules {
			break
		}
		if !kindRE.MatchString(e.Kind) {
			errs = append(errs, fmt.Errorf("extra[%d].kind: %q is not a kind", i, clip(e.Kind, 64)))
		}
		if e.Group != "" && (len(e.Group) > 253 || !dnsSubdomainRE.MatchString(e.Group)) {
			errs = append(errs, fmt.Errorf("extra[%d].group: %q is not an API group", i, clip(e.Group, 64)))
		}
		if len(e.Paths) == 0 || len(e.Paths) > maxRulePaths {
			errs = append(errs, fmt.Errorf("extra[%d].paths: want 1 to %d paths", i, maxRulePaths))
		}
		for j, p := range e.Paths {
			if j == maxRulePaths {
				break
			}
			if _, err := parsePath(p); err != nil {
				errs = append(errs, fmt.Errorf("extra[%d].paths[%d] %q: %v", i, j, clip(p, 64), err))
			}
		}
	}
	return errors.Join(errs...)
}

// DenyError is Extract's error when the rules refuse the object without
// any check: a non-OCI location under NonOCI "deny", or too many models.
type DenyError struct {
	Path   string // where in the object, or ""
	Reason string
}

func (e *DenyError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Extract returns the model refs of the review's object with warnings
// (non-OCI locations allowed by policy, references that do not parse,
// annotated containers that do not exist). Refs are de-duplicated: for
// the same Ref the first Path is kept. Any error means the server should
// deny: the object cannot be read, the rules are invalid, or the rules
// refuse it (*DenyError).
func Extract(r *Review, rules Rules) (refs []Ref, warnings []string, err error) {
	if r == nil {
		return nil, nil, errors.New("no review")
	}
	if err := rules.Validate(); err != nil {
		return nil, nil, fmt.Errorf("invalid rules: %w", err)
	}
	switch r.Operation {
	case "DELETE", "CONNECT":
		return nil, nil, nil
	}
	if r.SubResource != "" && r.SubResource != "ephemeralcontainers" {
		return nil, nil, nil
	}
	if len(r.Object) == 0 || isNull(r.Object) {
		return nil, nil, errors.New("request.object is missing")
	}
	if len(r.Object) > MaxReviewSize {
		return nil, nil, fmt.Errorf("request.object is larger than %d MiB", MaxReviewSize>>20)
	}
	obj, err := object(r.Object)
	if err != nil || obj == nil {
		if obj == nil && err == nil {
			return nil, nil, errors.New("request.object: not a JSON object")
		}
		return nil, nil, fmt.Errorf("request.object: %s", jsonProblem(err, "an object"))
	}
	x := &extractor{rules: rules, seen: map[string]bool{}, names: map[string]string{}, found: map[string]bool{}}
	x.object(r.ObjectKind, obj)
	x.checkNames()
	warnings = x.finishWarnings()
	if x.err != nil {
		return nil, warnings, x.err
	}
	return x.refs, warnings, nil
}

// locKind says how a string found in an object is read.
type locKind int

const (
	locImage locKind = iota // an image reference (container image, image volume)
	locURI                  // a storage URI: oci:// is a model, anything else is non-OCI
	locAny                  // an oci:// URI, another URI (non-OCI) or a bare image reference
)

type extractor struct {
	rules     Rules
	refs      []Ref
	seen      map[string]bool
	warnings  []string
	dropped   int // warnings over MaxWarnings
	locations int
	err       error
	names     map[string]string // model container name → annotation path naming it
	found     map[string]bool   // model container names seen in a pod spec
}

func (x *extractor) fail(err error) {
	if x.err == nil {
		x.err = err
	}
}

func (x *extractor) warn(format string, args ...any) {
	if len(x.warnings) == MaxWarnings {
		x.dropped++
		return
	}
	x.warnings = append(x.warnings, fmt.Sprintf(format, args...))
}

func (x *extractor) finishWarnings() []string {
	if x.dropped > 0 {
		x.warnings[MaxWarnings-1] = fmt.Sprintf("…and %d more warnings", x.dropped+1)
	}
	return x.warnings
}

// obj, arr and str read one level and fail on a value of the wrong type:
// the API server has validated the object against its schema, so a
// mismatch means hallmark misreads it, and an unread field may hide a model.
func (x *extractor) obj(raw json.RawMessage, path string) map[string]json.RawMessage {
	if x.err != nil {
		return nil
	}
	m, err := object(raw)
	if err != nil {
		x.fail(fmt.Errorf("cannot read %s: %s", pathOrObject(path), jsonProblem(err, "an object")))
	}
	return m
}

func (x *extractor) arr(raw json.RawMessage, path string) []json.RawMessage {
	if x.err != nil {
		return nil
	}
	a, err := array(raw)
	if err != nil {
		x.fail(fmt.Errorf("cannot read %s: %s", pathOrObject(path), jsonProblem(err, "a list")))
	}
	return a
}

func (x *extractor) str(m map[string]json.RawMessage, key, path string) string {
	if x.err != nil || m == nil {
		return ""
	}
	s, err := stringField(m, key)
	if err != nil {
		x.fail(fmt.Errorf("cannot read %s: not a string", path))
	}
	return s
}

func pathOrObject(p string) string {
	if p == "" {
		return "the object"
	}
	return p
}

// add examines one model location.
func (x *extractor) add(kind locKind, path, raw string) {
	if x.err != nil || raw == "" {
		return
	}
	x.locations++
	if x.locations > MaxLocations {
		x.fail(&DenyError{Reason: fmt.Sprintf("more than %d model locations in one object", MaxLocations)})
		return
	}
	image, isImage := raw, kind == locImage
	if !isImage {
		if img, ok := ociScheme(raw); ok {
			image, isImage = img, true
		} else if kind == locAny && !hasScheme(raw) {
			isImage = true
		}
	}
	if !isImage {
		x.nonOCI(path, raw)
		return
	}
	ref, err := NormalizeImage(image)
	if err != nil {
		x.warn("%s: %q is not a valid image reference (%v); hallmark did not check it", path, clip(raw, 128), err)
		return
	}
	if x.seen[ref] {
		return
	}
	if len(x.refs) == MaxRefs {
		x.fail(&DenyError{Reason: fmt.Sprintf("more than %d model references in one object", MaxRefs)})
		return
	}
	x.seen[ref] = true
	x.refs = append(x.refs, Ref{Ref: ref, Path: path, Raw: raw})
}

func (x *extractor) nonOCI(path, raw string) {
	if x.rules.NonOCI == "deny" {
		x.fail(&DenyError{Path: path, Reason: fmt.Sprintf("%q is not an OCI reference, and only OCI models are allowed (nonOCI: deny)", clip(raw, 128))})
		return
	}
	x.warn("%s: %q is not an OCI reference; hallmark did not check it (nonOCI: allow)", path, clip(raw, 128))
}

// object dispatches on request.kind. The version is not compared: the
// fields read are the same in every served version.
func (x *extractor) object(k GroupVersionKind, obj map[string]json.RawMessage) {
	x.metadata(obj["metadata"], "metadata")
	switch {
	case k.Group == "" && k.Kind == "Pod":
		x.podSpec(obj["spec"], "spec")
	case k.Group == "" && k.Kind == "PodTemplate":
		x.template(obj["template"], "template")
	case k.Group == "" && k.Kind == "ReplicationController",
		k.Group == "apps" && (k.Kind == "Deployment" || k.Kind == "StatefulSet" || k.Kind == "DaemonSet" || k.Kind == "ReplicaSet"),
		k.Group == "batch" && k.Kind == "Job":
		spec := x.obj(obj["spec"], "spec")
		x.template(spec["template"], "spec.template")
	case k.Group == "batch" && k.Kind == "CronJob":
		spec := x.obj(obj["spec"], "spec")
		jt := x.obj(spec["jobTemplate"], "spec.jobTemplate")
		x.metadata(jt["metadata"], "spec.jobTemplate.metadata")
		jspec := x.obj(jt["spec"], "spec.jobTemplate.spec")
		x.template(jspec["template"], "spec.jobTemplate.spec.template")
	case k.Group == kserveGroup && x.rules.KServe:
		x.kserve(k.Kind, obj)
	}
	for _, rule := range x.rules.Extra {
		if rule.Group != k.Group || rule.Kind != k.Kind {
			continue
		}
		for _, p := range rule.Paths {
			steps, err := parsePath(p)
			if err != nil { // Validate ran first; kept for safety
				x.fail(fmt.Errorf("invalid rules: %v", err))
				return
			}
			x.walk(obj, steps)
		}
	}
}

// metadata reads the annotations hallmark knows. It runs before the pod
// specs of the object are read, so that container names it declares apply
// to all of them.
func (x *extractor) metadata(raw json.RawMessage, path string) {
	meta := x.obj(raw, path)
	x.annotations(meta["annotations"], path+".annotations")
}

func (x *extractor) annotations(raw json.RawMessage, path string) {
	ann := x.obj(raw, path)
	if ann == nil {
		return
	}
	annPath := func(key string) string { return path + "[" + key + "]" }
	if key := x.rules.ModelsAnnotation; key != "" {
		v := x.str(ann, key, annPath(key))
		for _, e := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
			x.add(locAny, annPath(key), e)
		}
	}
	if key := x.rules.ModelContainersAnnotation; key != "" {
		v := x.str(ann, key, annPath(key))
		for _, n := range strings.Split(v, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			if len(x.names) == MaxLocations {
				x.fail(&DenyError{Path: annPath(key), Reason: fmt.Sprintf("more than %d container names", MaxLocations)})
				return
			}
			if _, ok := x.names[n]; !ok {
				x.names[n] = annPath(key)
			}
		}
	}
	if x.rules.KServe {
		x.add(locURI, annPath(kserveSourceURIAnnotation), x.str(ann, kserveSourceURIAnnotation, annPath(kserveSourceURIAnnotation)))
	}
}

// checkNames warns about annotated container names no pod spec has: a
// typo there would leave a model unchecked.
func (x *extractor) checkNames() {
	if x.err != nil {
		return
	}
	var missing []string
	for n := range x.names {
		if !x.found[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return
	}
	// Sorted for stable output; the map has no order.
	slices.Sort(missing)
	for _, n := range missing {
		x.warn("%s names container %q, which the object does not have", x.names[n], clip(n, 64))
	}
}

// template reads a PodTemplateSpec.
func (x *extractor) template(raw json.RawMessage, path string) {
	t := x.obj(raw, path)
	if t == nil {
		return
	}
	x.metadata(t["metadata"], path+".metadata")
	x.podSpec(t["spec"], path+".spec")
}

func (x *extractor) podSpec(raw json.RawMessage, path string) {
	x.podSpecFields(x.obj(raw, path), path)
}

// podSpecFields reads a PodSpec, or an object that inlines one (KServe
// components).
func (x *extractor) podSpecFields(s map[string]json.RawMessage, path string) {
	if s == nil {
		return
	}
	if x.rules.PodImageVolumes {
		for i, v := range x.arr(s["volumes"], path+".volumes") {
			vp := indexPath(path+".volumes", i)
			vol := x.obj(v, vp)
			img := x.obj(vol["image"], vp+".image")
			x.add(locImage, vp+".image.reference", x.str(img, "reference", vp+".image.reference"))
		}
	}
	if len(x.names) == 0 && !x.rules.KServe {
		return
	}
	for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
		lp := path + "." + list
		for i, c := range x.arr(s[list], lp) {
			cp := indexPath(lp, i)
			co := x.obj(c, cp)
			name := x.str(co, "name", cp+".name")
			if _, ok := x.names[name]; ok {
				x.found[name] = true
			} else if !(x.rules.KServe && name == kserveModelcar) {
				continue
			}
			x.add(locImage, cp+".image", x.str(co, "image", cp+".image"))
		}
	}
}

// kserveModelcar is the container KServe adds to a predictor pod for an
// oci:// model (the modelcar: its image is the model). The LLM
// controllers add it without any annotation, so it is known by name.
const kserveModelcar = "modelcar"

// KServe predictor implementations (PredictorSpec), each with a
// storageUri and an optional storage spec.
var kservePredictors = []string{"model", "sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "huggingface", "lightgbm", "paddle", "pmml"}

func (x *extractor) kserve(kind string, obj map[string]json.RawMessage) {
	spec := x.obj(obj["spec"], "spec")
	if spec == nil {
		return
	}
	switch kind {
	case "InferenceService":
		type component struct {
			m    map[string]json.RawMessage
			path string
		}
		predictors := []component{{x.obj(spec["predictor"], "spec.predictor"), "spec.predictor"}}
		for i, c := range x.arr(spec["canary"], "spec.canary") {
			cp := indexPath("spec.canary", i)
			predictors = append(predictors, component{x.obj(x.obj(c, cp)["predictor"], cp+".predictor"), cp + ".predictor"})
		}
		transformer := component{x.obj(spec["transformer"], "spec.transformer"), "spec.transformer"}
		explainer := component{x.obj(spec["explainer"], "spec.explainer"), "spec.explainer"}
		// Component annotations go onto the component's pods: read them
		// all before any pod spec, like metadata.
		for _, c := range append(slices.Clip(predictors), transformer, explainer) {
			x.annotations(c.m["annotations"], c.path+".annotations")
		}
		for _, p := range predictors {
			x.kservePredictor(p.m, p.path)
		}
		x.kserveComponent(transformer.m, transformer.path)
		if art := x.obj(explainer.m["art"], "spec.explainer.art"); art != nil {
			x.add(locURI, "spec.explainer.art.storageUri", x.str(art, "storageUri", "spec.explainer.art.storageUri"))
			x.storageSpec(art, "spec.explainer.art")
		}
		x.kserveComponent(explainer.m, explainer.path)
	case "LocalModelCache", "LocalModelNamespaceCache":
		x.add(locURI, "spec.sourceModelUri", x.str(spec, "sourceModelUri", "spec.sourceModelUri"))
	case "TrainedModel":
		m := x.obj(spec["model"], "spec.model")
		x.add(locURI, "spec.model.storageUri", x.str(m, "storageUri", "spec.model.storageUri"))
	case "LLMInferenceService", "LLMInferenceServiceConfig":
		m := x.obj(spec["model"], "spec.model")
		x.add(locURI, "spec.model.uri", x.str(m, "uri", "spec.model.uri"))
		lora := x.obj(m["lora"], "spec.model.lora")
		for i, a := range x.arr(lora["adapters"], "spec.model.lora.adapters") {
			ap := indexPath("spec.model.lora.adapters", i)
			x.add(locURI, ap+".uri", x.str(x.obj(a, ap), "uri", ap+".uri"))
		}
		prefill := x.obj(spec["prefill"], "spec.prefill")
		// Workload annotations go onto the pods: read before pod specs.
		x.annotations(spec["annotations"], "spec.annotations")
		x.annotations(prefill["annotations"], "spec.prefill.annotations")
		x.podSpec(spec["template"], "spec.template")
		x.podSpec(spec["worker"], "spec.worker")
		x.podSpec(prefill["template"], "spec.prefill.template")
		x.podSpec(prefill["worker"], "spec.prefill.worker")
	}
	// ClusterStorageContainer and the other kinds name no model.
}

func (x *extractor) kservePredictor(p map[string]json.RawMessage, path string) {
	if p == nil {
		return
	}
	for _, impl := range kservePredictors {
		ip := path + "." + impl
		m := x.obj(p[impl], ip)
		if m == nil {
			continue
		}
		x.add(locURI, ip+".storageUri", x.str(m, "storageUri", ip+".storageUri"))
		x.storageSpec(m, ip)
	}
	x.kserveComponent(p, path)
	x.podSpec(p["workerSpec"], path+".workerSpec")
}

// kserveComponent reads what predictor, transformer and explainer share:
// storageUris, the inline pod spec, and STORAGE_URI of custom containers.
func (x *extractor) kserveComponent(c map[string]json.RawMessage, path string) {
	if c == nil {
		return
	}
	for i, s := range x.arr(c["storageUris"], path+".storageUris") {
		sp := indexPath(path+".storageUris", i)
		x.add(locURI, sp+".uri", x.str(x.obj(s, sp), "uri", sp+".uri"))
	}
	for i, ct := range x.arr(c["containers"], path+".containers") {
		cp := indexPath(path+".containers", i)
		for j, e := range x.arr(x.obj(ct, cp)["env"], cp+".env") {
			ep := indexPath(cp+".env", j)
			env := x.obj(e, ep)
			if x.str(env, "name", ep+".name") == "STORAGE_URI" {
				x.add(locURI, ep+".value", x.str(env, "value", ep+".value"))
			}
		}
	}
	x.podSpecFields(c, path)
}

// storageSpec: a KServe storage spec points into a storage secret's
// bucket (S3, GCS, Azure…), never at an OCI registry.
func (x *extractor) storageSpec(m map[string]json.RawMessage, path string) {
	st := x.obj(m["storage"], path+".storage")
	if len(st) == 0 {
		return
	}
	key := x.str(st, "key", path+".storage.key")
	p := x.str(st, "path", path+".storage.path")
	if x.err != nil {
		return
	}
	if x.locations++; x.locations > MaxLocations {
		x.fail(&DenyError{Reason: fmt.Sprintf("more than %d model locations in one object", MaxLocations)})
		return
	}
	x.nonOCI(path+".storage", fmt.Sprintf("storage key %q path %q", clip(key, 64), clip(p, 64)))
}

// walk follows an Extra rule's path from the object. Missing members and
// indexes match nothing; a value of the wrong type is an error (see obj).
func (x *extractor) walk(root map[string]json.RawMessage, steps []step) {
	if steps[0].name == "" {
		x.fail(fmt.Errorf("cannot read the object: not a list"))
		return
	}
	x.walkObj(root, steps, "")
}

func (x *extractor) walkObj(m map[string]json.RawMessage, steps []step, path string) {
	st := steps[0]
	x.walkRaw(m[st.name], steps[1:], fieldPath(path, st.name))
}

func (x *extractor) walkRaw(raw json.RawMessage, steps []step, path string) {
	if x.err != nil || raw == nil || isNull(raw) {
		return
	}
	if len(steps) == 0 {
		x.leaf(raw, path)
		return
	}
	st := steps[0]
	if st.name != "" {
		if m := x.obj(raw, path); m != nil {
			x.walkObj(m, steps, path)
		}
		return
	}
	a := x.arr(raw, path)
	if st.all {
		for i, e := range a {
			x.walkRaw(e, steps[1:], indexPath(path, i))
		}
	} else if st.index < len(a) {
		x.walkRaw(a[st.index], steps[1:], indexPath(path, st.index))
	}
}

// leaf takes a string, or a list of strings, as model locations.
func (x *extractor) leaf(raw json.RawMessage, path string) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		x.add(locAny, path, s)
		return
	}
	a, err := array(raw)
	if err != nil {
		x.fail(fmt.Errorf("cannot read %s: want a string or a list of strings", path))
		return
	}
	for i, e := range a {
		ep := indexPath(path, i)
		if isNull(e) {
			continue
		}
		if err := json.Unmarshal(e, &s); err != nil {
			x.fail(fmt.Errorf("cannot read %s: want a string", ep))
			return
		}
		x.add(locAny, ep, s)
	}
}
