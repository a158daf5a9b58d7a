// Package esigncmd is the esign command for programs that build their own
// esign binary with their hooks compiled in (docs/customization.md,
// "Hooks"): a bank's main registers its functions in a customize.Registry
// and calls Main, as cmd/esign does with none. Everything else — the
// subcommands, the configuration, the hooks.* callouts — is the same.
package esigncmd

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"esign/customize"
	"esign/internal/cli"
)

// Main runs the command named by os.Args with the registry's hooks (nil:
// none) and exits with its status. It stops on SIGINT and SIGTERM.
func Main(hooks *customize.Registry) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], hooks)
	stop()
	os.Exit(code)
}

// Run runs the command named by args with the registry's hooks and
// returns its exit status.
func Run(ctx context.Context, args []string, hooks *customize.Registry) int {
	return cli.Run(ctx, cli.Env{Args: args, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ(),
		Hooks: hooks})
}
