// Command hallmark checks machine-learning models before anyone loads them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hallmarkdev/hallmark/cmd/hallmark/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
