package relayctl

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/testsupport"
)

func TestFormatHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{
			name: "observe",
			in:   `{"time":"2026-11-26T03:49:00.1Z","level":"INFO","msg":"request","request_id":"8f5c","method":"POST","route":"/observe/observables","status":200,"duration_ms":12.34,"observables":1,"upstream_calls":3,"upstream_ms":10.2}`,
			want: "200 POST /observe/observables 12.3ms observables=1 request_id=8f5c",
			ok:   true,
		},
		{
			name: "auth failure",
			in:   `{"msg":"request","request_id":"a1","method":"POST","route":"/health","status":200,"duration_ms":0,"observables":0,"errors":["authorization error"]}` + "\n",
			want: "200 POST /health 0ms observables=0 request_id=a1 errors=authorization error",
			ok:   true,
		},
		{"lambda start", "START RequestId: 8f5c Version: $LATEST", "", false},
		{"lambda report", "REPORT RequestId: 8f5c\tDuration: 13.01 ms\tBilled Duration: 14 ms", "", false},
		{"other relay message", `{"msg":"listening","addr":":8080"}`, "", false},
		{"broken json", `{"msg":"request",`, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := formatHTTP(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("FormatHTTP = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func requestLog(id, route string, status int) string {
	return `{"time":"x","level":"INFO","msg":"request","request_id":"` + id + `","method":"POST","route":"` + route +
		`","status":` + map[int]string{200: "200", 404: "404"}[status] + `,"duration_ms":5,"observables":1}`
}

func TestTail(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ms := func(d time.Duration) int64 { return now.Add(-d).UnixMilli() }
	group := "/aws/lambda/" + fnName
	tests := []struct {
		name string
		opts tailOptions
		want []string
	}{
		{
			name: "plain since 10m",
			opts: tailOptions{},
			want: []string{
				"2026-11-26T11:55:00.000Z START RequestId: r1 Version: $LATEST",
				"2026-11-26T11:55:00.005Z " + requestLog("r1", "/health", 200),
				"2026-11-26T11:55:00.010Z END RequestId: r1",
				"2026-11-26T11:58:00.000Z " + requestLog("r2", "/observe/observables", 200),
				"2026-11-26T11:59:00.000Z " + requestLog("r3", "other", 404),
			},
		},
		{
			name: "http since 2m",
			opts: tailOptions{HTTP: true, Since: 2 * time.Minute},
			want: []string{
				"2026-11-26T11:58:00.000Z 200 POST /observe/observables 5ms observables=1 request_id=r2",
				"2026-11-26T11:59:00.000Z 404 POST other 5ms observables=1 request_id=r3",
			},
		},
		{
			name: "non-http",
			opts: tailOptions{NonHTTP: true},
			want: []string{
				"2026-11-26T11:55:00.000Z START RequestId: r1 Version: $LATEST",
				"2026-11-26T11:55:00.010Z END RequestId: r1",
			},
		},
		{
			name: "filter",
			opts: tailOptions{Filter: `"/health" r1`},
			want: []string{
				"2026-11-26T11:55:00.005Z " + requestLog("r1", "/health", 200),
			},
		},
		{
			name: "http since 1h",
			opts: tailOptions{HTTP: true, Since: time.Hour},
			want: []string{
				"2026-11-26T11:30:00.000Z 200 POST /health 5ms observables=1 request_id=r0",
				"2026-11-26T11:55:00.005Z 200 POST /health 5ms observables=1 request_id=r1",
				"2026-11-26T11:58:00.000Z 200 POST /observe/observables 5ms observables=1 request_id=r2",
				"2026-11-26T11:59:00.000Z 404 POST other 5ms observables=1 request_id=r3",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, c, _ := setup(t)
			c.Now = func() time.Time { return now }
			fake.AddLogEvents(group,
				logEvent{Timestamp: ms(30 * time.Minute), Message: requestLog("r0", "/health", 200) + "\n"},
				logEvent{Timestamp: ms(5 * time.Minute), Message: "START RequestId: r1 Version: $LATEST\n"},
				logEvent{Timestamp: ms(5*time.Minute) + 5, Message: requestLog("r1", "/health", 200) + "\n"},
				logEvent{Timestamp: ms(5*time.Minute) + 10, Message: "END RequestId: r1\n"},
				logEvent{Timestamp: ms(2 * time.Minute), Message: requestLog("r2", "/observe/observables", 200) + "\n"},
				logEvent{Timestamp: ms(time.Minute), Message: requestLog("r3", "other", 404) + "\n"},
			)
			var out bytes.Buffer
			if err := c.Tail(t.Context(), settings(t, baseStage), tc.opts, &out); err != nil {
				t.Fatal(err)
			}
			want := strings.Join(tc.want, "\n") + "\n"
			if out.String() != want {
				t.Errorf("output =\n%s\nwant\n%s", out.String(), want)
			}
			calls := fake.CallsTo("logs:FilterLogEvents")
			since := tc.opts.Since
			if since == 0 {
				since = 10 * time.Minute
			}
			if got := int64(calls[0].Body["startTime"].(float64)); got != ms(since) {
				t.Errorf("startTime = %d, want %d", got, ms(since))
			}
			if calls[0].Body["logGroupName"] != group {
				t.Errorf("logGroupName = %v", calls[0].Body["logGroupName"])
			}
			if got, _ := calls[0].Body["filterPattern"].(string); got != tc.opts.Filter {
				t.Errorf("filterPattern = %q, want %q", got, tc.opts.Filter)
			}
		})
	}
}

func TestTailFollow(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t)
	group := "/aws/lambda/" + fnName
	base := time.Now().Add(-time.Minute).UnixMilli()
	fake.AddLogEvents(group, logEvent{Timestamp: base, Message: requestLog("r1", "/health", 200)})

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &testsupport.LockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- c.Tail(ctx, settings(t, baseStage), tailOptions{HTTP: true, Follow: true}, out) }()

	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(out.String(), "\n") < n {
			if time.Now().After(deadline) {
				t.Fatalf("waited for %d lines, have:\n%s", n, out.String())
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(1)
	// A second event at the same millisecond as the last one printed, and
	// a later one: both must appear once.
	fake.AddLogEvents(group,
		logEvent{Timestamp: base, Message: requestLog("r2", "/health", 200)},
		logEvent{Timestamp: base + 1000, Message: requestLog("r3", "/observe/observables", 200)},
	)
	waitFor(3)
	// An event from another log stream that arrives late, stamped before
	// the newest one printed but within the overlap.
	fake.AddLogEvents(group, logEvent{Timestamp: base + 1000 - followOverlap.Milliseconds() + 1,
		Message: requestLog("r4", "/health", 200), Stream: "2026/11/26/[$LATEST]other"})
	waitFor(4)
	polls := len(fake.CallsTo("logs:FilterLogEvents"))
	for len(fake.CallsTo("logs:FilterLogEvents")) < polls+4 { // a few more polls with nothing new
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Tail --follow ended with %v, want nil on interrupt", err)
	}
	for _, id := range []string{"r1", "r2", "r3", "r4"} {
		if n := strings.Count(out.String(), "request_id="+id+"\n"); n != 1 {
			t.Errorf("request %s printed %d times:\n%s", id, n, out.String())
		}
	}
}

func TestTailMissingLogGroup(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t)
	err := c.Tail(t.Context(), settings(t, baseStage), tailOptions{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "log group /aws/lambda/tr-auth0-signals-relay-dev does not exist in us-east-1") {
		t.Errorf("Tail = %v", err)
	}
}

func TestTailHTTPAndNonHTTP(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t)
	err := c.Tail(t.Context(), settings(t, baseStage), tailOptions{HTTP: true, NonHTTP: true}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--http and --non-http exclude each other") || len(fake.Calls()) > 0 {
		t.Errorf("Tail = %v", err)
	}
}
