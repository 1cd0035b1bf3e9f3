// Command signals-relay is a Cisco XDR / Threat Response relay for the Auth0
// Signals IP-reputation service.
//
// Usage:
//
//	signals-relay serve [--addr :9090]   serve the relay over HTTP
//	signals-relay demo [--once]          run the relay against the built-in simulator
//	signals-relay simulate [--addr …]    serve only the built-in Auth0 Signals simulator
//	signals-relay version                print the version
//
// Release builds (go build -tags release, as relayctl package and the image
// build them) leave out demo and simulate with the simulator and the JWT
// generator behind them.
//
// Started by AWS Lambda (AWS_LAMBDA_RUNTIME_API set) with no arguments, it
// serves the same relay as a Lambda function. Configuration comes from the
// environment; see the README's table.
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
