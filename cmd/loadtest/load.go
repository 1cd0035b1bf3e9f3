package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/cmdflag"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// loadConfig is one load run against a relay that is already running.
type loadConfig struct {
	url         string
	body        string
	connections int
	duration    time.Duration
	warmup      time.Duration
	pid         int // 0: no memory report
	authz       string
}

// parseLoad reads the flags of load; it returns nil, nil after -h.
func parseLoad(args []string, getenv func(string) string, stderr io.Writer) (*loadConfig, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:9090/deliberate/observables", "relay endpoint to POST to")
	body := fs.String("body", `[{"type":"ip","value":"203.0.113.66"}]`, "request body")
	c := fs.Int("c", 64, "concurrent connections")
	d := fs.Duration("d", 10*time.Second, "measured duration")
	warmup := fs.Duration("warmup", 2*time.Second, "unmeasured warm-up before the run")
	key := fs.String("key", simulator.DemoKey, "Auth0 Signals API key carried by the token")
	pid := fs.Int("pid", 0, "relay process id whose memory is reported (VmRSS before the warm-up and after the run, and VmHWM); 0: none")
	if help, err := cmdflag.Parse(fs, args); help || err != nil {
		return nil, err
	}
	if *c < 1 || *d <= 0 || *warmup < 0 {
		return nil, errors.New("want -c ≥ 1, -d > 0 and -warmup ≥ 0")
	}
	secret := getenv("SECRET_KEY")
	if secret == "" {
		return nil, errors.New("SECRET_KEY is not set: export the relay's SECRET_KEY so that load can sign its token")
	}
	tok, err := auth.SignHS256(map[string]any{"key": *key}, []byte(secret))
	if err != nil {
		return nil, err
	}
	return &loadConfig{url: *url, body: *body, connections: *c, duration: *d, warmup: *warmup, pid: *pid,
		authz: "Bearer " + tok}, nil
}

// loadResult is what a load run measured.
type loadResult struct {
	*tally
	cfg                 *loadConfig
	elapsed             time.Duration
	memBefore, memAfter memory
}

// runLoad parses args, warms up, runs the measured load and reports; it
// fails when any request failed.
func runLoad(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseLoad(args, getenv, stderr)
	if err != nil || c == nil {
		return err
	}
	rot := []kind{{name: "load", method: http.MethodPost, path: c.url, authz: "good", body: fixed(c.body),
		status: http.StatusOK, forbid: `"errors"`, weight: 1}}
	res := &loadResult{tally: newTally(), cfg: c}
	d := newDriver("", c.authz, "", c.connections, res.tally)
	defer d.client.CloseIdleConnections()
	if c.pid != 0 {
		if res.memBefore, err = readMemory(c.pid); err != nil {
			return err
		}
	}
	if c.warmup > 0 {
		d.drive(ctx, rot, c.connections, c.warmup, false)
	}
	start := time.Now()
	d.drive(ctx, rot, c.connections, c.duration, true)
	res.elapsed = time.Since(start)
	if c.pid != 0 {
		if res.memAfter, err = readMemory(c.pid); err != nil {
			return err
		}
	}
	res.write(stdout)
	if n := res.failed(); n > 0 {
		return fmt.Errorf("%d of %d requests failed (first: %s)", n, res.requests, res.firstFailure())
	}
	return nil
}

// firstFailure describes one failed request.
func (t *tally) firstFailure() string {
	if t.firstTransport != "" {
		return t.firstTransport
	}
	for what := range t.unexpected {
		return what
	}
	return ""
}

// write prints the report.
func (r *loadResult) write(w io.Writer) {
	fmt.Fprintf(w, "connections   %d\n", r.cfg.connections)
	fmt.Fprintf(w, "duration      %s\n", r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "requests      %d (%d failed)\n", r.requests, r.failed())
	fmt.Fprintf(w, "throughput    %.0f req/s\n", float64(r.requests)/r.elapsed.Seconds())
	r.writeLatency(w)
	if r.cfg.pid != 0 {
		fmt.Fprintf(w, "relay memory  RSS before %.1f MiB, after %.1f MiB, peak (VmHWM) %.1f MiB (pid %d)\n",
			mib(r.memBefore.rssKiB), mib(r.memAfter.rssKiB), mib(r.memAfter.peakKiB), r.cfg.pid)
	}
}
