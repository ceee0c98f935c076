package manifest

import (
	"encoding/hex"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidName(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{".", true},
		{"a", true},
		{"a/b/c.safetensors", true},
		{".hidden/.x", true},
		{"a b/é/日本", true},
		{"a:b", true},             // a colon alone is a file name
		{"x:1", true},             // one numeric field: not a shard name
		{"x:a:2", true},           // non-numeric field: not a shard name
		{"model.bin:0:100", true}, // shard
		{"a:b:0:100", true},       // shard of the file "a:b"
		{".:0:5", true},           // shard of a single-file model
		{"...", true},
		{"..a", true},
		{"", false},
		{"/abs", false},
		{"/", false},
		{"..", false},
		{"../a", false},
		{"a/../b", false},
		{"a/..", false},
		{"./a", false},
		{"a/./b", false},
		{"a/.", false},
		{"a//b", false},
		{"a/", false},
		{"a\\b", false},
		{"..\\a", false},
		{"a\x00b", false},
		{"a\xffb", false},
		{"x:5:2", false},  // shard name with start >= end
		{"x:5:5", false},  // empty shard
		{"x:01:5", false}, // leading zero
		{"x:0:99999999999999999999", false},
		{"../x:0:1", false}, // path part escapes
		{"/x:0:1", false},
		{":0:1", false}, // empty path
		{"a/:0:1", false},
		{"..:0:1", false},
	}
	for _, c := range cases {
		if err := ValidName(c.name); (err == nil) != c.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", c.name, err, c.ok)
		}
	}
	// With the method known, "x:5:2" is a fine file name but no shard name.
	if err := ValidResourceName(MethodFiles, "x:5:2"); err != nil {
		t.Error(err)
	}
	if err := ValidResourceName(MethodShards, "x"); err == nil {
		t.Error("shards: plain name accepted")
	}
	if err := ValidResourceName("bogus", "x"); err == nil {
		t.Error("unknown method accepted")
	}
	p, s, e, err := ParseShardName("a:b:c:10:20")
	if err != nil || p != "a:b:c" || s != 10 || e != 20 {
		t.Fatal(p, s, e, err)
	}
}

func TestRootDigest(t *testing.T) {
	a := sha256Hex("a")
	b := sha256Hex("b")
	got, err := RootDigest([]Resource{{Name: "a", Digest: a}, {Name: "b", Digest: b}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(a + b)
	if hex.EncodeToString(got) != sha256Hex(string(raw)) {
		t.Fatal("root digest is not SHA-256 over the raw digests")
	}
	// Order matters (the payload order is used as is).
	rev, _ := RootDigest([]Resource{{Name: "b", Digest: b}, {Name: "a", Digest: a}})
	if string(rev) == string(got) {
		t.Fatal("order ignored")
	}
	// A 64-byte digest (blake2b) works, upper case too.
	if _, err := RootDigest([]Resource{{Name: "x", Digest: strings.ToUpper(a + b)}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "abc", "zz", "0g", a + " "} {
		if _, err := RootDigest([]Resource{{Name: "x", Digest: bad}}); err == nil {
			t.Errorf("digest %q accepted", bad)
		}
	}
}

func TestCompare(t *testing.T) {
	r := func(name, alg, d string) Resource { return Resource{Name: name, Algorithm: alg, Digest: d} }
	cases := []struct {
		name          string
		signed, local []Resource
		want          Diff
	}{
		{"equal", []Resource{r("a", "sha256", "01"), r("b", "sha256", "02")}, []Resource{r("b", "sha256", "02"), r("a", "sha256", "01")}, Diff{}},
		{"empty", nil, nil, Diff{}},
		{"missing", []Resource{r("a", "sha256", "01"), r("c", "sha256", "03"), r("b", "sha256", "02")}, []Resource{r("a", "sha256", "01")}, Diff{Missing: []string{"b", "c"}}},
		{"extra", []Resource{r("a", "sha256", "01")}, []Resource{r("z", "sha256", "09"), r("a", "sha256", "01"), r("m", "sha256", "05")}, Diff{Extra: []string{"m", "z"}}},
		{"digest", []Resource{r("a", "sha256", "01")}, []Resource{r("a", "sha256", "02")}, Diff{Mismatched: []string{"a"}}},
		{"algorithm", []Resource{r("a", "sha256", "01")}, []Resource{r("a", "blake3", "01")}, Diff{Mismatched: []string{"a"}}},
		{"shard algorithm convention", []Resource{r("f:0:1", "sha256", "01")}, []Resource{r("f:0:1", "sha256-sharded-1", "01")}, Diff{Mismatched: []string{"f:0:1"}}},
		{"all three", []Resource{r("a", "sha256", "01"), r("b", "sha256", "02")}, []Resource{r("b", "sha256", "ff"), r("c", "sha256", "03")}, Diff{Missing: []string{"a"}, Extra: []string{"c"}, Mismatched: []string{"b"}}},
		{"grown sharded file", []Resource{r("f:0:10", "s", "01"), r("f:10:20", "s", "02")}, []Resource{r("f:0:10", "s", "01"), r("f:10:20", "s", "02"), r("f:20:25", "s", "03"), r("g:0:1", "s", "04")}, Diff{Extra: []string{"g:0:1"}, Mismatched: []string{"f:20:25"}}},
		{"conflicting duplicate", []Resource{r("a", "sha256", "01"), r("a", "sha256", "02")}, []Resource{r("a", "sha256", "01")}, Diff{Mismatched: []string{"a"}}},
		{"identical duplicate", []Resource{r("a", "sha256", "01"), r("a", "sha256", "01")}, []Resource{r("a", "sha256", "01")}, Diff{}},
	}
	for _, c := range cases {
		d := Compare(c.signed, c.local)
		if !reflect.DeepEqual(*d, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, *d, c.want)
		}
		if d.Empty() != (len(c.want.Missing)+len(c.want.Extra)+len(c.want.Mismatched) == 0) {
			t.Errorf("%s: Empty()", c.name)
		}
	}
	if err := CheckUnique([]Resource{r("a", "", ""), r("b", "", ""), r("a", "", "")}); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Fatal(err)
	}
	if err := CheckUnique([]Resource{r("a", "", ""), r("b", "", "")}); err != nil {
		t.Fatal(err)
	}
}

func FuzzValidName(f *testing.F) {
	for _, s := range []string{".", "a/b", "../a", "a:0:1", "a:b:10:20", "/x", "a//b", "x:5:2", "é/ü:0:9", "a\\b", ".:0:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidName(name)
		ferr := ValidResourceName(MethodFiles, name)
		p, start, end, serr := ParseShardName(name)
		if ferr == nil {
			// A valid file name stays inside the root it is joined to.
			if name != "." && !filepath.IsLocal(name) {
				t.Fatalf("%q: valid but not local", name)
			}
			if !utf8.ValidString(name) || strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") {
				t.Fatalf("%q: valid but has a forbidden character", name)
			}
			for _, c := range strings.Split(name, "/") {
				if c == ".." || c == "" || (c == "." && name != ".") {
					t.Fatalf("%q: valid with component %q", name, c)
				}
			}
		}
		if serr == nil {
			if start < 0 || start >= end || ShardName(p, start, end) != name {
				t.Fatalf("%q: shard parse not canonical: %q %d %d", name, p, start, end)
			}
			if ValidResourceName(MethodFiles, p) != nil {
				t.Fatalf("%q: shard path %q invalid", name, p)
			}
			if err != nil {
				t.Fatalf("%q: valid shard name refused by ValidName: %v", name, err)
			}
		}
		if err == nil && ferr != nil && serr != nil {
			t.Fatalf("%q: ValidName accepts what neither method does", name)
		}
	})
}
