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
	"sync/atomic"
	"time"
)

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

// driver keeps workers sending requests of a rotation of kinds to the relay.
type driver struct {
	base, good, forged string // base URL; Authorization values
	client             *http.Client
	tally              *tally
	limit              int64 // most counted requests; 0: no limit
	sent               atomic.Int64
	mu                 sync.Mutex
}

// newDriver returns a driver with a client for n connections.
func newDriver(base, good, forged string, n int, t *tally) *driver {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = n, n, n
	return &driver{base: base, good: good, forged: forged, tally: t,
		client: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
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
			for i := w; ctx.Err() == nil && (d.limit == 0 || d.sent.Load() < d.limit); i++ {
				k := rot[i%len(rot)]
				status, latency, err := d.once(ctx, k, rng)
				if ctx.Err() != nil {
					break
				}
				if counted {
					d.sent.Add(1)
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
	d.mu.Lock()
	slices.Sort(d.tally.latencies)
	d.mu.Unlock()
}

// once sends one request of kind k, checks the answer and returns its
// status and latency.
func (d *driver) once(ctx context.Context, k kind, rng *mrand.Rand) (int, time.Duration, error) {
	var body io.Reader = http.NoBody
	if b := k.body(rng); b != "" {
		body = strings.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, d.base+k.path, body)
	if err != nil {
		return 0, 0, err
	}
	switch k.authz {
	case "good":
		req.Header.Set("Authorization", d.good)
	case "forged":
		req.Header.Set("Authorization", d.forged)
	}
	if body != http.NoBody {
		req.Header.Set("Content-Type", "application/json")
	}
	if k.path == "/watchdog" {
		req.Header.Set("Health-Check", "soak")
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

// memory is a process's resident set size now and at its peak, in KiB.
type memory struct{ rssKiB, peakKiB int64 }

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
		n, err := int64(0), errors.New("not two fields")
		if len(fields) == 2 && fields[1] == "kB" {
			n, err = strconv.ParseInt(fields[0], 10, 64)
		}
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

func mib(kib int64) float64 { return float64(kib) / 1024 }
