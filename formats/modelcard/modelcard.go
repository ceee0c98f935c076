// Package modelcard reads the YAML front matter of a Hugging Face model
// card (README.md): licence, base model, datasets, task, languages and
// the model-index evaluation results, for the BOM. It never renders or
// follows anything the card names.
package modelcard

// Card is what a model card's front matter states. Untrusted text, each
// string capped in length; lists capped in count. Absent keys stay empty.
//
// Strings have control, bidi-override and line-separator characters
// removed (line breaks and runs of blanks become one space) and are cut
// on a rune boundary to 200 bytes for ids and values, 1000 bytes for
// names, URLs and free text (plus "…" when cut), so they are safe in
// one-line messages and BOMs.
// Lists keep the card's order without exact duplicates.
type Card struct {
	License string `json:"license,omitempty"` // the HF slug or SPDX id as written ("apache-2.0", "llama3.1", "other"); the first one if the card lists several
	// Licenses holds every entry when the card gives license as a list
	// (dataset-card style); empty for the usual single string.
	Licenses    []string `json:"licenses,omitempty"`
	LicenseName string   `json:"license_name,omitempty"` // for license: other
	LicenseLink string   `json:"license_link,omitempty"`
	BaseModels  []string `json:"base_model,omitempty"` // HF ids ("meta-llama/Llama-3.1-8B"); a string or a list in the card
	// BaseModelRelation: adapter, merge, quantized, finetune (as written).
	BaseModelRelation string   `json:"base_model_relation,omitempty"`
	Datasets          []string `json:"datasets,omitempty"` // HF dataset ids or names
	PipelineTag       string   `json:"pipeline_tag,omitempty"`
	// Languages as written; a bare YAML 1.1 `no` (Norwegian), which YAML
	// reads as false, is given back as "no".
	Languages   []string `json:"language,omitempty"`
	LibraryName string   `json:"library_name,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	ModelName   string   `json:"model_name,omitempty"` // model-index[0].name
	Results     []Result `json:"results,omitempty"`    // model-index[].results[].metrics[], flattened
	CO2         *CO2     `json:"co2_eq_emissions,omitempty"`
	// ExtraGated: the card customises the Hub's access request form
	// (extra_gated_* keys), i.e. the repository is gated behind terms.
	ExtraGated bool `json:"extra_gated,omitempty"`
}

// Result is one evaluation metric of the model-index.
type Result struct {
	Task            string `json:"task,omitempty"`         // task.type
	TaskName        string `json:"task_name,omitempty"`    // task.name
	Dataset         string `json:"dataset,omitempty"`      // dataset.name, else dataset.type
	DatasetType     string `json:"dataset_type,omitempty"` // dataset.type (an HF id)
	DatasetConfig   string `json:"dataset_config,omitempty"`
	Split           string `json:"split,omitempty"`
	DatasetRevision string `json:"dataset_revision,omitempty"`
	Metric          string `json:"metric"` // metrics[].type, else metrics[].name
	Name            string `json:"name,omitempty"`
	// Value as written for strings ("20.0 ± 1.2"); numbers formatted as
	// JSON would (integers exact, floats in shortest round-trip form).
	// Metrics whose value is a list, a mapping or null are skipped.
	Value     string `json:"value"`
	Verified  bool   `json:"verified,omitempty"`   // metrics[].verified: computed by the Hub's evaluation service
	Source    string `json:"source,omitempty"`     // source.name ("Open LLM Leaderboard")
	SourceURL string `json:"source_url,omitempty"` // source.url
}

// CO2 is the card's co2_eq_emissions (a number of grams, or an object).
type CO2 struct {
	Emissions            string `json:"emissions"` // grams CO2eq, as written
	Source               string `json:"source,omitempty"`
	TrainingType         string `json:"training_type,omitempty"`
	GeographicalLocation string `json:"geographical_location,omitempty"`
	HardwareUsed         string `json:"hardware_used,omitempty"`
}
