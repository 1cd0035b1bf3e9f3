// Command soak runs the relay under sustained mixed load and checks that it
// survives: no 5xx answer, no dropped connection, no panic, no crash, a
// resident set size that stays flat, and a clean exit on SIGTERM at the end.
//
// It starts its own `signals-relay simulate` (with latency, and the
// simulator's fault addresses 192.0.2.5 → HTML 500 and 192.0.2.6 → 404 in
// the traffic) and `signals-relay serve` against it, both on loopback ports,
// then keeps -c connections busy for -d with a fixed rotation of valid and
// invalid requests (see mix.go):
//
//	go run ./cmd/soak -d 60s -c 64 -latency 20ms
//
// -bin names a signals-relay binary; by default the command is built from
// this module first. The relay's own configuration (REQUEST_TIMEOUT,
// caches, …) can be given in the environment as usual; SECRET_KEY and
// SIGNALS_API_URL are set by soak. The report and the verdict go to stdout;
// the exit status is 1 when any check failed. See docs/reliability.md.
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
	defer stop()
	cfg, err := parseConfig(os.Args[1:], os.Stderr)
	if err != nil || cfg == nil {
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(2)
		}
		return
	}
	rep, err := cfg.run(ctx, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	rep.write(os.Stdout)
	if problems := rep.problems(cfg); len(problems) > 0 {
		fmt.Println("FAIL")
		for _, p := range problems {
			fmt.Println("  -", p)
		}
		os.Exit(1)
	}
	fmt.Println("PASS")
}
