package ocitest

import (
	"archive/tar"
	"bytes"
	"fmt"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// ModelPack tar layer media types.
const (
	ModelPackTarGzip = "application/vnd.cncf.model.weight.v1.tar+gzip"
	ModelPackTarZstd = "application/vnd.cncf.model.weight.v1.tar+zstd"
)

// TarMember is one entry of a test tar: a regular file unless Type says
// otherwise (tar.TypeDir, tar.TypeSymlink with Link…).
type TarMember struct {
	Name string
	Data []byte
	Type byte
	Link string
}

// Tar packs members into a tar, compressed as packing says: "tar",
// "tar+gzip" or "tar+zstd".
func Tar(packing string, members ...TarMember) ([]byte, error) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, m := range members {
		h := &tar.Header{Name: m.Name, Mode: 0o644, Size: int64(len(m.Data)), Typeflag: m.Type, Linkname: m.Link}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Size > 0 {
			if _, err := tw.Write(m.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	switch packing {
	case "tar":
		return tb.Bytes(), nil
	case "tar+gzip":
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		zw.Write(tb.Bytes())
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return zb.Bytes(), nil
	case "tar+zstd":
		zw, err := zstd.NewWriter(nil)
		if err != nil {
			return nil, err
		}
		defer zw.Close()
		return zw.EncodeAll(tb.Bytes(), nil), nil
	}
	return nil, fmt.Errorf("unknown packing %q (want tar, tar+gzip, tar+zstd)", packing)
}

// TarFiles packs files as regular tar members.
func TarFiles(packing string, files ...File) ([]byte, error) {
	ms := make([]TarMember, len(files))
	for i, f := range files {
		ms[i] = TarMember{Name: f.Name, Data: f.Data}
	}
	return Tar(packing, ms...)
}
