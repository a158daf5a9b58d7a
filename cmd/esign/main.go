// Command esign runs the processes of the esign electronic-signature
// platform and its tools. See 'esign help'.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"esign/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()})
	stop()
	os.Exit(code)
}
