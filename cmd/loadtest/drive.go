package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// kind is one sort of request, with the answer the relay must give.
type kind struct {
	name, method, url string
	header            http.Header // Authorization and the like; may be nil
	// body makes the request body ("" for none); rng is the worker's own.
	body func(rng *mrand.Rand) string
	// status is the HTTP status the relay must answer, want a text its
	// answer must contain and forbid one it must not (if any).
	status       int
	want, forbid string
}

// tally is what the relay answered during the measured part of a run.
type tally struct {
	requests int64
	// byKind counts answers by request kind and status.
	byKind map[string]map[int]int64
	// unexpected counts answers that failed their kind's checks, by
	// description; fivexx counts 5xx answers; transport counts requests
	// that got no answer at all.
	unexpected     map[string]int64
	fivexx         int64
	transport      int64
	firstTransport string
	latencies      []time.Duration // sorted once the run ends
}

func newTally() *tally {
	return &tally{byKind: make(map[string]map[int]int64), unexpected: make(map[string]int64)}
}

// failed returns how many requests got no answer or a wrong one.
func (t *tally) failed() int64 {
	n := t.transport
	for _, v := range t.unexpected {
		n += v
	}
	return n
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

// driver keeps workers sending requests of a rotation of kinds to the relay.
type driver struct {
	client *http.Client
	tally  *tally
	mu     sync.Mutex
}

// newDriver returns a driver with a client for n connections.
func newDriver(n int, t *tally) *driver {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = n, n, n
	return &driver{tally: t, client: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// drive keeps n workers busy with rot for dur, each starting at its own
// offset; counted runs go into the tally. Requests cut off by the end of the
// run are not counted.
func (d *driver) drive(ctx context.Context, rot []kind, n int, dur time.Duration, counted bool) {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))
			var lat []time.Duration
			for i := w; ctx.Err() == nil; i++ {
				k := rot[i%len(rot)]
				status, latency, err := d.once(ctx, k, rng)
				if ctx.Err() != nil {
					break
				}
				if counted {
					lat = append(lat, latency)
					d.record(k, status, err)
				}
			}
			d.mu.Lock()
			d.tally.latencies = append(d.tally.latencies, lat...)
			d.mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(d.tally.latencies)
}

// once sends one request of kind k, checks the answer and returns its
// status and latency.
func (d *driver) once(ctx context.Context, k kind, rng *mrand.Rand) (int, time.Duration, error) {
	var body io.Reader = http.NoBody
	if b := k.body(rng); b != "" {
		body = strings.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, k.url, body)
	if err != nil {
		return 0, 0, err
	}
	for name, v := range k.header {
		req.Header[name] = v
	}
	if body != http.NoBody {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, time.Since(start), err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	latency := time.Since(start)
	switch {
	case err != nil:
		return resp.StatusCode, latency, err
	case resp.StatusCode == http.StatusOK && !json.Valid(b):
		return resp.StatusCode, latency, fmt.Errorf("answer is not JSON: %.100q", b)
	case k.want != "" && !bytes.Contains(b, []byte(k.want)):
		return resp.StatusCode, latency, fmt.Errorf("answer lacks %q", k.want)
	case k.forbid != "" && bytes.Contains(b, []byte(k.forbid)):
		return resp.StatusCode, latency, fmt.Errorf("answer holds %q: %.200s", k.forbid, b)
	}
	return resp.StatusCode, latency, nil
}

func (d *driver) record(k kind, status int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.tally
	t.requests++
	if err != nil && status == 0 {
		t.transport++
		if t.firstTransport == "" {
			t.firstTransport = k.name + ": " + err.Error()
		}
		return
	}
	if t.byKind[k.name] == nil {
		t.byKind[k.name] = make(map[int]int64)
	}
	t.byKind[k.name][status]++
	if status >= 500 {
		t.fivexx++
	}
	switch {
	case err != nil:
		t.unexpected[fmt.Sprintf("%s: %v", k.name, err)]++
	case status != k.status:
		t.unexpected[fmt.Sprintf("%s: HTTP %d, want %d", k.name, status, k.status)]++
	}
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted latencies,
// by the nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(float64(len(sorted))*p/100)) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)].Round(time.Microsecond)
}

// writeLatency prints the latency percentiles of t.
func (t *tally) writeLatency(w io.Writer) {
	l := t.latencies
	fmt.Fprintf(w, "latency       p50 %s  p90 %s  p99 %s  max %s\n",
		percentile(l, 50), percentile(l, 90), percentile(l, 99), percentile(l, 100))
}

// userHZ is the unit of the CPU times in /proc/<pid>/stat: Linux's USER_HZ
// (sysconf(_SC_CLK_TCK), `getconf CLK_TCK`), 100 ticks a second on every
// architecture Go builds for.
const userHZ = 100

// proc is what Linux's /proc says about a process: its resident set size
// now and at its peak (VmRSS and VmHWM, KiB) and the CPU time it has used
// (user plus system).
type proc struct {
	rssKiB, peakKiB int64
	cpu             time.Duration
}

// readProc reads /proc/<pid>/status and /proc/<pid>/stat.
func readProc(pid int) (proc, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return proc{}, fmt.Errorf("process %d: %w", pid, err)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, fmt.Errorf("process %d: %w", pid, err)
	}
	return parseProc(string(status), string(stat))
}

func parseProc(status, stat string) (proc, error) {
	var p proc
	found := 0
	sc := bufio.NewScanner(strings.NewReader(status))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		fields := strings.Fields(value)
		n, err := int64(0), errors.New("not two fields")
		if len(fields) == 2 && fields[1] == "kB" {
			n, err = strconv.ParseInt(fields[0], 10, 64)
		}
		if err != nil {
			return proc{}, fmt.Errorf("unexpected %s line %q", name, sc.Text())
		}
		if name == "VmRSS" {
			p.rssKiB = n
		} else {
			p.peakKiB = n
		}
		found++
	}
	if found != 2 {
		return proc{}, errors.New("no VmRSS and VmHWM in the process status")
	}
	// stat is "pid (comm) state ...": utime and stime are the 14th and
	// 15th fields, the 12th and 13th after the command name, which may
	// hold spaces and parentheses itself.
	paren := strings.LastIndexByte(stat, ')')
	fields := strings.Fields(stat[paren+1:])
	if paren < 0 || len(fields) < 13 {
		return proc{}, fmt.Errorf("unexpected process stat %.80q", stat)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return proc{}, fmt.Errorf("unexpected CPU time %q in the process stat", f)
		}
		ticks += n
	}
	p.cpu = time.Duration(ticks) * time.Second / userHZ
	return p, nil
}

func mib(kib int64) float64 { return float64(kib) / 1024 }
