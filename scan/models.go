package scan

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/gguf"
	"github.com/hallmarkdev/hallmark/formats/hdf5"
	"github.com/hallmarkdev/hallmark/formats/keras"
	"github.com/hallmarkdev/hallmark/formats/onnx"
	"github.com/hallmarkdev/hallmark/formats/safetensors"
	"github.com/hallmarkdev/hallmark/formats/tfgraph"
)

// Formats recognised by parsing the start of a protobuf.
const (
	FormatONNX = "onnx"
	FormatTF   = "tensorflow"
)

// safetensors checks a safetensors header against the file: offsets,
// sizes, dtypes, duplicate keys. Tensor bytes are never read.
func (w *walker) safetensors(in input) {
	ra, size, ok := w.randomAccess(in, FormatSafetensors)
	if !ok {
		return
	}
	rep := safetensors.Scan(ra, size, safetensors.Limits{})
	w.report(in, rep.Findings, rep.Complete, "")
	f := &w.facts
	f.addTensors(FormatSafetensors, rep.Tensors, rep.Parameters, rep.Dtypes)
	if fm := rep.Metadata["format"]; fm != "" && f.Framework == "" {
		f.Framework = map[string]string{"pt": "pytorch", "tf": "tensorflow", "flax": "flax", "mlx": "mlx", "np": "numpy"}[fm]
	}
	for k, v := range rep.Metadata {
		w.meta(k, v)
	}
}

// gguf reads a GGUF header, metadata and tensor table from the stream and
// analyses its chat templates; tensor data is never read.
func (w *walker) gguf(in input) {
	rep := gguf.Scan(in.r, in.size, gguf.Limits{})
	w.report(in, rep.Findings, rep.Complete, "")
	for _, t := range rep.Templates {
		src := "tokenizer.chat_template"
		if t.Name != "default" {
			src += "." + t.Name
		}
		w.template(in, src, t.Name, t.Text, t.Offset)
	}
	f := &w.facts
	f.Framework = "llama.cpp"
	if rep.Version > 0 {
		f.FormatVersion = fmt.Sprintf("GGUF v%d", rep.Version)
	}
	setIf(&f.Architecture, rep.Architecture)
	setIf(&f.ModelName, rep.Name)
	setIf(&f.License, rep.License)
	setIf(&f.Quantization, rep.FileTypeName)
	if f.ContextLength == 0 && rep.ContextLength > 0 {
		f.ContextLength = rep.ContextLength
	}
	if rep.TokenizerModel != "" {
		w.meta("tokenizer.ggml.model", rep.TokenizerModel)
	}
	if rep.QuantizationVersion > 0 {
		w.meta("general.quantization_version", fmt.Sprint(rep.QuantizationVersion))
	}
	// general.* names the base models, datasets, licence link and author
	// (llama.cpp's convert scripts copy them from the model card).
	for _, k := range sortedKeys(rep.General) {
		switch k {
		case "general.architecture", "general.name", "general.license":
			continue
		}
		w.meta(k, rep.General[k])
	}
	f.addTensors(FormatGGUF, rep.Tensors, rep.Parameters, rep.Dtypes)
}

// onnx walks an ONNX model: graph, subgraphs, functions, external data.
func (w *walker) onnx(in input) {
	ra, size, ok := w.randomAccess(in, FormatONNX)
	if !ok {
		return
	}
	rep := onnx.Scan(ra, size, onnx.Limits{})
	w.report(in, rep.Findings, rep.Complete, "")
	f := &w.facts
	f.Framework = "onnx"
	if rep.ProducerName != "" {
		f.Producer = strings.TrimSpace(rep.ProducerName + " " + rep.ProducerVersion)
	}
	f.FormatVersion = fmt.Sprintf("IR v%d", rep.IRVersion)
	for _, o := range rep.Opsets {
		d := o.Domain
		if d == "" {
			d = "ai.onnx"
		}
		f.Opsets = append(f.Opsets, fmt.Sprintf("%s:%d", d, o.Version))
	}
	f.Inputs = capList(rep.Inputs)
	f.Outputs = capList(rep.Outputs)
	f.addTensors(FormatONNX, rep.Initializers, rep.Parameters, rep.Dtypes)
	setIf(&f.ModelName, rep.GraphName)
	for k, v := range rep.Metadata {
		w.meta(k, v)
	}
	if in.member == "" {
		for _, e := range rep.ExternalData {
			// Absolute and escaping locations are the parser's findings;
			// the ones inside the folder are checked against it by Relate.
			if why, _ := onnx.LocationProblem(e.Location); why == "" && len(f.ExternalData) < 1024 {
				f.ExternalData = append(f.ExternalData, e.Location)
			}
		}
		sort.Strings(f.ExternalData)
		f.ExternalData = compact(f.ExternalData)
	}
}

// tensorflow walks a SavedModel, a frozen GraphDef or keras_metadata.pb.
func (w *walker) tensorflow(in input, kind string) {
	ra, size, ok := w.randomAccess(in, FormatTF)
	if !ok {
		return
	}
	var rep tfgraph.Report
	if k := tfgraph.Kind(w.headOf(ra, size), size); k == "" && kind != "" {
		rep = tfgraph.ScanKind(ra, size, kind, tfgraph.Limits{})
	} else {
		rep = tfgraph.Scan(ra, size, tfgraph.Limits{})
	}
	w.report(in, rep.Findings, rep.Complete, "")
	f := &w.facts
	f.Framework = "tensorflow"
	if rep.TFVersion != "" {
		f.Framework += " " + rep.TFVersion
	}
	f.FormatVersion = rep.Kind
	f.Ops = union(f.Ops, capList(rep.Ops))
	for i, m := range rep.KerasMetadata {
		w.kerasConfig(in, []byte(m), fmt.Sprintf("keras_metadata node %d", i))
	}
}

// headOf reads the sniff window of ra.
func (w *walker) headOf(ra io.ReaderAt, size int64) []byte {
	head := make([]byte, min(size, int64(w.lim.SniffBytes)))
	n, _ := ra.ReadAt(head, 0)
	return head[:n]
}

// hdf5 walks an HDF5 file's groups and attributes; a Keras 2 model keeps
// its architecture (and any Lambda bytecode) in the root attributes.
func (w *walker) hdf5(in input) {
	ra, size, ok := w.randomAccess(in, FormatHDF5)
	if !ok {
		return
	}
	rep := hdf5.Scan(ra, size, hdf5.Limits{})
	w.report(in, rep.Findings, rep.Complete, "")
	f := &w.facts
	f.addTensors(FormatHDF5, rep.Datasets, rep.Parameters, rep.Dtypes)
	attrs := rep.RootAttrs
	for _, k := range []string{"model_config", "training_config"} {
		if v, ok := attrs[k]; ok {
			f.Framework = "keras"
			w.kerasConfig(in, []byte(v), k)
		}
	}
	if v := attrs["keras_version"]; v != "" {
		f.Framework = "keras"
		f.FormatVersion = "Keras " + v
	}
	if v := attrs["backend"]; v != "" {
		w.meta("backend", v)
	}
}

// kerasConfig analyses a Keras model config (config.json, model_config,
// training_config or a keras_metadata.pb layer).
func (w *walker) kerasConfig(in input, data []byte, where string) {
	rep := keras.AnalyseConfig(data, where, keras.Limits{})
	w.report(in, rep.Findings, rep.Complete, "") // Where already names where
	f := &w.facts
	if f.Framework == "" || f.Framework == "zip" {
		f.Framework = "keras"
	}
	setIf(&f.Architecture, rep.ClassName)
	setIf(&f.ModelName, rep.ModelName)
	f.Layers = union(f.Layers, capList(rep.LayerClasses))
	// Bytes a config embeds for another loader (TorchModuleWrapper's
	// torch.save payload) are scanned like any member.
	for _, e := range rep.Embedded {
		if in.depth >= w.lim.MaxDepth {
			break
		}
		sub := input{member: in.join(e.Where), name: e.Where, r: bytes.NewReader(e.Data), ra: bytes.NewReader(e.Data), size: int64(len(e.Data)), depth: in.depth + 1}
		w.scan(sub)
	}
}

// kerasArchive notes a Keras 3 .keras zip and checks its member list.
func (w *walker) kerasArchive(in input, names []string) {
	w.facts.Framework = "keras"
	w.report(in, keras.CheckArchiveMembers(names), true, "")
}

// addTensors counts a parser's tensors into the file's facts.
func (f *Facts) addTensors(format string, n int, params int64, dtypes []string) {
	if n > 0 || params > 0 {
		f.WeightFormats = union(f.WeightFormats, []string{format})
	}
	f.Tensors += n
	f.Parameters += params
	f.Dtypes = union(f.Dtypes, dtypes)
}

func (w *walker) meta(k, v string) {
	if w.facts.Metadata == nil {
		w.facts.Metadata = map[string]string{}
	}
	if len(w.facts.Metadata) < 64 {
		w.facts.Metadata[k] = v
	}
}

const maxFactList = 256

func capList(s []string) []string {
	if len(s) > maxFactList {
		return s[:maxFactList]
	}
	return s
}

// union merges two sorted string sets.
func union(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	out := append(append([]string{}, a...), b...)
	sort.Strings(out)
	return capList(compact(out))
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
