// Command loadgen drives a running relay with concurrent requests and
// reports throughput, latency percentiles and, when given a process id, the
// relay's memory before and after.
//
// It signs its own HS256 token with SECRET_KEY (the relay's secret) for the
// Auth0 Signals API key given by -key, so that it needs nothing but the
// relay's configuration:
//
//	SECRET_KEY=... go run ./cmd/loadgen -url http://127.0.0.1:9090/deliberate/observables -c 64 -d 10s -pid <relay pid>
//
// See docs/benchmarks.md for the full procedure.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// run parses args and performs one load run; report goes to stdout.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil || cfg == nil {
		return err
	}
	res, err := cfg.execute(ctx)
	if err != nil {
		return err
	}
	res.write(stdout)
	if res.failed > 0 {
		return fmt.Errorf("%d of %d requests failed (first: %s)", res.failed, res.requests, res.firstFailure)
	}
	return nil
}
