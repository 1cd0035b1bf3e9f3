package relay_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/simulator/simtest"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// fixedVerifier accepts every call with the given credentials, standing in
// for a token that carries its own entities limit.
type fixedVerifier struct{ creds auth.Credentials }

func (f fixedVerifier) Verify(*http.Request) (auth.Credentials, error) { return f.creds, nil }

// TestEntitiesLimitCappedByOperator checks that a token may lower the
// blocklists looked up per observable but never raise them above the
// operator's maximum (CTR_ENTITIES_LIMIT_MAX), which is the only cap: one
// above 1000 lets a token ask for more than 1000.
func TestEntitiesLimitCappedByOperator(t *testing.T) {
	t.Parallel()
	reportOf := func(n int) []byte {
		lists := make([]string, n)
		for i := range lists {
			lists[i] = fmt.Sprintf("L%04d", i)
		}
		report, _ := json.Marshal(map[string]any{"fullip": map[string]any{"score": -1, "badip": map[string]any{"score": -1, "blacklists": lists}}})
		return report
	}
	for _, tc := range []struct {
		name                   string
		limit, limitMax, token int
		lists                  int // in the report; 0: 20
		want                   int64
	}{
		{name: "token lowers the default", limit: 10, limitMax: 15, token: 2, want: 2},
		{name: "token raises within the maximum", limit: 3, limitMax: 15, token: 12, want: 12},
		{name: "token above the maximum", limit: 3, limitMax: 5, token: 1000, want: 5},
		{name: "no token value", limit: 3, limitMax: 5, want: 3},
		{name: "default maximum is 1000", limit: 3, token: 5000, want: 20},
		{name: "maximum above 1000", limit: 3, limitMax: 2000, token: 1500, lists: 1600, want: 1500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			mux := http.NewServeMux()
			mux.HandleFunc("GET /v2.0/ip/"+goodIP, body(string(reportOf(cmp.Or(tc.lists, 20)))))
			mux.HandleFunc("GET /metadata/badip/lists/{id}", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				body(`{"name":"`+r.PathValue("id")+`","source":"s","sensitivity":"5","visibility":"Public"}`)(w, r)
			})
			h := setup(t, stack{upstream: mux, Options: relay.Options{
				Verifier: fixedVerifier{auth.Credentials{APIKey: simulator.DemoKey, EntitiesLimit: tc.token}},
				Limits:   relay.Limits{EntitiesLimit: tc.limit, EntitiesMax: tc.limitMax},
			}})
			observeWithoutErrors(t, h, goodIP)
			if got := calls.Load(); got != tc.want {
				t.Errorf("list-details calls = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestLoadShedding fills the relay's one observe/deliberate slot with a
// lookup the upstream holds, then checks that further observe and
// deliberate calls, and refer and respond, are shed with 503, Retry-After
// and the error envelope, that routes that read no body still answer, and
// that the slot is free again after.
func TestLoadShedding(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2.0/ip/"+faultIP, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		body(goodReport)(w, r)
	})
	mux.HandleFunc("GET /v2.0/ip/"+goodIP, body(goodReport))
	logs := &testsupport.LockedBuffer{}
	h := setup(t, stack{upstream: mux, Options: relay.Options{
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		Limits: relay.Limits{MaxConcurrent: 1},
	}})

	first := make(chan int, 1)
	go func() {
		status, _ := post(t, h, "/deliberate/observables", obsJSON("ip", faultIP))
		first <- status
	}()
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the first lookup never reached the upstream")
	}

	for _, path := range []string{"/observe/observables", "/deliberate/observables"} {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(obsJSON("ip", goodIP)))
		r.Header.Set("Authorization", bearer(t, simulator.DemoKey))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "5" {
			t.Errorf("%s while saturated: status %d, Retry-After %q; want 503 and 5", path, w.Code, w.Header().Get("Retry-After"))
		}
		checkEnvelope(t, w.Body.Bytes(), `{"data":{},"errors":[{"type":"fatal","code":"service unavailable",`+
			`"message":"The relay is busy with other requests. Please, try again in 5 seconds."}]}`)
	}
	for _, path := range []string{"/refer/observables", "/respond/observables"} {
		if status, _ := post(t, h, path, obsJSON("ip", goodIP)); status != http.StatusServiceUnavailable {
			t.Errorf("%s while saturated: status %d, want 503", path, status)
		}
	}
	if status, _ := post(t, h, "/respond/trigger", `{}`); status != http.StatusOK {
		t.Errorf("respond/trigger while saturated: status %d, want 200", status)
	}

	close(release)
	if status := <-first; status != http.StatusOK {
		t.Errorf("the held lookup answered %d, want 200", status)
	}
	observeWithoutErrors(t, h, goodIP)
	if !strings.Contains(logs.String(), `"status":503`) || !strings.Contains(logs.String(), `"errors":["service unavailable"]`) {
		t.Errorf("the request log lacks the shed requests:\n%s", logs)
	}
}

// TestRequestLogBounded checks that nothing a caller sends makes a request
// log line long: an unknown method is logged as "other", and the causes of
// upstream failures (one per address, each with its own long body) are
// capped in number and length.
func TestRequestLogBounded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, r.URL.Path+strings.Repeat(" internal detail", 100), http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	logs := &testsupport.LockedBuffer{}
	h := relayFor(t, srv.URL, nil, logs)

	r := httptest.NewRequest(strings.Repeat("M", 20_000), "/observe/observables", nil)
	h.ServeHTTP(httptest.NewRecorder(), r)
	var ips []string
	for i := range 200 {
		ips = append(ips, "ip", fmt.Sprintf("198.51.100.%d", i))
	}
	if status, _ := post(t, h, "/deliberate/observables", obsJSON(ips...)); status != http.StatusOK {
		t.Fatalf("status = %d", status)
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log lines = %d, want 2:\n%s", len(lines), logs)
	}
	for _, line := range lines {
		if len(line) > 4096 {
			t.Errorf("log line of %d bytes, want at most 4 KiB: %.300s…", len(line), line)
		}
	}
	if !strings.Contains(lines[0], `"method":"other"`) {
		t.Errorf("unknown method not logged as other: %.300s", lines[0])
	}
	if causes := loggedUpstreamCauses(t, lines[1]); len(causes) == 0 || len(causes) > 5 {
		t.Errorf("upstream_causes has %d entries, want 1 to 5", len(causes))
	}
}

// gatedVerifier holds every call whose token is "slow" until its gate
// closes, as an XDR key-set fetch for an unknown kid does; other calls
// verify with HS256.
type gatedVerifier struct {
	gate    chan struct{}
	arrived chan struct{}
	next    auth.Verifier
}

func (g gatedVerifier) Verify(r *http.Request) (auth.Credentials, error) {
	if r.Header.Get("Authorization") == "Bearer slow" {
		g.arrived <- struct{}{}
		<-g.gate
		return auth.Credentials{}, &auth.Error{Reason: auth.ReasonKidNotFound}
	}
	return g.next.Verify(r)
}

// TestSlotHeldOnlyForWork fills the relay's one load-cap slot's worth of
// callers that do no work yet: one whose body trickles in and one whose
// token is being verified. Neither holds the slot: a lookup still answers
// 200, and refer too.
func TestSlotHeldOnlyForWork(t *testing.T) {
	t.Parallel()
	v := gatedVerifier{gate: make(chan struct{}), arrived: make(chan struct{}, 1), next: auth.HS256{Secret: []byte(testSecret)}}
	h := setup(t, stack{upstream: simtest.New(simulator.Options{}), Options: relay.Options{
		Verifier: v,
		Limits:   relay.Limits{MaxConcurrent: 1},
	}})
	pr, pw := io.Pipe()
	defer pw.Close()
	done := make(chan struct{}, 2)
	go func() { // a body that trickles in
		r := httptest.NewRequest(http.MethodPost, "/deliberate/observables", pr)
		r.Header.Set("Authorization", bearer(t, simulator.DemoKey))
		h.ServeHTTP(httptest.NewRecorder(), r)
		done <- struct{}{}
	}()
	if _, err := pw.Write([]byte(`[{"type":"ip",`)); err != nil { // the handler is reading it
		t.Fatal(err)
	}
	go func() { // a token whose key is being fetched
		r := httptest.NewRequest(http.MethodPost, "/deliberate/observables", strings.NewReader(obsJSON("ip", goodIP)))
		r.Header.Set("Authorization", "Bearer slow")
		h.ServeHTTP(httptest.NewRecorder(), r)
		done <- struct{}{}
	}()
	select {
	case <-v.arrived:
	case <-done:
		t.Fatal("a call was answered before its token was verified")
	case <-time.After(30 * time.Second):
		t.Fatal("the verification never started")
	}
	for _, path := range []string{"/deliberate/observables", "/refer/observables"} {
		if status, b := post(t, h, path, obsJSON("ip", goodIP)); status != http.StatusOK {
			t.Errorf("%s beside a slow body and a slow verification: status %d (%s), want 200", path, status, b)
		}
	}
	pw.Close()
	close(v.gate)
}

// TestLargeBodiesShareTheCap checks that the load cap also bounds the
// bytes of the bodies at work (two of the largest): with two large calls
// held at work, a third large one is shed before its body is read, while a
// small call still gets through.
func TestLargeBodiesShareTheCap(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}, 2), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2.0/ip/", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, goodIP) {
			arrived <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		body(goodReport)(w, r)
	})
	const maxBody = 4000
	h := setup(t, stack{upstream: mux, Options: relay.Options{Limits: relay.Limits{MaxBodyBytes: maxBody}}})
	large := func(ip string) string { // one address, padded to 80% of the cap
		b := obsJSON("ip", ip)
		return b[:len(b)-1] + strings.Repeat(" ", maxBody*8/10-len(b)) + "]"
	}
	done := make(chan int, 2)
	for _, ip := range []string{"198.51.100.1", "198.51.100.2"} {
		go func() {
			status, _ := post(t, h, "/deliberate/observables", large(ip))
			done <- status
		}()
		select {
		case <-arrived:
		case <-time.After(30 * time.Second):
			t.Fatal("a large call never reached the upstream")
		}
	}
	if status, _ := post(t, h, "/deliberate/observables", large(goodIP)); status != http.StatusServiceUnavailable {
		t.Errorf("a third large body beside two at work: status %d, want 503", status)
	}
	if status, b := post(t, h, "/deliberate/observables", obsJSON("ip", goodIP)); status != http.StatusOK {
		t.Errorf("a small body beside two large ones at work: status %d (%s), want 200", status, b)
	}
	close(release)
	for range 2 {
		if status := <-done; status != http.StatusOK {
			t.Errorf("a held large call answered %d", status)
		}
	}
}
