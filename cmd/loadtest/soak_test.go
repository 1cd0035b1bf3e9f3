//go:build linux

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
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// The soak runs only when asked for, as CI does:
//
//	go test ./cmd/loadtest -count=1 -run '^TestSoak$' -v -timeout 280s -soak 20s -soak.c 16 -soak.latency 20ms
var (
	soakFor     = flag.Duration("soak", 0, "run TestSoak: load the relay this long (at least 2s), after a 5 s warm-up")
	soakConns   = flag.Int("soak.c", 64, "TestSoak's concurrent connections (at most 1024)")
	soakLatency = flag.Duration("soak.latency", 20*time.Millisecond, "latency of TestSoak's simulated Auth0 Signals API")
)

const (
	warmup       = 5 * time.Second  // load before the first RSS sample counts
	rssWindow    = 10 * time.Second // RSS is compared between the first and last windows (at most half the run)
	maxRSSGrowth = 32.0             // MiB between the first and last RSS windows
	startTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second // the relay waits REQUEST_TIMEOUT (15 s) plus 5 s on shutdown
)

// TestSoak starts `signals-relay simulate` (with latency, and the
// simulator's fault addresses 192.0.2.5 → HTML 500 and 192.0.2.6 → 404 in
// the traffic) and `signals-relay serve` against it, both built from this
// module and on loopback ports, keeps -soak.c connections busy for -soak
// with a fixed rotation of valid and invalid requests (see mix), and checks
// that the relay survives: every answer as expected, no 5xx, no dropped
// connection, no panic, a resident set size that stays flat, and a clean
// exit on SIGTERM at the end. The relay's own configuration
// (REQUEST_TIMEOUT, caches, …) can be given in the environment as usual;
// SECRET_KEY and SIGNALS_API_URL are set by the test. See
// docs/reliability.md.
func TestSoak(t *testing.T) {
	if *soakFor == 0 {
		t.Skip("the soak runs with -soak DURATION (see docs/reliability.md)")
	}
	c := &soakConfig{duration: *soakFor, connections: *soakConns, latency: *soakLatency}
	if c.duration < 2*time.Second || c.connections < 1 || c.connections > 1024 || c.latency < 0 {
		t.Fatalf("want -soak ≥ 2s, 1 ≤ -soak.c ≤ 1024 and -soak.latency ≥ 0")
	}
	bin := filepath.Join(t.TempDir(), "signals-relay")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/signals-relay/signals-relay/cmd/signals-relay")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	rep, err := c.run(t.Context(), bin, t)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.write(&out)
	t.Log("\n" + out.String())
	for _, p := range rep.problems() {
		t.Error(p)
	}
}

// soakConfig is one soak run.
type soakConfig struct {
	duration    time.Duration
	connections int
	latency     time.Duration
}

// window is the length of the first and the last RSS window.
func (c *soakConfig) window() time.Duration { return min(rssWindow, c.duration/2) }

// report is what a soak run saw.
type report struct {
	*tally
	cfg              *soakConfig
	elapsed          time.Duration
	rss              []rssSample
	logLines         int64
	logPanics        int64
	logErrors        int64
	logStatus5xx     int64
	relayExit        error
	relayExitTimeout bool
}

type rssSample struct {
	at  time.Duration // since the end of the warm-up
	kib int64
}

// run starts the simulator and the relay, drives them and stops them.
func (c *soakConfig) run(ctx context.Context, bin string, t *testing.T) (*report, error) {
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

	// The relay logs one JSON line per request on stderr; the soak reads
	// them all, for its address first, then for panics and 5xx.
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
	t.Logf("simulator on %s (latency %s), relay on %s (pid %d); %s warm-up, then %s at %d connections",
		simAddr, c.latency, relayAddr, relay.Process.Pid, warmup, c.duration, c.connections)

	good, err := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte(secretKey))
	if err != nil {
		return nil, err
	}
	forged, err := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte("not-the-secret"))
	if err != nil {
		return nil, err
	}
	d := newDriver(c.connections, rep.tally)
	rot := rotation("http://"+relayAddr, "Bearer "+good, "Bearer "+forged)

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
	_, _ = stopProcess(sim, syscall.SIGTERM)
	return rep, nil
}

// child returns a command for bin that gets SIGTERM (and, after
// stopTimeout, SIGKILL) when ctx ends, and SIGKILL when the test process
// dies (a -timeout), so that an interrupted soak stops its processes.
func child(ctx context.Context, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopTimeout
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
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
		if p, err := readProc(pid); err == nil {
			r.rss = append(r.rss, rssSample{at: time.Since(start), kib: p.rssKiB})
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
	end, window := r.rss[len(r.rss)-1].at, r.cfg.window()
	var fSum, lSum float64
	var fN, lN int
	low = mib(r.rss[0].kib)
	for _, s := range r.rss {
		m := mib(s.kib)
		low, high = min(low, m), max(high, m)
		if s.at < window {
			fSum, fN = fSum+m, fN+1
		}
		if s.at > end-window {
			lSum, lN = lSum+m, lN+1
		}
	}
	return fSum / float64(max(fN, 1)), lSum / float64(max(lN, 1)), low, high
}

// problems lists every check the run failed.
func (r *report) problems() []string {
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
	} else if last-first > maxRSSGrowth {
		p = append(p, fmt.Sprintf("RSS grew by %.1f MiB (from %.1f to %.1f MiB), more than %.0f MiB", last-first, first, last, maxRSSGrowth))
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
	fmt.Fprintf(w, "relay RSS     first %s %.1f MiB, last %s %.1f MiB (growth %+.1f MiB); min %.1f, max %.1f MiB over %d samples\n",
		c.window(), first, c.window(), last, last-first, low, high, len(r.rss))
	fmt.Fprintf(w, "relay log     %d lines, %d panics, %d errors, %d request lines with 5xx\n", r.logLines, r.logPanics, r.logErrors, r.logStatus5xx)
	fmt.Fprintf(w, "relay exit    %s\n", exitText(r.relayExit, r.relayExitTimeout))
	fmt.Fprintln(w, "answers by kind:")
	for _, k := range slices.Sorted(maps.Keys(r.byKind)) {
		var parts []string
		for _, s := range slices.Sorted(maps.Keys(r.byKind[k])) {
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
func TestScanLogs(t *testing.T) {
	t.Parallel()
	logs := strings.Join([]string{
		`{"time":"t","level":"INFO","msg":"request","status":200}`,
		`{"time":"t","level":"INFO","msg":"request","status":500}`,
		`{"time":"t","level":"ERROR","msg":"panic serving request","stack":"..."}`,
		`{"time":"t","level":"ERROR","msg":"encode response"}`,
		`{"time":"t","level":"WARN","msg":"slow"}`,
		`goroutine 1 [running]:`,
		``,
	}, "\n")
	r := &report{tally: newTally()}
	r.scanLogs(bufio.NewReader(strings.NewReader(logs)))
	if r.logLines != 6 || r.logPanics != 1 || r.logErrors != 2 || r.logStatus5xx != 1 {
		t.Errorf("lines %d, panics %d, errors %d, 5xx %d; want 6, 1, 2, 1", r.logLines, r.logPanics, r.logErrors, r.logStatus5xx)
	}
}

// TestProblems checks that each failed check is named, with its figures,
// and that a clean run has none.
func TestProblems(t *testing.T) {
	t.Parallel()
	cfg := &soakConfig{duration: time.Minute}
	flat := []rssSample{{0, 40 << 10}, {5 * time.Second, 44 << 10}, {50 * time.Second, 50 << 10}, {60 * time.Second, 52 << 10}}
	growing := []rssSample{{0, 40 << 10}, {5 * time.Second, 44 << 10}, {50 * time.Second, 90 << 10}, {60 * time.Second, 100 << 10}}
	answered := func(change func(*tally)) *tally {
		tl := newTally()
		tl.requests = 10
		if change != nil {
			change(tl)
		}
		return tl
	}
	for _, tc := range []struct {
		name string
		r    report
		want []string
	}{
		{"clean", report{tally: answered(nil), rss: flat}, nil},
		{"5xx", report{tally: answered(func(tl *tally) { tl.fivexx = 1 }), rss: flat, logStatus5xx: 2},
			[]string{"1 answers with a 5xx status (2 in the relay's log)"}},
		{"5xx only in the relay's log", report{tally: answered(nil), rss: flat, logStatus5xx: 1},
			[]string{"0 answers with a 5xx status (1 in the relay's log)"}},
		{"5xx only in the answers", report{tally: answered(func(tl *tally) { tl.fivexx = 3 }), rss: flat},
			[]string{"3 answers with a 5xx status (0 in the relay's log)"}},
		{"no answer", report{tally: answered(func(tl *tally) { tl.transport, tl.firstTransport = 2, "health: EOF" }), rss: flat},
			[]string{"2 requests got no answer (first: health: EOF)"}},
		{"unexpected", report{tally: answered(func(tl *tally) {
			tl.unexpected["refer: HTTP 404, want 200"] = 1
			tl.unexpected[`version: answer lacks "\"version\""`] = 2
		}), rss: flat}, []string{"1 × refer: HTTP 404, want 200", `2 × version: answer lacks "\"version\""`}},
		{"panic", report{tally: answered(nil), rss: flat, logPanics: 1}, []string{"the relay logged 1 panics and 0 errors"}},
		{"log error", report{tally: answered(nil), rss: flat, logErrors: 3}, []string{"the relay logged 0 panics and 3 errors"}},
		{"exit timeout", report{tally: answered(nil), rss: flat, relayExitTimeout: true},
			[]string{"the relay did not exit cleanly on SIGTERM: <nil> (timeout true)"}},
		{"exit status", report{tally: answered(nil), rss: flat, relayExit: errors.New("exit status 2")},
			[]string{"the relay did not exit cleanly on SIGTERM: exit status 2 (timeout false)"}},
		{"RSS growth", report{tally: answered(nil), rss: growing},
			[]string{"RSS grew by 58.0 MiB (from 42.0 to 100.0 MiB), more than 32 MiB"}},
		{"nothing", report{tally: newTally()}, []string{"no RSS samples", "no request was answered"}},
	} {
		tc.r.cfg = cfg
		if got := tc.r.problems(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: problems\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}

// TestRecordCounts5xx checks that every answer with a 5xx status, 500
// included, counts as 5xx, whether or not its kind expected it, and that
// the soak's problems then name it.
func TestRecordCounts5xx(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status, want int
		fivexx       int64
		unexpected   int64
	}{
		{status: 200, want: 200},
		{status: 404, want: 200, unexpected: 1},
		{status: 499, want: 200, unexpected: 1},
		{status: 500, want: 200, fivexx: 1, unexpected: 1},
		{status: 500, want: 500, fivexx: 1},
		{status: 502, want: 200, fivexx: 1, unexpected: 1},
		{status: 503, want: 503, fivexx: 1},
		{status: 599, want: 200, fivexx: 1, unexpected: 1},
	} {
		tl := newTally()
		d := &driver{tally: tl}
		d.record(kind{name: "observe", status: tc.want}, tc.status, nil)
		if tl.fivexx != tc.fivexx || tl.failed() != tc.unexpected || tl.requests != 1 {
			t.Errorf("HTTP %d (want %d): fivexx %d, failed %d, requests %d; want %d, %d, 1",
				tc.status, tc.want, tl.fivexx, tl.failed(), tl.requests, tc.fivexx, tc.unexpected)
		}
		if tc.fivexx == 0 {
			continue
		}
		r := report{tally: tl, cfg: &soakConfig{duration: time.Minute}, rss: []rssSample{{0, 40 << 10}, {time.Minute, 40 << 10}}}
		if p := r.problems(); !slices.Contains(p, "1 answers with a 5xx status (0 in the relay's log)") {
			t.Errorf("HTTP %d: problems %q, want the 5xx named", tc.status, p)
		}
	}
}
