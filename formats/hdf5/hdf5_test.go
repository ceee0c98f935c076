package hdf5

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

const fixtures = "../../testdata/hdf5"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func scanBytes(b []byte, lim Limits) Report {
	return Scan(bytes.NewReader(b), int64(len(b)), lim)
}

func has(rep Report, rule string, min finding.Level) bool {
	for _, f := range rep.Findings {
		if f.Rule == rule && f.Level >= min {
			return true
		}
	}
	return false
}

func maxLevel(rep Report) finding.Level {
	var m finding.Level
	for _, f := range rep.Findings {
		m = max(m, f.Level)
	}
	return m
}

func dump(rep Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		b.WriteString("\n  " + f.Rule + " " + f.Level.String() + " " + f.Where + ": " + f.Message)
	}
	return b.String()
}

func TestLookup3(t *testing.T) {
	// Vectors from Bob Jenkins' lookup3.c driver (hashlittle, initval 0).
	for _, tc := range []struct {
		in   string
		want uint32
	}{
		{"", 0xdeadbeef},
		{"Four score and seven years ago", 0x17770551},
	} {
		if got := lookup3([]byte(tc.in)); got != tc.want {
			t.Errorf("lookup3(%q) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

// TestFacts checks what Scan reports for benign files of every layout.
func TestFacts(t *testing.T) {
	for _, tc := range []struct {
		file     string
		sb       int
		groups   int
		datasets int
		params   int64
		dtypes   []string
	}{
		{"benign/types_earliest.h5", 0, 2, 16, 118, []string{"S10", "bool", "compound", "enum-i8", "f16", "f32", "f32[3]", "f64be", "i64", "i8", "u8", "vlen-str"}},
		{"benign/types_latest.h5", 3, 2, 16, 118, []string{"S10", "bool", "compound", "enum-i8", "f16", "f32", "f32[3]", "f64be", "i64", "i8", "u8", "vlen-str"}},
		{"benign/superblock_v1.h5", 1, 1, 1, 10, []string{"f32"}},
		{"benign/superblock_v2.h5", 2, 2, 16, 118, nil},
		{"benign/times_latest.h5", 3, 3, 1, 4, []string{"f32"}},
		{"benign/dense_links_latest.h5", 3, 23, 1, 3, []string{"f32"}},
		{"benign/big_group_earliest.h5", 0, 2, 1, 3, []string{"f32"}},
		{"benign/keras2_weights.h5", 0, 6, 4, 32*16 + 16 + 16*10 + 10, []string{"f32"}},
		{"benign/keras2_model.h5", 0, 15, 13, 3*(32*16+16+16*10+10) + 1, []string{"f32", "i64"}},
		{"benign/keras3_model.weights.h5", 0, 9, 5, 32*16 + 16 + 16*10 + 10 + 1, []string{"f32", "i64"}},
		{"benign/userblock_zero.h5", 0, 1, 1, 4, []string{"f32"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			rep := scanBytes(fixture(t, tc.file), Limits{})
			if !rep.Complete || len(rep.Findings) != 0 {
				t.Fatalf("complete=%v findings:%s", rep.Complete, dump(rep))
			}
			if rep.SuperblockVersion != tc.sb || rep.Groups != tc.groups || rep.Datasets != tc.datasets || rep.Parameters != tc.params {
				t.Errorf("sb=%d groups=%d datasets=%d params=%d, want %d %d %d %d",
					rep.SuperblockVersion, rep.Groups, rep.Datasets, rep.Parameters, tc.sb, tc.groups, tc.datasets, tc.params)
			}
			if tc.dtypes != nil && !reflect.DeepEqual(rep.Dtypes, tc.dtypes) {
				t.Errorf("dtypes %v, want %v", rep.Dtypes, tc.dtypes)
			}
			if rep.OffsetSize != 8 || rep.LengthSize != 8 {
				t.Errorf("offset/length sizes %d/%d", rep.OffsetSize, rep.LengthSize)
			}
		})
	}
}

func TestKerasRootAttributes(t *testing.T) {
	rep := scanBytes(fixture(t, "benign/keras2_model.h5"), Limits{})
	if rep.RootAttrs["keras_version"] != "2.11.0" || rep.RootAttrs["backend"] != "tensorflow" {
		t.Errorf("root attrs %q %q", rep.RootAttrs["keras_version"], rep.RootAttrs["backend"])
	}
	if mc := rep.RootAttrs["model_config"]; !strings.HasPrefix(mc, `{"class_name": "Sequential"`) || !strings.HasSuffix(mc, "}") {
		t.Errorf("model_config %q", finding.Shorten(mc, 80))
	}
	if tc := rep.RootAttrs["training_config"]; !strings.Contains(tc, `"optimizer_config"`) {
		t.Errorf("training_config %q", finding.Shorten(tc, 80))
	}
	want := map[string]bool{
		"/model_weights@layer_names":        false,
		"/model_weights/dense@weight_names": false,
		"/optimizer_weights@weight_names":   false,
	}
	for _, a := range rep.AttrStrings {
		k := a.Path + "@" + a.Name
		if _, ok := want[k]; ok {
			want[k] = true
		}
		if k == "/model_weights@layer_names" && a.Value != "dense\ndense_1" {
			t.Errorf("layer_names %q", a.Value)
		}
		if k == "/model_weights/dense@weight_names" && a.Value != "dense/kernel:0\ndense/bias:0" {
			t.Errorf("weight_names %q", a.Value)
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("AttrStrings lacks %s", k)
		}
	}

	// The large config lives in a big global heap collection.
	rep = scanBytes(fixture(t, "benign/keras2_model_large_config.h5"), Limits{})
	if n := len(rep.RootAttrs["model_config"]); n < 64<<10 || !strings.Contains(rep.RootAttrs["model_config"], `"dense_299"`) {
		t.Errorf("large model_config: %d bytes", n)
	}

	// Cut at MaxAttribute: a limit finding, the attribute listed as truncated.
	rep = scanBytes(fixture(t, "benign/keras2_model.h5"), Limits{MaxAttribute: 100})
	if len(rep.RootAttrs["model_config"]) != 100 || !has(rep, RuleLimit, finding.High) || rep.Complete {
		t.Errorf("MaxAttribute 100: len %d complete %v%s", len(rep.RootAttrs["model_config"]), rep.Complete, dump(rep))
	}
	if !reflect.DeepEqual(rep.RootAttrsTruncated, []string{"model_config", "training_config"}) {
		t.Errorf("truncated %v", rep.RootAttrsTruncated)
	}
}

// TestAttributeValues checks every attribute kind h5py writes, in both
// header versions.
func TestAttributeValues(t *testing.T) {
	want := map[string]struct {
		dtype string
		shape []uint64
		value any
	}{
		"int":        {"i32", nil, int64(-7)},
		"float":      {"f64", nil, 0.25},
		"ints":       {"i16", []uint64{4}, []int64{0, 1, 2, 3}},
		"floats":     {"f32", []uint64{2}, []float64{0.5, 1.5}},
		"str":        {"vlen-str", nil, "vlen unicode string"},
		"bytes":      {"vlen-str", nil, "vlen ascii bytes"},
		"fixed":      {"S12", nil, "fixed-length"},
		"fixed_list": {"S7", []uint64{3}, []string{"dense", "dense_1", "dropout"}},
		"vlen_list":  {"vlen-str", []uint64{3}, []string{"a", "bb", "ccc"}},
		"bool":       {"bool", nil, int64(1)},
		"empty":      {"f64", nil, nil},
		"str_array":  {"S2[3]", nil, []string{"ab", "cd", "ef"}},
		"f_array":    {"f32[3]", []uint64{2}, []float64{0, 1, 2, 3, 4, 5}},
		"be_int":     {"i32be", []uint64{1}, []int64{258}},
	}
	for _, file := range []string{"benign/types_earliest.h5", "benign/types_latest.h5", "benign/superblock_v2.h5"} {
		t.Run(file, func(t *testing.T) {
			b := fixture(t, file)
			f, err := Open(bytes.NewReader(b), int64(len(b)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			seen := 0
			err = f.Walk(func(o *Object) error {
				if o.Path != "/data" {
					return nil
				}
				for _, a := range o.Attrs {
					w, ok := want[a.Name]
					if !ok {
						t.Errorf("unexpected attribute %q", a.Name)
						continue
					}
					seen++
					if a.Dtype != w.dtype || !reflect.DeepEqual(a.Shape, w.shape) || !reflect.DeepEqual(a.Value, w.value) {
						t.Errorf("%s: %s %v %#v, want %s %v %#v", a.Name, a.Dtype, a.Shape, a.Value, w.dtype, w.shape, w.value)
					}
				}
				return nil
			})
			if err != nil || seen != len(want) || len(f.Findings()) != 0 {
				t.Errorf("err %v, saw %d of %d attributes, findings %v", err, seen, len(want), f.Findings())
			}
		})
	}
}

func TestDenseAttributes(t *testing.T) {
	rep := scanBytes(fixture(t, "benign/dense_attrs_latest.h5"), Limits{})
	if !rep.Complete || len(rep.Findings) != 0 {
		t.Fatalf("findings:%s", dump(rep))
	}
	if len(rep.RootAttrs) != 22 { // 20 attr_NN, big_vlen, big_fixed (many_strings is a list)
		t.Errorf("%d root string attributes", len(rep.RootAttrs))
	}
	if v := rep.RootAttrs["big_vlen"]; len(v) != 100<<10 || strings.Trim(v, "x") != "" {
		t.Errorf("big_vlen: %d bytes", len(v))
	}
	if v := rep.RootAttrs["big_fixed"]; len(v) != 80<<10 || strings.Trim(v, "y") != "" {
		t.Errorf("big_fixed (huge heap object): %d bytes", len(v))
	}
	if rep.RootAttrs["attr_13"] != "value 13" {
		t.Errorf("attr_13 = %q", rep.RootAttrs["attr_13"])
	}
	if len(rep.AttrStrings) != 1 || strings.Count(rep.AttrStrings[0].Value, "\n") != 1999 {
		t.Errorf("many_strings: %d entries", len(rep.AttrStrings))
	}
	b := fixture(t, "benign/dense_attrs_latest.h5")
	f, _ := Open(bytes.NewReader(b), int64(len(b)), Limits{})
	_ = f.Walk(func(o *Object) error {
		if o.Path == "/w" {
			if len(o.Attrs) != 20 {
				t.Errorf("/w has %d attributes", len(o.Attrs))
			}
			for _, a := range o.Attrs {
				if a.Name == "n_07" && a.Value != int64(7) {
					t.Errorf("n_07 = %#v", a.Value)
				}
			}
		}
		return nil
	})
}

func TestWalk(t *testing.T) {
	b := fixture(t, "benign/dense_links_latest.h5")
	f, err := Open(bytes.NewReader(b), int64(len(b)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	seen := map[uint64]int{}
	if err := f.Walk(func(o *Object) error {
		paths = append(paths, o.Path)
		seen[o.Addr]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for a, n := range seen {
		if n != 1 {
			t.Errorf("object %#x visited %d times", a, n)
		}
	}
	// 1500 links to one dataset: reached once, through the first name.
	if len(paths) != 24 || paths[0] != "/" || paths[1] != "/many" || paths[2] != "/many/link_0000" || paths[3] != "/ordered" {
		t.Errorf("paths %v", paths[:min(len(paths), 6)])
	}

	// The callback's error stops the walk and comes back as is.
	stop := os.ErrClosed
	n := 0
	if err := f.Walk(func(o *Object) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("walk returned %v after %d objects", err, n)
	}

	// Hard-link cycle: reported low, walked once.
	rep := scanBytes(fixture(t, "benign/hardlink_cycle.h5"), Limits{})
	if !has(rep, RuleCycle, finding.Low) || maxLevel(rep) != finding.Low || !rep.Complete || rep.Groups != 2 {
		t.Errorf("cycle:%s groups %d", dump(rep), rep.Groups)
	}
}

func TestRootAttributes(t *testing.T) {
	b := fixture(t, "benign/keras2_weights.h5")
	f, err := Open(bytes.NewReader(b), int64(len(b)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := f.RootAttributes()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, a := range attrs {
		got[a.Name] = a.Value
	}
	if !reflect.DeepEqual(got["layer_names"], []string{"dense", "dense_1"}) || got["backend"] != "tensorflow" || got["keras_version"] != "2.11.0" {
		t.Errorf("root attributes %#v", got)
	}
}

// TestHostileFixtures: every malformed fixture gives its finding, with
// little memory.
func TestHostileFixtures(t *testing.T) {
	for _, tc := range []struct {
		file     string
		rule     string
		level    finding.Level
		complete bool
	}{
		{"malicious/attr_declared_2p40.h5", RuleMalformed, finding.High, false},
		{"malicious/bad_superblock.h5", RuleMalformed, finding.High, false},
		{"malicious/btree2_huge_records.h5", RuleMalformed, finding.High, false},
		{"malicious/btree_huge_entries.h5", RuleMalformed, finding.High, false},
		{"malicious/checksum_mismatch.h5", RuleChecksum, finding.Medium, true},
		{"malicious/continuation_loop_v1.h5", RuleMalformed, finding.High, false},
		{"malicious/continuation_loop_v2.h5", RuleMalformed, finding.High, false},
		{"malicious/cycle_patched_child.h5", RuleInconsistent, finding.Medium, true},
		{"malicious/deep_nesting.h5", RuleLimit, finding.High, false},
		{"malicious/duplicate_model_config.h5", RuleDuplicateName, finding.High, true},
		{"malicious/dense_attr_bad_heap_id.h5", RuleMalformed, finding.High, false},
		{"malicious/external_link.h5", RuleExternalLink, finding.Medium, true},
		{"malicious/external_storage.h5", RuleExternalStorage, finding.Medium, true},
		{"malicious/gheap_bad_index.h5", RuleMalformed, finding.High, false},
		{"malicious/gheap_object_outside.h5", RuleMalformed, finding.High, false},
		{"malicious/message_overrun.h5", RuleMalformed, finding.High, false},
		{"malicious/root_beyond_eof.h5", RuleMalformed, finding.High, false},
		{"malicious/root_beyond_eof_v3.h5", RuleMalformed, finding.High, false},
		{"malicious/trailing_zip.h5", RuleTrailingData, finding.Medium, true},
		{"malicious/truncated.h5", RuleTruncated, finding.High, false},
		{"malicious/userblock_pickle.h5", RuleUserBlock, finding.Medium, true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := fixture(t, tc.file)
			var rep Report
			alloc := allocated(func() { rep = scanBytes(b, Limits{}) })
			if !has(rep, tc.rule, tc.level) || rep.Complete != tc.complete {
				t.Errorf("want %s at %s, complete=%v; got complete=%v%s", tc.rule, tc.level, tc.complete, rep.Complete, dump(rep))
			}
			if alloc > 4<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
		})
	}
	// Duplicate names: Scan keeps the attribute HDF5 returns (the first).
	rep := scanBytes(fixture(t, "malicious/duplicate_model_config.h5"), Limits{})
	if !has(rep, RuleDuplicateName, finding.High) || !strings.Contains(rep.RootAttrs["model_config"], `"Lambda"`) {
		t.Errorf("duplicate model_config: %q%s", finding.Shorten(rep.RootAttrs["model_config"], 60), dump(rep))
	}
	weights := fixture(t, "benign/keras2_weights.h5")
	i := bytes.Index(weights, []byte("\x00dense_1\x00"))
	if i < 0 {
		t.Fatal("no dense_1 in a local heap")
	}
	dupLink := append([]byte(nil), weights...)
	copy(dupLink[i+1:], "dense\x00\x00")
	if rep := scanBytes(dupLink, Limits{}); !has(rep, RuleDuplicateName, finding.High) {
		t.Errorf("duplicate link:%s", dump(rep))
	}

	// The patched child also closes a loop, reported as a cycle.
	if rep := scanBytes(fixture(t, "malicious/cycle_patched_child.h5"), Limits{}); !has(rep, RuleCycle, finding.Low) {
		t.Errorf("patched child:%s", dump(rep))
	}
}

func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// patchAt returns a copy of b with v written little-endian at off.
func patchAt(b []byte, off int, v any) []byte {
	c := append([]byte(nil), b...)
	var buf bytes.Buffer
	_ = binary.Write(&buf, binary.LittleEndian, v)
	copy(c[off:], buf.Bytes())
	return c
}

// fixSuperblock recomputes the checksum of a version 2/3 superblock at 0.
func fixSuperblock(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[44:], lookup3(b[:44]))
	return b
}

// TestHugeFields: lengths and counts of 2^62..2^64 give a finding at once,
// with little memory.
func TestHugeFields(t *testing.T) {
	earliest := fixture(t, "benign/keras2_weights.h5")
	latest := fixture(t, "benign/types_latest.h5")
	root := 96 // root object header of a superblock-0 file (v1 header)
	for _, tc := range []struct {
		name string
		in   []byte
		rule string
	}{
		{"v3 EOF 2^63", fixSuperblock(patchAt(latest, 28, uint64(1)<<63)), RuleTruncated},
		{"v3 base above EOF", fixSuperblock(patchAt(latest, 12, uint64(1)<<62)), RuleMalformed},
		{"v0 EOF 2^63", patchAt(earliest, 40, uint64(1)<<63), RuleTruncated},
		{"v1 header size 4 GiB", patchAt(earliest, root+8, uint32(0xffffffff)), RuleMalformed},
		{"root address undefined", patchAt(earliest, 24+32+8, ^uint64(0)), RuleMalformed},
		{"offset size 16", patchAt(earliest, 13, uint8(16)), RuleMalformed},
		{"empty", nil, RuleMalformed},
		{"signature only", []byte("\x89HDF\r\n\x1a\n"), RuleMalformed},
		{"v3 superblock cut", latest[:20], RuleMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rep Report
			alloc := allocated(func() { rep = scanBytes(tc.in, Limits{}) })
			if !has(rep, tc.rule, finding.High) || rep.Complete {
				t.Errorf("want %s:%s", tc.rule, dump(rep))
			}
			if alloc > 2<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
		})
	}
}

// TestLimits: each cap, when hit, is a limit finding and Complete=false.
func TestLimits(t *testing.T) {
	keras := fixture(t, "benign/keras2_model.h5")
	for _, tc := range []struct {
		name string
		file []byte
		lim  Limits
	}{
		{"objects", keras, Limits{MaxObjects: 5}},
		{"depth", keras, Limits{MaxDepth: 1}},
		{"path", keras, Limits{MaxPathLen: 20}},
		{"metadata bytes", keras, Limits{MaxMetadataBytes: 8 << 10}},
		{"header bytes", keras, Limits{MaxHeaderBytes: 64}},
		{"messages", keras, Limits{MaxMessages: 2}},
		{"heap bytes", keras, Limits{MaxHeapBytes: 64}},
		{"btree nodes", fixture(t, "benign/big_group_earliest.h5"), Limits{MaxBTreeNodes: 2}},
		{"btree depth", fixture(t, "benign/dense_links_latest.h5"), Limits{MaxBTreeDepth: 1}},
		{"attr elements", fixture(t, "benign/dense_attrs_latest.h5"), Limits{MaxAttrElements: 10}},
		{"attr strings", keras, Limits{MaxAttrStrings: 1}},
		{"continuations", keras, Limits{MaxContinuations: 1}}, // /model_weights has 2 blocks
		{"attribute bytes", keras, Limits{MaxAttribute: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := scanBytes(tc.file, tc.lim)
			if !has(rep, RuleLimit, finding.High) || rep.Complete {
				t.Errorf("complete=%v%s", rep.Complete, dump(rep))
			}
		})
	}
}

func TestFindingsAreOneLine(t *testing.T) {
	for _, dir := range []string{"benign", "malicious"} {
		ents, _ := os.ReadDir(filepath.Join(fixtures, dir))
		for _, e := range ents {
			rep := scanBytes(fixture(t, dir+"/"+e.Name()), Limits{})
			checkInvariants(t, e.Name(), rep)
		}
	}
}

var ruleIDs = func() map[string]bool {
	m := map[string]bool{}
	for _, d := range Rules {
		m[d.ID] = true
	}
	return m
}()

func checkInvariants(t testing.TB, name string, rep Report) {
	t.Helper()
	high := false
	for _, f := range rep.Findings {
		if !ruleIDs[f.Rule] || f.Level < finding.Info || f.Level > finding.Critical || f.Message == "" ||
			strings.ContainsAny(f.Message, "\n\r") {
			t.Fatalf("%s: bad finding %+v", name, f)
		}
		high = high || f.Level >= finding.High
	}
	if !rep.Complete && !high {
		t.Fatalf("%s: incomplete without a high finding:%s", name, dump(rep))
	}
}

func TestRulesDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Rules {
		if !strings.HasPrefix(d.ID, "hdf5/") || d.Short == "" || len(d.Help) < 100 || seen[d.ID] {
			t.Errorf("rule doc %q", d.ID)
		}
		seen[d.ID] = true
	}
	if len(seen) != 12 {
		t.Errorf("%d rules documented", len(seen))
	}
}

// TestStructureLoops: pointers back to an ancestor structure end in a
// finding, never a loop.
func TestStructureLoops(t *testing.T) {
	// v1 B-tree: the root node's first child points at the root itself.
	big := fixture(t, "benign/big_group_earliest.h5")
	root := -1
	for p := bytes.Index(big, []byte("TREE")); p >= 0; {
		if big[p+5] == 1 { // the level-1 root of /many's B-tree
			root = p
		}
		n := bytes.Index(big[p+4:], []byte("TREE"))
		if n < 0 {
			break
		}
		p += 4 + n
	}
	if root < 0 {
		t.Fatal("no level-1 TREE node")
	}
	selfTree := patchAt(big, root+24+8, uint64(root))

	// Fractal heap: the root indirect block's first entry points at itself.
	links := fixture(t, "benign/dense_links_latest.h5")
	f, err := Open(bytes.NewReader(links), int64(len(links)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var heap *fheap
	for p := bytes.Index(links, []byte("FRHP")); p >= 0 && heap == nil; {
		if h, err := f.openFractalHeap(uint64(p)); err == nil && h.curRows > 0 {
			heap = h
		}
		n := bytes.Index(links[p+4:], []byte("FRHP"))
		if n < 0 {
			break
		}
		p += 4 + n
	}
	if heap == nil {
		t.Fatal("no fractal heap with an indirect root")
	}
	selfHeap := patchAt(links, int(heap.root)+5+8+heap.offBytes, heap.root)

	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"v1 B-tree child is its parent", selfTree, "v1 B-tree"},
		{"fractal heap block points at itself", selfHeap, "fractal heap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := scanBytes(tc.in, Limits{})
			ok := false
			for _, f := range rep.Findings {
				if f.Rule == RuleMalformed && strings.Contains(f.Message, tc.want) {
					ok = true
				}
			}
			if !ok || rep.Complete {
				t.Errorf("want a malformed %s finding:%s", tc.want, dump(rep))
			}
		})
	}
}

// TestLinkCounts: every link of the big groups is read (multi-level v1 and
// v2 B-trees, indirect fractal heap blocks), in name order.
func TestLinkCounts(t *testing.T) {
	for _, tc := range []struct {
		file string
		n    int
	}{
		{"benign/big_group_earliest.h5", 400},
		{"benign/dense_links_latest.h5", 1500},
	} {
		b := fixture(t, tc.file)
		f, err := Open(bytes.NewReader(b), int64(len(b)), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var many uint64
		_ = f.Walk(func(o *Object) error {
			if o.Path == "/many" {
				many = o.Addr
			}
			return nil
		})
		h, err := f.readHeader(many, "/many")
		if err != nil {
			t.Fatal(err)
		}
		links, err := f.links(h, "/many")
		if err != nil || len(links) != tc.n {
			t.Fatalf("%s: %d links, %v", tc.file, len(links), err)
		}
		names := map[string]bool{}
		for _, l := range links {
			names[l.name] = true
			if l.typ != linkHard || l.addr != links[0].addr {
				t.Fatalf("%s: link %+v", tc.file, l)
			}
		}
		if len(names) != tc.n || !names["link_0000"] || !names[fmt.Sprintf("link_%04d", tc.n-1)] {
			t.Errorf("%s: %d distinct names", tc.file, len(names))
		}
	}
}

func TestScalarDecoding(t *testing.T) {
	if got := fixedString([]byte("ab\x00cd\x00\x00")); got != "ab\x00cd" {
		t.Errorf("fixedString kept %q: only trailing NULs go, as in h5py", got)
	}
	i8 := &dtype{class: classFixed, size: 1, bits: 0x08}
	u16be := &dtype{class: classFixed, size: 2, bits: 0x01}
	f16 := &dtype{class: classFloat, size: 2, expSize: 5, mantSize: 10}
	bf16 := &dtype{class: classFloat, size: 2, expSize: 8, mantSize: 7}
	for _, tc := range []struct {
		t    *dtype
		in   []byte
		want any
	}{
		{i8, []byte{0xff}, int64(-1)},
		{u16be, []byte{0x01, 0x02}, int64(258)},
		{f16, []byte{0x00, 0x3c}, 1.0},
		{f16, []byte{0x00, 0xc0}, -2.0},
		{bf16, []byte{0x80, 0x3f}, 1.0},
	} {
		var got any
		if tc.t.class == classFixed {
			got = intAt(tc.in, tc.t)
		} else {
			got = floatAt(tc.in, tc.t)
		}
		if got != tc.want {
			t.Errorf("%s % x = %v, want %v", tc.t, tc.in, got, tc.want)
		}
	}
	if bf16.String() != "bf16" || u16be.String() != "u16be" || i8.String() != "i8" {
		t.Errorf("names %s %s %s", bf16, u16be, i8)
	}
}
