package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/cmdflag"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// Bounds that keep a soak run from becoming something else.
const (
	maxDuration    = 10 * time.Minute
	maxConnections = 1024
	warmup         = 5 * time.Second  // load before the first RSS sample counts
	rssWindow      = 10 * time.Second // RSS is compared between the first and last windows
	startTimeout   = 30 * time.Second
	stopTimeout    = 30 * time.Second // the relay waits REQUEST_TIMEOUT (15 s) plus 5 s on shutdown
)

// config is one soak run.
type config struct {
	bin          string
	duration     time.Duration
	connections  int
	latency      time.Duration
	maxRequests  int64
	maxRSSGrowth float64 // MiB between the first and last RSS windows
}

// parseSoak reads the flags of soak; it returns nil, nil after -h.
func parseSoak(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	fs.StringVar(&c.bin, "bin", "", "signals-relay binary (default: build ./cmd/signals-relay)")
	fs.DurationVar(&c.duration, "d", 60*time.Second, "measured duration, after a 5 s warm-up (at most 10m)")
	fs.IntVar(&c.connections, "c", 64, "concurrent connections (at most 1024)")
	fs.DurationVar(&c.latency, "latency", 20*time.Millisecond, "latency of the simulated Auth0 Signals API")
	fs.Int64Var(&c.maxRequests, "max-requests", 5_000_000, "stop after this many requests")
	fs.Float64Var(&c.maxRSSGrowth, "max-rss-growth", 32, "allowed RSS growth in MiB between the first and the last 10 s of the run")
	if help, err := cmdflag.Parse(fs, args); help || err != nil {
		return nil, err
	}
	switch {
	case c.duration < 2*rssWindow || c.duration > maxDuration:
		return nil, fmt.Errorf("-d must be between %s and %s", 2*rssWindow, maxDuration)
	case c.connections < 1 || c.connections > maxConnections:
		return nil, fmt.Errorf("-c must be between 1 and %d", maxConnections)
	case c.latency < 0 || c.maxRequests < 1 || c.maxRSSGrowth < 0:
		return nil, errors.New("-latency, -max-requests and -max-rss-growth must not be negative")
	}
	return c, nil
}

// report is what a soak run saw.
type report struct {
	*tally
	cfg              *config
	elapsed          time.Duration
	rss              []rssSample
	logLines         int64
	logPanics        int64
	logErrors        int64
	logStatus5xx     int64
	relayExit        error
	relayExitTimeout bool
	simExit          error
}

type rssSample struct {
	at  time.Duration // since the end of the warm-up
	kib int64
}

// run starts the simulator and the relay, drives them and stops them.
func (c *config) run(ctx context.Context, progress io.Writer) (*report, error) {
	work, err := os.MkdirTemp("", "soak-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	bin := c.bin
	if bin == "" {
		bin = filepath.Join(work, "signals-relay")
		fmt.Fprintln(progress, "building signals-relay")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/signals-relay/signals-relay/cmd/signals-relay")
		build.Stdout, build.Stderr = progress, progress
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
	}

	// The simulator prints its address on stdout.
	sim := child(ctx, bin, "simulate", "--addr", "127.0.0.1:0", "--latency", c.latency.String())
	sim.Stderr = io.Discard
	simOut, err := sim.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := sim.Start(); err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	defer func() { _, _ = stopProcess(sim, nil) }()
	simAddr, err := awaitLine(simOut, regexp.MustCompile(`simulator on http://(\S+) `))
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	go func() { _, _ = io.Copy(io.Discard, simOut) }()

	// The relay logs one JSON line per request on stderr; soak reads them
	// all, for its address first, then for panics and 5xx.
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	secretKey := hex.EncodeToString(secret)
	relay := child(ctx, bin, "serve", "--addr", "127.0.0.1:0")
	relay.Env = append(os.Environ(), "SECRET_KEY="+secretKey, "SIGNALS_API_URL=http://"+simAddr, "LOG_LEVEL=info")
	relayErr, err := relay.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := relay.Start(); err != nil {
		return nil, fmt.Errorf("start relay: %w", err)
	}
	defer func() { _, _ = stopProcess(relay, nil) }()
	logs := bufio.NewReaderSize(relayErr, 64<<10)
	relayAddr, err := awaitLine(logs, regexp.MustCompile(`"msg":"relay listening","addr":"([^"]+)"`))
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	for _, a := range []string{simAddr, relayAddr} {
		if host, _, err := net.SplitHostPort(a); err != nil || !net.ParseIP(host).IsLoopback() {
			return nil, fmt.Errorf("address %q is not on loopback", a)
		}
	}
	rep := &report{tally: newTally(), cfg: c}
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		rep.scanLogs(logs)
	}()
	fmt.Fprintf(progress, "simulator on %s (latency %s), relay on %s (pid %d); %s warm-up, then %s at %d connections\n",
		simAddr, c.latency, relayAddr, relay.Process.Pid, warmup, c.duration, c.connections)

	good, err := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte(secretKey))
	if err != nil {
		return nil, err
	}
	forged, err := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte("not-the-secret"))
	if err != nil {
		return nil, err
	}
	d := newDriver("http://"+relayAddr, "Bearer "+good, "Bearer "+forged, c.connections, rep.tally)
	d.limit = c.maxRequests
	rot := rotation()

	// Warm-up, then the measured run with an RSS sample every second.
	d.drive(ctx, rot, c.connections, warmup, false)
	measured, stopRSS := context.WithCancel(ctx)
	rssDone := make(chan struct{})
	go func() {
		defer close(rssDone)
		rep.sampleRSS(measured, relay.Process.Pid)
	}()
	start := time.Now()
	d.drive(ctx, rot, c.connections, c.duration, true)
	rep.elapsed = time.Since(start)
	stopRSS()
	<-rssDone
	d.client.CloseIdleConnections()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// A relay that is still alive must stop cleanly on SIGTERM.
	rep.relayExit, rep.relayExitTimeout = stopProcess(relay, syscall.SIGTERM)
	<-logsDone
	rep.simExit, _ = stopProcess(sim, syscall.SIGTERM)
	return rep, nil
}

// child returns a command for bin that gets SIGTERM (and, after
// stopTimeout, SIGKILL) when ctx ends, so that an interrupted soak stops
// its processes.
func child(ctx context.Context, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopTimeout
	return cmd
}

// awaitLine reads lines until re matches one, and returns its first group.
func awaitLine(r io.Reader, re *regexp.Regexp) (string, error) {
	found := make(chan string, 1)
	go func() {
		br, ok := r.(*bufio.Reader)
		if !ok {
			br = bufio.NewReader(r)
		}
		for {
			line, err := br.ReadString('\n')
			if m := re.FindStringSubmatch(line); m != nil {
				found <- m[1]
				return
			}
			if err != nil {
				close(found)
				return
			}
		}
	}()
	select {
	case s, ok := <-found:
		if !ok {
			return "", errors.New("exited before it was ready")
		}
		return s, nil
	case <-time.After(startTimeout):
		return "", errors.New("not ready in time")
	}
}

// stopProcess sends sig (nil: kill) once and waits for the process, at most
// stopTimeout; a process still running then is killed. It reports the exit
// error and whether the timeout struck.
func stopProcess(cmd *exec.Cmd, sig os.Signal) (error, bool) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return nil, false
	}
	if sig == nil {
		sig = os.Kill
	}
	_ = cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err, false
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		return <-done, true
	}
}

// scanLogs counts the relay's log lines, the panics and errors among them,
// and the request lines with a 5xx status.
func (r *report) scanLogs(logs *bufio.Reader) {
	var line struct {
		Level  string `json:"level"`
		Msg    string `json:"msg"`
		Status int    `json:"status"`
	}
	for {
		b, err := logs.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			r.logLines++
			line.Level, line.Msg, line.Status = "", "", 0
			if json.Unmarshal(b, &line) != nil {
				r.logErrors++ // not a log line: a crash trace or a stray print
			}
			switch {
			case strings.Contains(line.Msg, "panic"):
				r.logPanics++
			case line.Level == "ERROR":
				r.logErrors++
			}
			if line.Msg == "request" && line.Status >= 500 {
				r.logStatus5xx++
			}
		}
		if err != nil {
			return
		}
	}
}

// sampleRSS reads the relay's VmRSS every second until ctx ends.
func (r *report) sampleRSS(ctx context.Context, pid int) {
	start := time.Now()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if m, err := readMemory(pid); err == nil {
			r.rss = append(r.rss, rssSample{at: time.Since(start), kib: m.rssKiB})
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// rssWindows returns the mean RSS (MiB) of the first and the last window of
// the run, and the lowest and highest sample.
func (r *report) rssWindows() (first, last, low, high float64) {
	if len(r.rss) == 0 {
		return 0, 0, 0, 0
	}
	end := r.rss[len(r.rss)-1].at
	var fSum, lSum float64
	var fN, lN int
	low = float64(r.rss[0].kib) / 1024
	for _, s := range r.rss {
		m := float64(s.kib) / 1024
		low, high = min(low, m), max(high, m)
		if s.at < rssWindow {
			fSum, fN = fSum+m, fN+1
		}
		if s.at > end-rssWindow {
			lSum, lN = lSum+m, lN+1
		}
	}
	return fSum / float64(max(fN, 1)), lSum / float64(max(lN, 1)), low, high
}

// problems lists every check the run failed.
func (r *report) problems(c *config) []string {
	var p []string
	if r.fivexx > 0 || r.logStatus5xx > 0 {
		p = append(p, fmt.Sprintf("%d answers with a 5xx status (%d in the relay's log)", r.fivexx, r.logStatus5xx))
	}
	if r.transport > 0 {
		p = append(p, fmt.Sprintf("%d requests got no answer (first: %s)", r.transport, r.firstTransport))
	}
	for what, n := range r.unexpected {
		p = append(p, fmt.Sprintf("%d × %s", n, what))
	}
	if r.logPanics > 0 || r.logErrors > 0 {
		p = append(p, fmt.Sprintf("the relay logged %d panics and %d errors", r.logPanics, r.logErrors))
	}
	if r.relayExitTimeout || r.relayExit != nil {
		p = append(p, fmt.Sprintf("the relay did not exit cleanly on SIGTERM: %v (timeout %t)", r.relayExit, r.relayExitTimeout))
	}
	first, last, _, _ := r.rssWindows()
	if len(r.rss) < 2 {
		p = append(p, "no RSS samples")
	} else if last-first > c.maxRSSGrowth {
		p = append(p, fmt.Sprintf("RSS grew by %.1f MiB (from %.1f to %.1f MiB), more than %.0f MiB", last-first, first, last, c.maxRSSGrowth))
	}
	if r.requests == 0 {
		p = append(p, "no request was answered")
	}
	slices.Sort(p)
	return p
}

// write prints the report.
func (r *report) write(w io.Writer) {
	c := r.cfg
	fmt.Fprintf(w, "duration      %s at %d connections (after a %s warm-up), simulator latency %s\n",
		r.elapsed.Round(time.Millisecond), c.connections, warmup, c.latency)
	fmt.Fprintf(w, "requests      %d (%.0f req/s); 5xx %d; no answer %d; unexpected answers %d\n",
		r.requests, float64(r.requests)/r.elapsed.Seconds(), r.fivexx, r.transport, r.failed()-r.transport)
	r.writeLatency(w)
	first, last, low, high := r.rssWindows()
	fmt.Fprintf(w, "relay RSS     first 10 s %.1f MiB, last 10 s %.1f MiB (growth %+.1f MiB); min %.1f, max %.1f MiB over %d samples\n",
		first, last, last-first, low, high, len(r.rss))
	fmt.Fprintf(w, "relay log     %d lines, %d panics, %d errors, %d request lines with 5xx\n", r.logLines, r.logPanics, r.logErrors, r.logStatus5xx)
	fmt.Fprintf(w, "relay exit    %s\n", exitText(r.relayExit, r.relayExitTimeout))
	fmt.Fprintln(w, "answers by kind:")
	kinds := make([]string, 0, len(r.byKind))
	for k := range r.byKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		var parts []string
		statuses := make([]int, 0, len(r.byKind[k]))
		for s := range r.byKind[k] {
			statuses = append(statuses, s)
		}
		slices.Sort(statuses)
		for _, s := range statuses {
			parts = append(parts, fmt.Sprintf("%d×%d", s, r.byKind[k][s]))
		}
		fmt.Fprintf(w, "  %-24s %s\n", k, strings.Join(parts, " "))
	}
}

func exitText(err error, timeout bool) string {
	switch {
	case timeout:
		return "killed: no exit within " + stopTimeout.String() + " of SIGTERM"
	case err != nil:
		return err.Error()
	default:
		return "status 0 after SIGTERM"
	}
}
