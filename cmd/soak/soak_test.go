package main

import (
	"bufio"
	"io"
	"math/rand/v2"
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
		c, err := parseConfig(tc.args, io.Discard)
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
	r := &report{}
	r.scanLogs(bufio.NewReader(strings.NewReader(logs)))
	if r.logLines != 6 || r.logPanics != 1 || r.logErrors != 2 || r.logStatus5xx != 1 {
		t.Errorf("lines %d, panics %d, errors %d, 5xx %d; want 6, 1, 2, 1", r.logLines, r.logPanics, r.logErrors, r.logStatus5xx)
	}
}

func TestProblems(t *testing.T) {
	t.Parallel()
	cfg := &config{maxRSSGrowth: 32}
	flat := []rssSample{{0, 40 << 10}, {5 * time.Second, 44 << 10}, {50 * time.Second, 50 << 10}, {60 * time.Second, 52 << 10}}
	growing := []rssSample{{0, 40 << 10}, {5 * time.Second, 44 << 10}, {50 * time.Second, 90 << 10}, {60 * time.Second, 100 << 10}}
	for _, tc := range []struct {
		name string
		r    report
		want int
	}{
		{"clean", report{requests: 10, rss: flat}, 0},
		{"5xx", report{requests: 10, rss: flat, fivexx: 1}, 1},
		{"no answer", report{requests: 10, rss: flat, transport: 2, firstTransport: "x"}, 1},
		{"unexpected", report{requests: 10, rss: flat, unexpected: map[string]int64{"a": 1, "b": 2}}, 2},
		{"panic", report{requests: 10, rss: flat, logPanics: 1}, 1},
		{"exit", report{requests: 10, rss: flat, relayExitTimeout: true}, 1},
		{"RSS growth", report{requests: 10, rss: growing}, 1},
		{"nothing", report{}, 2},
	} {
		if got := tc.r.problems(cfg); len(got) != tc.want {
			t.Errorf("%s: problems %q, want %d", tc.name, got, tc.want)
		}
	}
}
