package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// config is one load run.
type config struct {
	url         string
	body        []byte
	connections int
	duration    time.Duration
	warmup      time.Duration
	pid         int // 0: no memory report
	authz       string
}

// parseConfig reads the flags; it returns nil, nil after -h.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:9090/deliberate/observables", "relay endpoint to POST to")
	body := fs.String("body", `[{"type":"ip","value":"203.0.113.66"}]`, "request body")
	c := fs.Int("c", 64, "concurrent connections")
	d := fs.Duration("d", 10*time.Second, "measured duration")
	warmup := fs.Duration("warmup", 2*time.Second, "unmeasured warm-up before the run")
	key := fs.String("key", simulator.DemoKey, "Auth0 Signals API key carried by the token")
	pid := fs.Int("pid", 0, "relay process id whose memory is reported (VmRSS before the warm-up and after the run, and VmHWM); 0: none")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *c < 1 || *d <= 0 || *warmup < 0 {
		return nil, errors.New("want -c ≥ 1, -d > 0 and -warmup ≥ 0")
	}
	secret := getenv("SECRET_KEY")
	if secret == "" {
		return nil, errors.New("SECRET_KEY is not set: export the relay's SECRET_KEY so that loadgen can sign its token")
	}
	tok, err := auth.SignHS256(map[string]any{"key": *key}, []byte(secret))
	if err != nil {
		return nil, err
	}
	return &config{url: *url, body: []byte(*body), connections: *c, duration: *d, warmup: *warmup, pid: *pid,
		authz: "Bearer " + tok}, nil
}

// result is what a run measured.
type result struct {
	connections  int
	elapsed      time.Duration
	requests     int
	failed       int
	firstFailure string
	latencies    []time.Duration // sorted
	memBefore    memory
	memAfter     memory
	pid          int
}

// memory is a process's resident set size now and at its peak, in KiB.
type memory struct{ rssKiB, peakKiB int64 }

// execute warms up, then runs the measured load.
func (c *config) execute(ctx context.Context) (*result, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = c.connections, c.connections, c.connections
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()

	res := &result{connections: c.connections, pid: c.pid}
	if c.pid != 0 {
		m, err := readMemory(c.pid)
		if err != nil {
			return nil, err
		}
		res.memBefore = m
	}
	if c.warmup > 0 {
		c.load(ctx, client, c.warmup)
	}
	start := time.Now()
	samples := c.load(ctx, client, c.duration)
	res.elapsed = time.Since(start)
	if c.pid != 0 {
		m, err := readMemory(c.pid)
		if err != nil {
			return nil, err
		}
		res.memAfter = m
	}
	for _, s := range samples {
		res.requests++
		if s.failure != "" {
			res.failed++
			if res.firstFailure == "" {
				res.firstFailure = s.failure
			}
			continue
		}
		res.latencies = append(res.latencies, s.latency)
	}
	slices.Sort(res.latencies)
	return res, nil
}

type sample struct {
	latency time.Duration
	failure string
}

// load keeps c.connections requests in flight for d and returns every
// request's outcome.
func (c *config) load(ctx context.Context, client *http.Client, d time.Duration) []sample {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	perWorker := make([][]sample, c.connections)
	var wg sync.WaitGroup
	for w := range perWorker {
		wg.Go(func() {
			for ctx.Err() == nil {
				s, ok := c.once(ctx, client)
				if !ok {
					return // the run ended during the request: not counted
				}
				perWorker[w] = append(perWorker[w], s)
			}
		})
	}
	wg.Wait()
	return slices.Concat(perWorker...)
}

// once sends one request. ok is false when the run ended while it was in
// flight.
func (c *config) once(ctx context.Context, client *http.Client) (s sample, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(c.body))
	if err != nil {
		return sample{failure: err.Error()}, true
	}
	req.Header.Set("Authorization", c.authz)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return sample{}, false
		}
		return sample{failure: err.Error()}, true
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	s.latency = time.Since(start)
	switch {
	case err != nil && ctx.Err() != nil:
		return sample{}, false
	case err != nil:
		s.failure = err.Error()
	case resp.StatusCode != http.StatusOK:
		s.failure = "HTTP " + resp.Status
	case bytes.Contains(b, []byte(`"errors"`)):
		s.failure = "error envelope: " + string(b[:min(len(b), 200)])
	}
	return s, true
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted latencies,
// by the nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(float64(len(sorted))*p/100)) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// readMemory reads VmRSS and VmHWM from /proc/<pid>/status (Linux).
func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, fmt.Errorf("memory of process %d: %w", pid, err)
	}
	defer f.Close()
	return parseStatus(f)
}

func parseStatus(r io.Reader) (memory, error) {
	var m memory
	found := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			return memory{}, fmt.Errorf("unexpected %s line %q", name, sc.Text())
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("unexpected %s line %q", name, sc.Text())
		}
		if name == "VmRSS" {
			m.rssKiB = n
		} else {
			m.peakKiB = n
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return memory{}, err
	}
	if found != 2 {
		return memory{}, errors.New("no VmRSS and VmHWM in the process status")
	}
	return m, nil
}

// write prints the report.
func (r *result) write(w io.Writer) {
	fmt.Fprintf(w, "connections   %d\n", r.connections)
	fmt.Fprintf(w, "duration      %s\n", r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "requests      %d (%d failed)\n", r.requests, r.failed)
	fmt.Fprintf(w, "throughput    %.0f req/s\n", float64(r.requests)/r.elapsed.Seconds())
	fmt.Fprintf(w, "latency       p50 %s  p90 %s  p99 %s  max %s\n",
		round(percentile(r.latencies, 50)), round(percentile(r.latencies, 90)),
		round(percentile(r.latencies, 99)), round(percentile(r.latencies, 100)))
	if r.pid != 0 {
		fmt.Fprintf(w, "relay memory  RSS before %.1f MiB, after %.1f MiB, peak (VmHWM) %.1f MiB (pid %d)\n",
			mib(r.memBefore.rssKiB), mib(r.memAfter.rssKiB), mib(r.memAfter.peakKiB), r.pid)
	}
}

func round(d time.Duration) time.Duration { return d.Round(time.Microsecond) }

func mib(kib int64) float64 { return float64(kib) / 1024 }
