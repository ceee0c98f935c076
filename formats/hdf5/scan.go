package hdf5

import (
	"io"
	"math"
	"sort"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// Rule ids. They are part of the JSON and SARIF output and of policy
// files: never rename one.
const (
	RuleMalformed       = "hdf5/malformed"        // structure cannot be parsed
	RuleTruncated       = "hdf5/truncated"        // file shorter than the data it declares
	RuleChecksum        = "hdf5/checksum"         // lookup3 checksum mismatch
	RuleLimit           = "hdf5/limit"            // a hallmark cap stopped the analysis
	RuleUnsupported     = "hdf5/unsupported"      // valid HDF5 this reader cannot decode
	RuleCycle           = "hdf5/cycle"            // a group contains itself through a hard link
	RuleInconsistent    = "hdf5/inconsistent"     // cached link metadata disagrees with the target
	RuleExternalLink    = "hdf5/external-link"    // link into another file
	RuleExternalStorage = "hdf5/external-storage" // dataset data in external or virtual sources
	RuleUserBlock       = "hdf5/userblock"        // non-empty bytes before the superblock
	RuleTrailingData    = "hdf5/trailing-data"    // bytes after the declared end of file
	RuleDuplicateName   = "hdf5/duplicate-name"   // two attributes or links with one name
)

// Rules documents every rule id the package reports.
var Rules = []finding.Doc{
	{ID: RuleMalformed, Short: "The HDF5 structure cannot be parsed.",
		Help: "A superblock, object header, B-tree, heap, datatype, dataspace or attribute is not what the HDF5 format allows: a wrong signature or version, a count larger than its node, a length past its block, an address outside the file, a loop between structures. HDF5 itself refuses or misreads such a file, and the part that could not be read was not checked for a payload (a Keras model_config with a Lambda layer hides in such a part as easily as anywhere). Treat the model as unscanned: do not load it, and get a clean copy from its source."},
	{ID: RuleTruncated, Short: "The file is shorter than the HDF5 data it declares.",
		Help: "The superblock's end-of-file address, or a structure the file points to, lies beyond the last byte. The file was cut short (an interrupted download or copy) or crafted. What is missing could not be checked. Download the model again and compare its digest with the publisher's."},
	{ID: RuleChecksum, Short: "An HDF5 metadata checksum does not match.",
		Help: "Version-2 HDF5 metadata (superblock 2/3, OHDR/OCHK object headers, v2 B-trees, fractal heaps) carries a Jenkins lookup3 checksum. A mismatch means the bytes changed after HDF5 wrote them: disk or transfer corruption, or a hand edit such as a patched attribute or address. HDF5 refuses to read the structure. Get a clean copy and compare digests."},
	{ID: RuleLimit, Short: "A hallmark limit stopped the HDF5 analysis.",
		Help: "The file needed more than a configured cap (objects, nesting depth, header size, messages, B-tree depth or nodes, heap size, attribute size, total metadata bytes read). Those caps keep a hostile file from exhausting memory or time; a real model rarely reaches them. Whatever lies past the cap was not checked, so the result is incomplete: raise the limit if the file is trusted and large, otherwise treat it as unscanned."},
	{ID: RuleUnsupported, Short: "The file uses an HDF5 feature this reader does not decode.",
		Help: "The structure is valid HDF5 but uses something hallmark's reader does not implement (shared object header messages, filtered fractal heaps). h5py and Keras do not write these by default. The part stored that way was not checked, so the result is incomplete: find out which tool wrote the file."},
	{ID: RuleCycle, Short: "A group contains itself through a hard link.",
		Help: "A hard link inside a group points back at that group or one of its parents. h5py can do this legitimately (g['loop'] = g), but recursive readers that follow links without remembering where they have been never finish, and it is unusual in a model file. hallmark visits every object once. Check why the model needs it."},
	{ID: RuleInconsistent, Short: "A link's cached metadata disagrees with the object it points to.",
		Help: "In old-style (symbol-table) groups each entry caches the child group's B-tree and name-heap addresses. Here the cached values differ from what the target object says, which HDF5 never writes: the link address was changed by hand, for example to point a child at its own parent. Readers that trust the cache and readers that follow the address see different trees. Treat the file as altered."},
	{ID: RuleExternalLink, Short: "An HDF5 link points into another file.",
		Help: "External links name a file and an object path; when a loader follows one, HDF5 opens that file (relative paths resolve against the model's directory, the current directory or HDF5_EXT_PREFIX). A model that reaches into other files can read local data into the model or depend on files an attacker places next to it. Keras models never need external links: remove them or do not load the file."},
	{ID: RuleExternalStorage, Short: "A dataset's data is stored outside the file.",
		Help: "The dataset uses external raw data files (an external data files message) or is a virtual dataset assembled from source datasets in other files. Reading those weights makes HDF5 read whatever the paths name on the loading machine, for example absolute paths like /etc/passwd or ../ paths, and pulls that content into the model. Keras never writes this: do not load the file."},
	{ID: RuleUserBlock, Short: "The bytes before the HDF5 superblock are not empty.",
		Help: "HDF5 allows a user block before the superblock (it then starts at 512, 1024…) and skips it. A non-empty user block can hold another file format, such as a pickle or a zip, that other loaders read from offset 0, a polyglot that looks like HDF5 to one tool and like something else to another. Keras never writes a user block: check what the leading bytes are."},
	{ID: RuleDuplicateName, Short: "Two attributes of one object, or two links of one group, have the same name.",
		Help: "HDF5 never writes two attributes or two links with one name; this file was edited by hand. HDF5 and h5py return the first attribute of a name (and find one link of a name), while another reader may keep the last, so a scanner and the loader can see different values: a benign model_config for the scanner, a Lambda layer for Keras. hallmark reports what HDF5 reads first and walks every link. Do not load the file."},
	{ID: RuleTrailingData, Short: "Bytes follow the end of the HDF5 data.",
		Help: "The superblock says where HDF5 data ends and the file is longer than that. HDF5 ignores the extra bytes, so they can carry a second file (for example a zip archive, whose directory sits at the end) that another tool opens instead: a polyglot. h5py closes files at exactly their end-of-file address. Check what the trailing bytes are."},
}

// AttrString is a string-valued attribute of an object other than the
// root (or a multi-valued one of the root). Elements of a []string value
// are joined with "\n".
type AttrString struct {
	Path  string
	Name  string
	Value string
}

// Report is what Scan found.
type Report struct {
	Findings []finding.Finding
	// Complete is false when part of the file was not read (malformed,
	// truncated, unsupported, or a limit): then a finding says why.
	Complete bool

	SuperblockVersion int // -1 when no superblock was read
	OffsetSize        int
	LengthSize        int
	UserBlock         int64 // bytes before the superblock
	Groups            int
	Datasets          int
	Datatypes         int   // committed (named) datatypes
	Parameters        int64 // sum of the datasets' element counts (saturates)
	Dtypes            []string
	// RootAttrs holds the root group's scalar string attributes
	// (model_config, training_config, keras_version, backend), each cut at
	// Limits.MaxAttribute bytes; RootAttrsTruncated names those that were
	// cut.
	RootAttrs          map[string]string
	RootAttrsTruncated []string
	// AttrStrings holds the other string attributes (layer_names,
	// weight_names…), up to Limits.MaxAttrStrings entries.
	AttrStrings []AttrString
	// Dropped counts findings not kept because their rule already had 16.
	Dropped int
}

// Scan reads the whole structure of an HDF5 file and returns findings and
// facts. It never returns an error: a file it cannot read is a finding.
func Scan(ra io.ReaderAt, size int64, lim Limits) Report {
	lim = lim.withDefaults()
	rep := Report{SuperblockVersion: -1, RootAttrs: map[string]string{}}
	f, err := Open(ra, size, lim)
	if err != nil {
		f = &File{r: &reader{lim: lim}}
		f.record(err, "")
		rep.Findings = f.list.Findings
		return rep
	}
	sb := f.Superblock
	rep.SuperblockVersion, rep.OffsetSize, rep.LengthSize, rep.UserBlock = sb.Version, sb.OffsetSize, sb.LengthSize, sb.UserBlock
	dtypes := map[string]bool{}
	stringsFull := false
	_ = f.Walk(func(o *Object) error {
		switch o.Kind {
		case "group":
			rep.Groups++
		case "dataset":
			rep.Datasets++
			if o.Elements > math.MaxInt64-uint64(rep.Parameters) {
				rep.Parameters = math.MaxInt64
			} else {
				rep.Parameters += int64(o.Elements)
			}
			if o.Dtype != "" {
				dtypes[o.Dtype] = true
			}
		case "datatype":
			rep.Datatypes++
		}
		for _, a := range o.Attrs {
			var v string
			switch x := a.Value.(type) {
			case string:
				if o.Path == "/" {
					if _, dup := rep.RootAttrs[a.Name]; dup {
						continue // HDF5 reads the first one; the duplicate is a finding
					}
					rep.RootAttrs[a.Name] = x
					if a.Truncated {
						rep.RootAttrsTruncated = append(rep.RootAttrsTruncated, a.Name)
					}
					continue
				}
				v = x
			case []string:
				v = strings.Join(x, "\n")
			default:
				continue
			}
			if len(rep.AttrStrings) >= lim.MaxAttrStrings {
				if !stringsFull {
					stringsFull = true
					f.record(&LimitError{Offset: a.Offset, Msg: "more string attributes than MaxAttrStrings: the rest are not reported for analysis"}, o.Path)
				}
				continue
			}
			rep.AttrStrings = append(rep.AttrStrings, AttrString{Path: o.Path, Name: a.Name, Value: v})
		}
		return nil
	})
	for d := range dtypes {
		rep.Dtypes = append(rep.Dtypes, d)
	}
	sort.Strings(rep.Dtypes)
	sort.Strings(rep.RootAttrsTruncated)
	rep.Findings = f.list.Findings
	rep.Dropped = f.list.Dropped
	rep.Complete = f.complete
	return rep
}
