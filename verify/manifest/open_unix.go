//go:build unix

package manifest

import (
	"os"
	"syscall"
)

// openFlags opens without blocking: a file swapped for a FIFO after it was
// listed must not hang the open (hashEntry then refuses it by its mode).
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
