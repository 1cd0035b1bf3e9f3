// Command loadtest loads a relay that is already running with one request,
// -c at a time, and reports throughput, latency percentiles and, given its
// process id, the relay's memory and the CPU time it spent per request. It
// signs its own HS256 token with SECRET_KEY (the relay's secret) for the
// Auth0 Signals API key given by -key:
//
//	SECRET_KEY=... go run ./cmd/loadtest load -url http://127.0.0.1:9090/deliberate/observables -c 64 -d 10s -pid <relay pid>
//
// It prints its report on stdout and exits with status 1 when a request
// failed. See docs/benchmarks.md.
//
// 'loadtest attack -mode keepalive-hold|silent|forged-token|big-refer|slow-body'
// attacks a relay on loopback for a bounded time while a well-behaved probe
// client measures the public port and the admin listener, and reports the
// relay's peak RSS; see docs/reliability.md, section 9.
//
// The package's TestSoak drives a simulator and a relay that it starts
// itself with the same driver and checks that the relay survives; it runs
// only when asked for (go test ./cmd/loadtest -run '^TestSoak$' -soak 60s),
// see docs/reliability.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/cmdflag"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

const usage = `usage: loadtest load [flags]     load a running relay and report throughput, latency, memory and CPU
       loadtest attack [flags]   attack a relay on loopback (-mode keepalive-hold|silent|forged-token|big-refer|slow-body)
                                 and report a well-behaved probe's latency and the relay's peak RSS
Run 'loadtest load -h' or 'loadtest attack -h' for the flags.
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

// loadConfig is one load run against a relay that is already running.
type loadConfig struct {
	connections      int
	duration, warmup time.Duration
	pid              int // 0: no memory and CPU report
	request          kind
}

// run parses args, warms up, runs the measured load and reports; it fails
// when any request failed.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && args[0] == "attack":
		c, err := parseAttack(args[1:], getenv, stderr)
		if err != nil || c == nil {
			return err
		}
		return runAttack(ctx, c, stdout)
	case len(args) > 0 && args[0] == "load":
	case len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		_, err := io.WriteString(stdout, usage)
		return err
	case len(args) > 0 && args[0] == "soak":
		return usageError{errors.New("the soak is a test: go test ./cmd/loadtest -run '^TestSoak$' -v -soak 60s -soak.c 64 -soak.latency 20ms")}
	default:
		_, _ = io.WriteString(stderr, usage)
		return usageError{errors.New("the mode is load or attack")}
	}
	c, err := parseLoad(args[1:], getenv, stderr)
	if err != nil || c == nil {
		return err
	}
	res := &loadResult{tally: newTally(), cfg: c}
	d := newDriver(c.connections, res.tally)
	defer d.client.CloseIdleConnections()
	rot := []kind{c.request}
	if c.pid != 0 {
		if res.before, err = readProc(c.pid); err != nil {
			return err
		}
	}
	if c.warmup > 0 {
		d.drive(ctx, rot, c.connections, c.warmup, false)
	}
	if c.pid != 0 {
		if res.start, err = readProc(c.pid); err != nil {
			return err
		}
	}
	begin := time.Now()
	d.drive(ctx, rot, c.connections, c.duration, true)
	res.elapsed = time.Since(begin)
	if c.pid != 0 {
		if res.end, err = readProc(c.pid); err != nil {
			return err
		}
	}
	res.write(stdout)
	if n := res.failed(); n > 0 {
		return fmt.Errorf("%d of %d requests failed (first: %s)", n, res.requests, res.firstFailure())
	}
	return nil
}

// parseLoad reads the flags of load; it returns nil, nil after -h.
func parseLoad(args []string, getenv func(string) string, stderr io.Writer) (*loadConfig, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:9090/deliberate/observables", "relay endpoint to POST to")
	body := fs.String("body", `[{"type":"ip","value":"203.0.113.66"}]`, "request body")
	c := &loadConfig{}
	fs.IntVar(&c.connections, "c", 64, "concurrent connections")
	fs.DurationVar(&c.duration, "d", 10*time.Second, "measured duration")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "unmeasured warm-up before the run")
	key := fs.String("key", simulator.DemoKey, "Auth0 Signals API key carried by the token")
	fs.IntVar(&c.pid, "pid", 0, "relay process id whose memory (VmRSS before the warm-up and after the run, VmHWM) and "+
		"CPU time per request over the measured run (Linux /proc) are reported; 0: none")
	if help, err := cmdflag.Parse(fs, args); help || err != nil {
		if err != nil {
			err = usageError{err}
		}
		return nil, err
	}
	if c.connections < 1 || c.duration <= 0 || c.warmup < 0 {
		return nil, usageError{errors.New("want -c ≥ 1, -d > 0 and -warmup ≥ 0")}
	}
	tok, err := signToken(getenv, *key, "load")
	if err != nil {
		return nil, err
	}
	c.request = kind{name: "load", method: http.MethodPost, url: *url, header: http.Header{"Authorization": {"Bearer " + tok}},
		body: func(*mrand.Rand) string { return *body }, status: http.StatusOK, forbid: `"errors"`}
	return c, nil
}

// signToken signs an HS256 token for key with the relay's SECRET_KEY.
func signToken(getenv func(string) string, key, who string) (string, error) {
	secret := getenv("SECRET_KEY")
	if secret == "" {
		return "", errors.New("SECRET_KEY is not set: export the relay's SECRET_KEY so that " + who + " can sign its token")
	}
	return auth.SignHS256(map[string]any{"key": key}, []byte(secret))
}

// loadResult is what a load run measured: the relay's process before the
// warm-up, at the start of the measured run and at its end.
type loadResult struct {
	*tally
	cfg                *loadConfig
	elapsed            time.Duration
	before, start, end proc
}

// write prints the report.
func (r *loadResult) write(w io.Writer) {
	fmt.Fprintf(w, "connections   %d\n", r.cfg.connections)
	fmt.Fprintf(w, "duration      %s\n", r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "requests      %d (%d failed)\n", r.requests, r.failed())
	fmt.Fprintf(w, "throughput    %.0f req/s\n", float64(r.requests)/r.elapsed.Seconds())
	r.writeLatency(w)
	if r.cfg.pid == 0 {
		return
	}
	fmt.Fprintf(w, "relay memory  RSS before %.1f MiB, after %.1f MiB, peak (VmHWM) %.1f MiB (pid %d)\n",
		mib(r.before.rssKiB), mib(r.end.rssKiB), mib(r.end.peakKiB), r.cfg.pid)
	cpu := r.end.cpu - r.start.cpu
	fmt.Fprintf(w, "relay cpu     %.0f µs/request (user+system: %s in the measured run, read in %s ticks)\n",
		float64(cpu.Microseconds())/float64(max(r.requests, 1)), cpu, time.Second/userHZ)
}
