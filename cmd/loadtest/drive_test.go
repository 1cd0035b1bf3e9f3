package main

import (
	"os"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{ms(hundred...), 99, 99 * time.Millisecond},
		{ms(hundred...), 50, 50 * time.Millisecond},
		{ms(hundred...), 0.1, 1 * time.Millisecond},
	} {
		if got := percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("percentile(%d values, %v) = %s, want %s", len(tc.sorted), tc.p, got, tc.want)
		}
	}
}

func TestParseProc(t *testing.T) {
	const status = "Name:\tsignals-relay\nVmPeak:\t  1000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t9\n"
	// utime 150 and stime 25 ticks: 1.75 s; the command name holds a
	// parenthesis and spaces.
	const stat = "4242 (relay) x y) S 1 4242 4242 0 -1 4194560 1 0 0 0 150 25 0 0 20 0 9 0 100 0 0\n"
	for _, tc := range []struct {
		name, status, stat string
		want               proc
		wantErr            bool
	}{
		{name: "linux", status: status, stat: stat, want: proc{rssKiB: 10240, peakKiB: 20480, cpu: 1750 * time.Millisecond}},
		{name: "missing", status: "Name:\tx\nVmRSS:\t10 kB\n", stat: stat, wantErr: true},
		{name: "odd unit", status: "VmRSS:\t10 MB\nVmHWM:\t10 kB\n", stat: stat, wantErr: true},
		{name: "not a number", status: "VmRSS:\tten kB\nVmHWM:\t10 kB\n", stat: stat, wantErr: true},
		{name: "short stat", status: status, stat: "4242 (relay) S 1 4242\n", wantErr: true},
		{name: "stat without name", status: status, stat: "4242 relay S 1 4242 4242 0 -1 4194560 1 0 0 0 150 25 0 0\n", wantErr: true},
		{name: "CPU not a number", status: status, stat: "4242 (relay) S 1 4242 4242 0 -1 4194560 1 0 0 0 x 25 0 0\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProc(tc.status, tc.stat)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseProc = %+v, %v; want %+v, error %t", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestReadProcOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	before, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Work until the process's CPU time moves by two ticks or more.
	var after proc
	sum := 0
	for deadline := time.Now().Add(30 * time.Second); after.cpu-before.cpu < 2*time.Second/userHZ; {
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %s, then %s", before.cpu, after.cpu)
		}
		for i := range 1_000_000 {
			sum += i % 7
		}
		if after, err = readProc(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if after.rssKiB <= 0 || after.peakKiB < after.rssKiB || sum == 0 {
		t.Errorf("memory = %+v", after)
	}
}
