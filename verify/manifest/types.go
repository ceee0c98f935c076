// Package manifest computes an OpenSSF model-signing (OMS) manifest of a
// model on disk exactly as the model_signing Python library does: which
// files count, in which order, and how each is hashed (files or shards;
// sha256, blake2b, blake3). It also builds and compares the resource lists
// that an OMS in-toto statement carries.
package manifest

// Serialization methods and hash algorithms of predicate.serialization.
const (
	MethodFiles  = "files"
	MethodShards = "shards"

	HashSHA256  = "sha256"
	HashBLAKE2b = "blake2b"
	HashBLAKE3  = "blake3"

	// DefaultShardSize is model_signing's default shard size.
	DefaultShardSize = 1_000_000_000
)

// Options are the hashing recipe (OMS predicate.serialization) plus the
// enumeration rules.
type Options struct {
	Method        string   // MethodFiles or MethodShards
	Hash          string   // HashSHA256, HashBLAKE2b or HashBLAKE3
	ShardSize     int64    // shards only; DefaultShardSize when 0
	AllowSymlinks bool     // hash a symlink's target under the link's name (links out of the root are still refused)
	IgnorePaths   []string // model-relative POSIX paths to leave out (a directory drops its subtree)
	// IgnoreGitPaths leaves out .git, .gitattributes, .github and .gitignore
	// at the top level of the model, as model_signing does by default.
	IgnoreGitPaths bool
	Workers        int // files (or shards) hashed at once; 0: DefaultWorkers() (model_signing's min(32, cores+4))
}

// Resource is one entry of predicate.resources.
type Resource struct {
	Name      string `json:"name"`      // files: model-relative POSIX path ("." for a single-file model); shards: "path:start:end"
	Algorithm string `json:"algorithm"` // files: the hash name; shards: "<hash>-sharded-<size>" (Python) or the hash name (OMS spec fork)
	Digest    string `json:"digest"`    // lower-case hex
}

// Manifest is what was computed for a model.
type Manifest struct {
	Options   Options
	Resources []Resource // in model_signing's order (component-wise paths, numeric shard offsets)
	Bytes     int64      // bytes hashed
	// Ignored is what predicate.serialization.ignore_paths records: the
	// model-relative IgnorePaths that can apply inside the model (cleaned)
	// plus the four git defaults when IgnoreGitPaths is set, sorted and
	// without duplicates. model_signing records the git defaults whether or
	// not they exist, so this does too.
	Ignored []string
}

// Diff says how two resource lists differ; paths are resource names.
type Diff struct {
	Missing    []string // signed but not present locally
	Extra      []string // present locally but not signed
	Mismatched []string // present in both with different algorithm or digest
}

// Empty reports whether the lists agree.
func (d *Diff) Empty() bool { return len(d.Missing)+len(d.Extra)+len(d.Mismatched) == 0 }
