package main

import (
	"bufio"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseConfigBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"-d", "60s", "-c", "64", "-latency", "20ms"}, true},
		{[]string{"-d", "11m"}, false},
		{[]string{"-d", "5s"}, false},
		{[]string{"-c", "0"}, false},
		{[]string{"-c", "5000"}, false},
		{[]string{"-max-requests", "0"}, false},
		{[]string{"extra"}, false},
	} {
		c, err := parseSoak(tc.args, io.Discard)
		if (err == nil && c != nil) != tc.ok {
			t.Errorf("parseConfig(%q) = %v, %v; want ok %t", tc.args, c, err, tc.ok)
		}
	}
}

// TestMixIsValidAndInvalid checks that the rotation holds valid lookups,
// the simulator's fault addresses and invalid requests, and that every body
// maker works.
func TestMixIsValidAndInvalid(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	var bodies strings.Builder
	var non200, withWant int
	for _, k := range rotation() {
		bodies.WriteString(k.body(rng))
		if k.status != 200 {
			non200++
		}
		if k.want != "" {
			withWant++
		}
	}
	all := bodies.String()
	for _, want := range []string{"192.0.2.5", "192.0.2.6", `"value":"198.51.100.7","value"`, "\xff"} {
		if !strings.Contains(all, want) {
			t.Errorf("the mix never sends %q", want)
		}
	}
	if non200 == 0 || withWant < len(mix)/2 {
		t.Errorf("mix: %d kinds not answered 200, %d checking their answer", non200, withWant)
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
	cfg := &config{maxRSSGrowth: 32}
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
		if got := tc.r.problems(cfg); !slices.Equal(got, tc.want) {
			t.Errorf("%s: problems\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}
