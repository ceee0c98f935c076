// Package admission is the pure part of hallmark's Kubernetes validating
// admission webhook: it parses an AdmissionReview v1 request, finds the
// models the reviewed object names, and builds the response. It does no
// network I/O and scans nothing; the server checks each Ref with the gate.
//
// # What counts as a model
//
// A Ref is an OCI reference, normalised to "oci://REGISTRY/REPO:TAG" or
// "oci://REGISTRY/REPO@DIGEST" the way the container runtime resolves the
// name (see NormalizeImage). It is found in:
//
//   - Pods (and the pod templates of ReplicationController, PodTemplate,
//     apps/v1 Deployment, StatefulSet, DaemonSet, ReplicaSet, batch/v1 Job
//     and CronJob): image volumes (spec.volumes[].image.reference, KEP-4639);
//     the image of every init, regular or ephemeral container whose name is
//     listed in the ModelContainersAnnotation (comma-separated) of the
//     object or of its template; and, when KServe is on, the
//     internal.serving.kserve.io/storage-initializer-sourceuri annotation
//     KServe puts on the pods it creates.
//   - Any object: the entries of its ModelsAnnotation (separated by commas
//     or white space; each "oci://…" or a bare image reference).
//   - KServe (serving.kserve.io), when KServe is on:
//     InferenceService spec.{predictor, canary[].predictor}: model,
//     sklearn, xgboost, tensorflow, pytorch, triton, onnx, huggingface,
//     lightgbm, paddle and pmml .storageUri; storageUris[].uri of the
//     predictor, transformer and explainer; explainer art.storageUri; the
//     STORAGE_URI environment variable of a custom component's containers;
//     a storage spec (storage: {key, path}) as a non-OCI location; and the
//     pod rules above on each component's pod spec and workerSpec, with
//     the component's annotations.
//     LocalModelCache and LocalModelNamespaceCache spec.sourceModelUri;
//     TrainedModel spec.model.storageUri; LLMInferenceService and
//     LLMInferenceServiceConfig spec.model.uri, spec.model.lora.adapters[].uri
//     and their pod specs (template, worker, prefill.template,
//     prefill.worker, with the annotations of spec and spec.prefill). ClusterStorageContainer defines a storage
//     initializer and names no model.
//     A KServe URI is a model reference when its scheme is oci:// or one of
//     KServe's oci+MODE:// forms (oci+native, oci+modelcar, oci+fetch). Any
//     other location (s3://, gs://, hf://, pvc://, https://, a storage spec
//     with a secret key, a bare path) is "non-OCI" and handled by NonOCI.
//   - Extra rules: values at JSONPaths of other kinds (strings, or lists of
//     strings): "oci://…" or a bare image reference is a model, another
//     scheme is non-OCI.
//
// DELETE and CONNECT requests, and subresources other than
// pods/ephemeralcontainers (status, scale, binding…, which cannot change
// what a workload runs), name no model.
//
// # Configuration
//
// Rules is read from the server's YAML configuration; decode it over
// DefaultRules() so that absent keys keep their defaults:
//
//	podImageVolumes: true                               # image volumes are models
//	modelContainersAnnotation: hallmark.dev/model-containers  # "" turns it off
//	modelsAnnotation: hallmark.dev/models                # "" turns it off
//	kserve: true
//	nonOCI: allow                                       # or deny
//	extra:
//	  - group: example.com                              # "" is the core group
//	    kind: ModelServer
//	    paths: ["$.spec.model.image", "$.spec.adapters[*].uri", "$['spec']['weights.ref']"]
//
// The JSONPath subset is "$" followed by .name, ['name'], [N] and [*]
// (arrays only); anything else is refused by Rules.Validate.
//
// # Failing closed
//
// Extract returns an error, and the server should deny, when the object
// cannot be read (malformed JSON, a field of the wrong type), when it
// names more than MaxRefs models or more than MaxLocations locations, and
// when NonOCI is "deny" and a location is not OCI (a *DenyError). A
// reference that does not parse is only a warning. For container images,
// image volumes and KServe's modelcar and native modes this is safe: the
// kubelet parses image names with the same grammar and refuses a pod whose
// image does not parse. For locations pulled by something else (KServe's
// oci+fetch storage initializer, an Extra rule's controller) it relies on
// that puller refusing the name too.
package admission
