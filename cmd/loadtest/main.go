// Command loadtest puts the relay under load. It has two modes.
//
// soak starts its own `signals-relay simulate` (with latency, and the
// simulator's fault addresses 192.0.2.5 → HTML 500 and 192.0.2.6 → 404 in
// the traffic) and `signals-relay serve` against it, both on loopback ports,
// keeps -c connections busy for -d with a fixed rotation of valid and
// invalid requests (see mix.go), and checks that the relay survives: every
// answer as expected, no 5xx, no dropped connection, no panic, a resident
// set size that stays flat, and a clean exit on SIGTERM at the end:
//
//	go run ./cmd/loadtest soak -d 60s -c 64 -latency 20ms
//
// -bin names a signals-relay binary; by default the command is built from
// this module first. The relay's own configuration (REQUEST_TIMEOUT,
// caches, …) can be given in the environment as usual; SECRET_KEY and
// SIGNALS_API_URL are set by soak. See docs/reliability.md.
//
// load drives a relay that is already running with one request, -c at a
// time, and reports throughput, latency percentiles and, given its process
// id, the relay's memory. It signs its own HS256 token with SECRET_KEY (the
// relay's secret) for the Auth0 Signals API key given by -key:
//
//	SECRET_KEY=... go run ./cmd/loadtest load -url http://127.0.0.1:9090/deliberate/observables -c 64 -d 10s -pid <relay pid>
//
// See docs/benchmarks.md. Both print their report on stdout and exit with
// status 1 when a check failed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: loadtest soak [flags]   start a simulator and a relay, load them and check the relay survives
       loadtest load [flags]   load a running relay and report throughput, latency and memory
Run 'loadtest <mode> -h' for a mode's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	var bad usageError
	switch {
	case errors.As(err, &bad):
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ error }

// run runs one mode.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		_, _ = io.WriteString(stderr, usage)
		return usageError{errors.New("no mode given")}
	}
	switch mode, args := args[0], args[1:]; mode {
	case "soak":
		return runSoak(ctx, args, stdout, stderr)
	case "load":
		return runLoad(ctx, args, getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	default:
		_, _ = io.WriteString(stderr, usage)
		return usageError{fmt.Errorf("unknown mode %q", mode)}
	}
}

// runSoak runs a soak and prints its report and verdict.
func runSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseSoak(args, stderr)
	if err != nil {
		return usageError{err}
	}
	if cfg == nil {
		return nil
	}
	rep, err := cfg.run(ctx, stderr)
	if err != nil {
		return err
	}
	rep.write(stdout)
	problems := rep.problems(cfg)
	if len(problems) == 0 {
		_, err := fmt.Fprintln(stdout, "PASS")
		return err
	}
	fmt.Fprintln(stdout, "FAIL")
	for _, p := range problems {
		fmt.Fprintln(stdout, "  -", p)
	}
	return fmt.Errorf("%d soak checks failed", len(problems))
}
