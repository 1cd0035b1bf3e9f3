// Command signals-relay is a Cisco XDR / Threat Response relay for the Auth0
// Signals IP-reputation service: serve, demo, simulate or version (see
// usage in run.go). Release builds (-tags release, as relayctl builds them)
// leave out demo and simulate with the simulator and JWT generator behind
// them. Started by AWS Lambda with no arguments, it serves the same relay
// as a Lambda function. Configuration comes from the environment (README).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "signals-relay: %v\n", err)
		os.Exit(1)
	}
}
