package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
)

// Transport wraps the upstream client's transport: it counts and times each
// call by endpoint and outcome, counts 429s, and counts report and list
// calls as cache misses (the relay calls only for what its caches lack).
func (m *Metrics) Transport(next http.RoundTripper) http.RoundTripper {
	if m == nil {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{m: m, next: next}
}

type transport struct {
	m    *Metrics
	next http.RoundTripper
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	ep := endpoint(r.URL.EscapedPath())
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	took := time.Since(start)
	var outcome string
	if err == nil {
		outcome = statusLabel(resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			t.m.quota.Inc()
		}
	} else {
		outcome = failure(r, err)
	}
	t.m.upstream.WithLabelValues(ep, outcome).Inc()
	t.m.upstreamDuration.WithLabelValues(ep, outcome).Observe(took.Seconds())
	switch ep {
	case "ip":
		t.m.reportMisses.Inc()
	case "metadata":
		t.m.listMisses.Inc()
	}
	return resp, err
}

// failure names a call that got no answer: "timeout" when its deadline
// (the client's timeout or the relay's request budget) passed, "canceled"
// when the relay stopped it, "error" otherwise (refused, reset, TLS). The
// deadline is checked itself because http.Client may end a timed-out call
// through its cancel channel before the context reports the deadline.
func failure(r *http.Request, err error) string {
	ctx := r.Context()
	var ne net.Error
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	if errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled) {
		return "canceled"
	}
	return "error"
}

// endpoint names the Auth0 Signals endpoint of a path after any base-URL
// prefix: ip (/v2.0/ip/{ip}), health (/v2.0/ip), metadata or other.
func endpoint(escapedPath string) string {
	s := strings.Split(strings.TrimRight(escapedPath, "/"), "/")
	n := len(s)
	switch {
	case n >= 2 && s[n-2] == "v2.0" && s[n-1] == "ip":
		return "health"
	case n >= 3 && s[n-3] == "v2.0" && s[n-2] == "ip":
		return "ip"
	case n >= 4 && s[n-4] == "metadata" && s[n-2] == "lists":
		return "metadata"
	}
	return "other"
}
