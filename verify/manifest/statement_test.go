package manifest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestStatementRoundTrip(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"w/a.bin": pattern(2500), "cfg.json": "{}", "model.sig": "x"})
	for _, o := range []Options{
		{IgnoreGitPaths: true, IgnorePaths: []string{"model.sig"}},
		{Method: MethodShards, ShardSize: 1000, Hash: HashBLAKE2b, IgnoreGitPaths: true, IgnorePaths: []string{"model.sig"}},
		{Hash: HashBLAKE3, AllowSymlinks: true},
	} {
		m := mustCompute(t, dir, o)
		st, err := Statement(m, "my-model")
		if err != nil {
			t.Fatal(err)
		}
		// Plain encoding/json reads it as the in-toto shape.
		var generic struct {
			Type    string `json:"_type"`
			Subject []struct {
				Name   string            `json:"name"`
				Digest map[string]string `json:"digest"`
			} `json:"subject"`
			PredicateType string `json:"predicateType"`
			Predicate     struct {
				Serialization map[string]any `json:"serialization"`
				Resources     []Resource     `json:"resources"`
			} `json:"predicate"`
		}
		if err := json.Unmarshal(st, &generic); err != nil {
			t.Fatal(err)
		}
		root, _ := RootDigest(m.Resources)
		if generic.Type != StatementType || generic.PredicateType != PredicateType || len(generic.Subject) != 1 ||
			generic.Subject[0].Name != "my-model" || generic.Subject[0].Digest["sha256"] != hexs(root) ||
			!reflect.DeepEqual(generic.Predicate.Resources, m.Resources) {
			t.Fatalf("statement\n%s", st)
		}
		ser := generic.Predicate.Serialization
		if ser["method"] != m.Options.Method || ser["hash_type"] != m.Options.Hash || ser["allow_symlinks"] != o.AllowSymlinks {
			t.Fatalf("serialization %v", ser)
		}
		if _, has := ser["shard_size"]; has != (o.Method == MethodShards) {
			t.Fatalf("shard_size presence: %v", ser)
		}
		if o.Method == MethodShards && !bytes.Contains(st, []byte(`"shard_size": 1000,`)) {
			t.Fatalf("shard_size not an integer:\n%s", st)
		}
		if _, has := ser["ignore_paths"]; has != (len(m.Ignored) > 0) {
			t.Fatalf("ignore_paths presence: %v", ser)
		}
		// Key order as model_signing's dicts.
		if i, j := bytes.Index(st, []byte(`"method"`)), bytes.Index(st, []byte(`"hash_type"`)); i > j {
			t.Fatal("key order")
		}
		if !bytes.HasPrefix(st, []byte("{\n  \"_type\": ")) || bytes.HasSuffix(st, []byte("\n")) {
			t.Fatalf("layout:\n%s", st)
		}

		ps, err := ParseStatement(st)
		if err != nil {
			t.Fatal(err)
		}
		if ps.SubjectName != "my-model" || !bytes.Equal(ps.RootDigest, root) || !reflect.DeepEqual(ps.Resources, m.Resources) ||
			ps.Options.Method != m.Options.Method || ps.Options.Hash != m.Options.Hash ||
			ps.Options.ShardSize != m.Options.ShardSize || ps.Options.AllowSymlinks != o.AllowSymlinks {
			t.Fatalf("round trip: %+v", ps)
		}
		if len(m.Ignored) > 0 && !reflect.DeepEqual(ps.Options.IgnorePaths, m.Ignored) {
			t.Fatalf("ignore paths %v vs %v", ps.Options.IgnorePaths, m.Ignored)
		}
	}

	// An empty model still has a resources list.
	st, err := Statement(&Manifest{Options: Options{Method: MethodFiles, Hash: HashSHA256}}, "e")
	if err != nil || !bytes.Contains(st, []byte(`"resources": []`)) {
		t.Fatalf("%s %v", st, err)
	}
	for _, bad := range []*Manifest{
		nil,
		{Options: Options{Method: "x", Hash: HashSHA256}},
		{Options: Options{Method: MethodFiles, Hash: "md5"}},
		{Options: Options{Method: MethodFiles, Hash: HashSHA256}, Resources: []Resource{{Name: "../a", Digest: "00"}}},
		{Options: Options{Method: MethodShards, Hash: HashSHA256}, Resources: []Resource{{Name: "a", Digest: "00"}}},
		{Options: Options{Method: MethodFiles, Hash: HashSHA256}, Resources: []Resource{{Name: "a", Digest: "00"}, {Name: "a", Digest: "00"}}},
		{Options: Options{Method: MethodFiles, Hash: HashSHA256}, Resources: []Resource{{Name: "a", Digest: "0"}}},
	} {
		if _, err := Statement(bad, "x"); err == nil {
			t.Errorf("Statement(%+v) accepted", bad)
		}
	}
	if _, err := Statement(&Manifest{Options: Options{Method: MethodFiles, Hash: HashSHA256}}, "\xff"); err == nil {
		t.Error("non-UTF-8 subject accepted")
	}
}

func hexs(b []byte) string { return hex.EncodeToString(b) }

// stmt builds a v1.0 statement from its serialization, resources and
// subject digest (JSON text).
func stmt(ser string, res string, root string) string {
	return `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m","digest":{"sha256":"` + root + `"}}],` +
		`"predicateType":"https://model_signing/signature/v1.0","predicate":{"serialization":` + ser + `,"resources":` + res + `}}`
}

const dA = "ca978112ca1bbdcafac231b39a23dc4da786eff8815c8e1d6ddf3ecaf6c4b0ad" // sha256("a")

var validRes = `[{"name":"a","algorithm":"sha256","digest":"` + dA + `"}]`

func rootOf(t testing.TB, rs ...Resource) string {
	r, err := RootDigest(rs)
	if err != nil {
		t.Fatal(err)
	}
	return hexs(r)
}

func TestParseStatement(t *testing.T) {
	root := rootOf(t, Resource{Name: "a", Digest: dA})
	files := `{"method":"files","hash_type":"sha256","allow_symlinks":false}`
	shardRoot := rootOf(t, Resource{Name: "a:0:5", Digest: dA})
	shardRes := `[{"name":"a:0:5","algorithm":"sha256-sharded-1000000000","digest":"` + dA + `"}]`
	shards := func(size string) string {
		return `{"method":"shards","hash_type":"sha256","shard_size":` + size + `,"allow_symlinks":false}`
	}
	good := []struct {
		name, payload string
		check         func(*ParsedStatement) bool
	}{
		{"files", stmt(files, validRes, root), func(p *ParsedStatement) bool {
			return p.Options.Method == MethodFiles && p.Resources[0].Name == "a" && p.SubjectName == "m"
		}},
		{"float shard size", stmt(shards("1000000000.0"), shardRes, shardRoot), func(p *ParsedStatement) bool { return p.Options.ShardSize == 1e9 }},
		{"int shard size", stmt(shards("1000000000"), shardRes, shardRoot), func(p *ParsedStatement) bool { return p.Options.ShardSize == 1e9 }},
		{"exp shard size", stmt(shards("1e9"), shardRes, shardRoot), func(p *ParsedStatement) bool { return p.Options.ShardSize == 1e9 }},
		{"upper-case digest", stmt(files, `[{"name":"a","algorithm":"sha256","digest":"`+strings.ToUpper(dA)+`"}]`, strings.ToUpper(root)),
			func(p *ParsedStatement) bool { return p.Resources[0].Digest == dA }},
		{"no allow_symlinks, extra fields", stmt(`{"method":"files","hash_type":"blake3","x":1}`, `[{"name":"a","algorithm":"blake3","digest":"`+dA+`","extra":true}]`, root),
			func(p *ParsedStatement) bool { return p.Options.Hash == HashBLAKE3 && !p.Options.AllowSymlinks }},
		{"ignore paths", stmt(`{"method":"files","hash_type":"sha256","allow_symlinks":true,"ignore_paths":["x","model.sig"]}`, validRes, root),
			func(p *ParsedStatement) bool {
				return p.Options.AllowSymlinks && reflect.DeepEqual(p.Options.IgnorePaths, []string{"x", "model.sig"})
			}},
		{"files name like a shard", stmt(files, `[{"name":"x:5:2","algorithm":"sha256","digest":"`+dA+`"}]`, root), nil},
		{"empty resources", stmt(files, `[]`, rootOf(t)), func(p *ParsedStatement) bool { return len(p.Resources) == 0 && p.Resources != nil }},
		{"compat", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"b","digest":{"sha256":"` + dA + `"},"annotations":{"actual_hash_algorithm":"file-sha256"}},{"name":"d/a","digest":{"sha256":"` + dA + `"}}],"predicateType":"https://model_signing/Digests/v0.1","predicate":{"unused":"x"}}`,
			func(p *ParsedStatement) bool {
				return p.RootDigest == nil && p.PredicateType == PredicateTypeCompat && p.Options.Method == MethodFiles &&
					p.Options.Hash == HashSHA256 && reflect.DeepEqual(names(p.Resources), []string{"b", "d/a"}) && p.Resources[1].Algorithm == "sha256"
			}},
	}
	for _, c := range good {
		p, err := ParseStatement([]byte(c.payload))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.check != nil && !c.check(p) {
			t.Errorf("%s: %+v", c.name, p)
		}
	}

	bad := []struct{ name, payload, want string }{
		{"not json", `{`, "not a JSON object"},
		{"array", `[]`, "not a JSON object"},
		{"trailing", stmt(files, validRes, root) + `{}`, "not a JSON object"},
		{"invalid utf-8", strings.Replace(stmt(files, validRes, root), `"m"`, "\"\xff\"", 1), "UTF-8"},
		{"wrong _type", strings.Replace(stmt(files, validRes, root), "Statement/v1", "Statement/v0.1", 1), "_type"},
		{"case-folded _type", strings.Replace(stmt(files, validRes, root), `"_type"`, `"_TYPE"`, 1), "no _type"},
		{"wrong predicateType", strings.Replace(stmt(files, validRes, root), "signature/v1.0", "signature/v2.0", 1), "predicateType"},
		{"no subject", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://model_signing/signature/v1.0","predicate":{}}`, "no subject"},
		{"two subjects", strings.Replace(stmt(files, validRes, root), `"subject":[`, `"subject":[{"name":"x","digest":{"sha256":"`+root+`"}},`, 1), "exactly 1"},
		{"subject digest", stmt(files, validRes, root[:10]), "64 hex"},
		{"subject digest not hex", stmt(files, validRes, strings.Repeat("zz", 32)), "not hex"},
		{"root mismatch", stmt(files, validRes, dA), "inconsistent"},
		{"no predicate", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m","digest":{"sha256":"` + root + `"}}],"predicateType":"https://model_signing/signature/v1.0"}`, "no predicate"},
		{"null predicate", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m","digest":{"sha256":"` + root + `"}}],"predicateType":"https://model_signing/signature/v1.0","predicate":null}`, "not a JSON object"},
		{"no serialization", strings.Replace(stmt(files, validRes, root), `"serialization":`+files+`,`, ``, 1), "no serialization"},
		{"no resources", strings.Replace(stmt(files, validRes, root), `,"resources":`+validRes, ``, 1), "no resources"},
		{"null resources", stmt(files, `null`, root), "not a list"},
		{"unknown method", stmt(`{"method":"tensors","hash_type":"sha256"}`, validRes, root), "method"},
		{"unknown hash", stmt(`{"method":"files","hash_type":"blake2"}`, validRes, root), "hash_type"},
		{"allow_symlinks string", stmt(`{"method":"files","hash_type":"sha256","allow_symlinks":"false"}`, validRes, root), "allow_symlinks"},
		{"no shard size", stmt(`{"method":"shards","hash_type":"sha256"}`, shardRes, shardRoot), "shard_size"},
		{"fractional shard size", stmt(shards("1.5"), shardRes, shardRoot), "shard_size"},
		{"zero shard size", stmt(shards("0"), shardRes, shardRoot), "shard_size"},
		{"negative shard size", stmt(shards("-1000"), shardRes, shardRoot), "shard_size"},
		{"huge shard size", stmt(shards("1e300"), shardRes, shardRoot), "shard_size"},
		{"overflowing shard size", stmt(shards("99999999999999999999"), shardRes, shardRoot), "shard_size"},
		{"string shard size", stmt(shards(`"1000"`), shardRes, shardRoot), "shard_size"},
		{"ignore everything", stmt(`{"method":"files","hash_type":"sha256","ignore_paths":["."]}`, validRes, root), "whole model"},
		{"ignore paths not strings", stmt(`{"method":"files","hash_type":"sha256","ignore_paths":[1]}`, validRes, root), "ignore_paths"},
		{"duplicate", stmt(files, `[{"name":"a","algorithm":"sha256","digest":"`+dA+`"},{"name":"a","algorithm":"sha256","digest":"`+dA+`"}]`, rootOf(t, Resource{Name: "a", Digest: dA}, Resource{Name: "a", Digest: dA})), "more than once"},
		{"escaping name", stmt(files, `[{"name":"../a","algorithm":"sha256","digest":"`+dA+`"}]`, root), `".."`},
		{"absolute name", stmt(files, `[{"name":"/etc/passwd","algorithm":"sha256","digest":"`+dA+`"}]`, root), "absolute"},
		{"file name in shards", stmt(shards("10"), validRes, root), "shard name"},
		{"bad shard range", stmt(shards("10"), `[{"name":"a:5:5","algorithm":"sha256","digest":"`+dA+`"}]`, root), "not below"},
		{"digest not hex", stmt(files, `[{"name":"a","algorithm":"sha256","digest":"xyz"}]`, root), "not hex"},
		{"empty digest", stmt(files, `[{"name":"a","algorithm":"sha256","digest":""}]`, root), "empty digest"},
		{"name not string", stmt(files, `[{"name":1,"algorithm":"sha256","digest":"`+dA+`"}]`, root), "not a string"},
		{"no algorithm", stmt(files, `[{"name":"a","digest":"`+dA+`"}]`, root), "no algorithm"},
		{"resource not object", stmt(files, `["a"]`, root), "not a JSON object"},
		{"compat no subjects", `{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://model_signing/Digests/v0.1"}`, "without subjects"},
		{"compat bad name", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"../x","digest":{"sha256":"` + dA + `"}}],"predicateType":"https://model_signing/Digests/v0.1"}`, `".."`},
		{"compat duplicate", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"` + dA + `"}},{"name":"x","digest":{"sha256":"` + dA + `"}}],"predicateType":"https://model_signing/Digests/v0.1"}`, "more than once"},
		{"compat no sha256", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha512":"` + dA + `"}}],"predicateType":"https://model_signing/Digests/v0.1"}`, "no sha256"},
	}
	for _, c := range bad {
		_, err := ParseStatement([]byte(c.payload))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
}

func FuzzStatementParse(f *testing.F) {
	dirs, _ := filepath.Glob(filepath.Join(vectorDir, "v*"))
	for _, d := range dirs {
		f.Add(vectorPayload(f, filepath.Join(d, "model.sig")))
	}
	root := rootOf(f, Resource{Name: "a", Digest: dA})
	f.Add([]byte(stmt(`{"method":"files","hash_type":"sha256","allow_symlinks":false,"ignore_paths":["x"]}`, validRes, root)))
	f.Add([]byte(stmt(`{"method":"shards","hash_type":"blake2b","shard_size":1000000000.0}`,
		`[{"name":"a:0:5","algorithm":"blake2b-sharded-1000000000","digest":"`+dA+`"}]`, rootOf(f, Resource{Name: "a:0:5", Digest: dA}))))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"b","digest":{"sha256":"` + dA + `"}}],"predicateType":"https://model_signing/Digests/v0.1"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ps, err := ParseStatement(payload)
		if err != nil {
			return
		}
		if err := CheckUnique(ps.Resources); err != nil {
			t.Fatal(err)
		}
		for _, r := range ps.Resources {
			if err := ValidResourceName(ps.Options.Method, r.Name); err != nil {
				t.Fatal(err)
			}
			if r.Digest == "" || strings.ToLower(r.Digest) != r.Digest {
				t.Fatalf("digest %q", r.Digest)
			}
		}
		if ps.Options.Method == MethodShards && ps.Options.ShardSize < 1 {
			t.Fatalf("shard size %d", ps.Options.ShardSize)
		}
		if ps.PredicateType == PredicateTypeCompat {
			if ps.RootDigest != nil {
				t.Fatal("compat with a root digest")
			}
			return
		}
		got, err := RootDigest(ps.Resources)
		if err != nil || !bytes.Equal(got, ps.RootDigest) {
			t.Fatalf("root digest %x vs %x (%v)", got, ps.RootDigest, err)
		}
		// What was read can be written and read back the same.
		m := &Manifest{Options: ps.Options, Resources: ps.Resources, Ignored: ps.Options.IgnorePaths}
		st, err := Statement(m, ps.SubjectName)
		if err != nil {
			t.Fatalf("Statement: %v", err)
		}
		ps2, err := ParseStatement(st)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, st)
		}
		o1, o2 := ps.Options, ps2.Options
		o1.IgnorePaths, o2.IgnorePaths = sortedUnique(o1.IgnorePaths), sortedUnique(o2.IgnorePaths)
		if ps2.SubjectName != ps.SubjectName || !bytes.Equal(ps2.RootDigest, ps.RootDigest) ||
			!reflect.DeepEqual(ps2.Resources, ps.Resources) || !reflect.DeepEqual(o1, o2) {
			t.Fatalf("round trip differs:\n%+v\n%+v", ps, ps2)
		}
	})
}

// TestFuzzSeedsRoundTrip keeps the fuzz target's properties checked in a
// plain test run on Compute output too.
func TestFuzzSeedsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a:1:2": "x", "b/c": pattern(3000)})
	m := mustCompute(t, dir, Options{Method: MethodShards, ShardSize: 1024})
	st, err := Statement(m, "d")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := ParseStatement(st)
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare(ps.Resources, m.Resources); !d.Empty() {
		t.Fatal(d)
	}
	local, err := ComputeNames(context.Background(), dir, ps.Options, names(ps.Resources))
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare(ps.Resources, local.Resources); !d.Empty() {
		t.Fatal(d)
	}
}
