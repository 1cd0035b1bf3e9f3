// Command relayctl packages the signals-relay for AWS Lambda and deploys,
// updates, watches and removes it, the way Zappa did for the original
// Python relay; `relayctl help` lists its commands and docs/aws.md tells
// the AWS setup.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/signals-relay/signals-relay/internal/relayctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := relayctl.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "relayctl:", err)
		os.Exit(1)
	}
}
