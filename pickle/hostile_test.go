package pickle

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"
)

func le64(n uint64) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, n)
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// Hostile lengths, truncation and garbage end in a finding, never a panic,
// a hang, or an allocation near what the stream declares.
func TestHostileInputs(t *testing.T) {
	payload := []byte("cos\nsystem\n(S'echo hallmark-test-marker'\ntR")
	tests := []struct {
		name string
		data []byte
		min  Level
		want string
	}{
		{"binbytes8 2^63", cat([]byte{0x80, 4, byte(BINBYTES8)}, le64(1<<63), []byte("x")), LevelHigh, "maximum size"},
		{"binbytes8 2^62", cat([]byte{0x80, 4, byte(BINBYTES8)}, le64(1<<62), []byte("xyz")), LevelHigh, "declared"},
		{"binunicode8 2^62", cat([]byte{0x80, 4, byte(BINUNICODE8)}, le64(1<<62), []byte("xyz")), LevelHigh, "declared"},
		{"bytearray8 2^62", cat([]byte{0x80, 5, byte(BYTEARRAY8)}, le64(1<<62)), LevelHigh, "declared"},
		{"frame 2^62", cat([]byte{0x80, 4, byte(FRAME)}, le64(1<<62), []byte("N.")), LevelHigh, "FRAME"},
		{"long4 2^31-1", cat([]byte{0x80, 2, byte(LONG4)}, []byte{0xff, 0xff, 0xff, 0x7f}, []byte("ab")), LevelHigh, "declared"},
		{"binunicode 4 GiB", cat([]byte{0x80, 2, byte(BINUNICODE)}, []byte{0xff, 0xff, 0xff, 0xff}), LevelHigh, "declared"},
		{"truncated after payload", payload, LevelCritical, "os.system"},
		{"payload then garbage", cat(payload, []byte("\xff\xfe garbage \x00\x01")), LevelCritical, "os.system"},
		{"garbage only", []byte("\x80\x02\xff\xff\xff\xff"), LevelHigh, "invalid opcode"},
		{"unknown protocol", []byte("\x80\x07N."), LevelHigh, "unsupported pickle protocol"},
		{"stack underflow", []byte("\x80\x02R."), LevelHigh, "underflow"},
		{"huge memo key", cat([]byte{0x80, 2, 'N', byte(LONG_BINPUT), 0xff, 0xff, 0xff, 0xff}, []byte("0"), payload, []byte(".")), LevelCritical, "os.system"},
		{"unterminated line", cat([]byte("S'"), bytes.Repeat([]byte("a"), 3<<20)), LevelHigh, "newline"},
		{"deep nesting", cat([]byte{0x80, 2}, bytes.Repeat([]byte{byte(EMPTY_LIST)}, 2_000_000), []byte{'.'}), LevelHigh, "stack deeper"},
		{"mark bomb", cat([]byte{0x80, 2}, bytes.Repeat([]byte{byte(MARK)}, 1_000_000), []byte{'N', '.'}), 0, ""},
		{"dup bomb", cat([]byte{0x80, 2, byte(EMPTY_LIST)}, bytes.Repeat([]byte{byte(DUP)}, 2_000_000), []byte{'.'}), LevelHigh, "stack deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			rep := Scan(bytes.NewReader(tt.data), Options{})
			runtime.ReadMemStats(&after)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 512<<20 {
				t.Errorf("allocated %d MiB for a %d-byte input", grew>>20, len(tt.data))
			}
			if tt.min == 0 {
				return
			}
			if rep.Max() < tt.min {
				t.Fatalf("max level %s, want ≥ %s:%s", rep.Max(), tt.min, describe(rep))
			}
			found := false
			for _, f := range rep.Findings {
				if strings.Contains(f.Message+" "+f.Global+" "+f.Evidence, tt.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("no finding mentions %q:%s", tt.want, describe(rep))
			}
		})
	}
}
