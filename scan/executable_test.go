package scan

import (
	"encoding/binary"
	"testing"
)

func TestExecutableKind(t *testing.T) {
	pe := make([]byte, 0x90)
	copy(pe, "MZ")
	binary.LittleEndian.PutUint32(pe[0x3c:], 0x80)
	copy(pe[0x80:], "PE\x00\x00")
	pyc := []byte{0xcb, 0x0d, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xe3}
	for _, tc := range []struct {
		name string
		head []byte
		want string
	}{
		{"ELF", []byte("\x7fELF\x02\x01\x01"), "elf"},
		{"Mach-O 64", []byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}, "mach-o"},
		{"fat Mach-O", []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2}, "mach-o"},
		{"a Java class is not Mach-O", []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x41}, ""},
		{"PE", pe, "pe"},
		{"MZ text is not PE", append([]byte("MZ is a postal code"), make([]byte, 80)...), ""},
		{"wasm", []byte("\x00asm\x01\x00\x00\x00"), "wasm"},
		{"CPython 3.12 .pyc", pyc, "pyc"},
		{"text", []byte("# Model card\n"), ""},
		{"empty", nil, ""},
	} {
		if got := executableKind(tc.head); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
