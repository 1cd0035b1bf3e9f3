//go:build !release

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/signals-relay/signals-relay/internal/cmdflag"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// shutdownGrace is what in-flight requests of simulate and demo get at shutdown.
const shutdownGrace = 5 * time.Second

func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9191", "listen address")
	latency := fs.Duration("latency", 0, "latency added to every answer, e.g. 30ms")
	quota := fs.Int("quota", 0, "requests allowed per API key before 429 (0: unlimited)")
	if help, err := cmdflag.Parse(fs, args); help || err != nil {
		return err
	}
	ln, err := listen(ctx, *addr)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, 0)
	sim := simulator.New(simulator.Options{Latency: *latency, Quota: *quota})
	fmt.Fprintf(stdout, "Auth0 Signals simulator on http://%s (API key %s)\n", ln.Addr(), simulator.DemoKey)
	return serveUntilDone(ctx, newServer(sim, logger), ln, logger, shutdownGrace)
}
