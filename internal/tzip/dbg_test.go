package tzip

import (
	"archive/zip"
	"bytes"
	"fmt"
	"testing"
	"time"
)

func TestDbgScale(t *testing.T) {
	var files []file
	for i := range 100000 {
		files = append(files, file{fmt.Sprintf("archive/data/%d", i), []byte("x"), zip.Store})
	}
	b := rawZipOf(files...)
	t0 := time.Now()
	a := open(t, b, Limits{})
	t.Logf("100k entries: %v, %d entries, %d issues", time.Since(t0), len(a.Entries), len(a.Issues))
	// all central records pointing at the same local header
	rs := records(b)
	var recs [][]byte
	for i := range rs {
		r := recBytes(b, rs[i])
		put32(r, 42, 0)
		recs = append(recs, r)
	}
	c := withCentral(b, recs)
	t0 = time.Now()
	a = open(t, c, Limits{})
	t.Logf("100k overlapping: %v, %d entries, %d issues", time.Since(t0), len(a.Entries), len(a.Issues))
	// drop all central records but the first: 99999 local-only entries
	d := withCentral(b, recs[:1])
	t0 = time.Now()
	a = open(t, d, Limits{})
	t.Logf("local-only: %v, %d entries, %d issues %v", time.Since(t0), len(a.Entries), len(a.Issues), kinds(a))
	_ = bytes.MinRead
}
