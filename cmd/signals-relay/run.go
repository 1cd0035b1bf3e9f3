package main

import (
	"context"
	"fmt"
	"io"

	"github.com/signals-relay/signals-relay/internal/lambdaedge"
	"github.com/signals-relay/signals-relay/internal/version"
)

const usage = `usage: signals-relay <command> [flags]

commands:
  serve      serve the relay over HTTP (the default; on AWS Lambda, the function)
  demo       run the relay against the built-in Auth0 Signals simulator and show a lookup
  simulate   serve only the built-in Auth0 Signals simulator
  version    print the version

demo and simulate are left out of release builds (-tags release).

Run 'signals-relay <command> -h' for a command's flags.
Configuration comes from the environment (SECRET_KEY, SIGNALS_API_URL, ...); see README.md.
`

// run is the program: it parses args and runs one command until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 && getenv(lambdaedge.RuntimeAPIEnv) != "" {
		return runLambda(getenv, stderr)
	}
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, getenv, stderr)
	case "demo":
		return runDemo(ctx, args, getenv, stdout, stderr)
	case "simulate":
		return runSimulate(ctx, args, stdout, stderr)
	case "version", "-version", "--version":
		_, err := fmt.Fprintln(stdout, version.Product, version.Version)
		return err
	case "help", "-h", "-help", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	default:
		_, _ = io.WriteString(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
