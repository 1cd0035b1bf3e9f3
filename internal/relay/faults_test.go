package relay_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/signals"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// The addresses of the fault table: goodIP always answers a report, faultIP
// triggers the case's fault.
const (
	goodIP  = "198.51.100.7"
	faultIP = "192.0.2.99"
)

// goodReport is a suspicious report on one list; the table's deliberate
// requests only use its score.
const goodReport = `{"fullip":{"score":-1,"badip":{"score":-1,"blacklists":["GOOD-LIST"]}}}`

// goodVerdict is what the relay answers for goodIP whatever happens to
// faultIP.
var goodVerdict = map[string]any{"verdicts": map[string]any{
	"count": 1, "docs": []any{verdictDoc("ip", goodIP, 3, "Suspicious")},
}}

// relayFor is setup's relay with a fixed clock and id, whose Auth0 Signals
// API is baseURL, reached with hc (nil: setup's), logging to logs (nil:
// nowhere).
func relayFor(t testing.TB, baseURL string, hc *http.Client, logs io.Writer) http.Handler {
	t.Helper()
	s := stack{url: baseURL, client: hc, Options: relay.Options{
		Now:   func() time.Time { return fixedNow },
		NewID: func() string { return "00000000-0000-4000-8000-000000000000" },
	}}
	if logs != nil {
		s.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	return setup(t, s)
}

// post sends body to path on h with a valid token and returns the answer.
func post(t testing.TB, h http.Handler, path, body string) (int, []byte) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Authorization", bearer(t, simulator.DemoKey))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

// hijack takes over the connection of w, for faults below HTTP.
func hijack(t testing.TB, w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		panic(http.ErrAbortHandler)
	}
	return conn, rw
}

// flushWrite writes s and flushes it to the client at once.
func flushWrite(w http.ResponseWriter, s string) {
	_, _ = io.WriteString(w, s)
	_ = http.NewResponseController(w).Flush()
}

// htmlPage is an HTML error page as proxies and load balancers send them.
func htmlPage(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><h1>%[2]s</h1></body></html>", status, http.StatusText(status))
	}
}

// plainError answers status with a text body, as the API does.
func plainError(status int, text string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { http.Error(w, text, status) }
}

// body answers 200 with b as a JSON document.
func body(b string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, b)
	}
}

// endless answers status with a body that never ends, until the client
// leaves.
func endless(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		chunk := []byte(`{"fullip":{"score":-1,"hostname":"` + strings.Repeat("x", 32<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// trickle answers s one byte at a time, pausing between bytes.
func trickle(s string, pause time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(s)))
		for i := range len(s) {
			flushWrite(w, s[i:i+1])
			select {
			case <-time.After(pause):
			case <-r.Context().Done():
				return
			}
		}
	}
}

// stall answers nothing until the client leaves; head, when not empty, is
// sent first.
func stall(head string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if head != "" {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "1000")
			flushWrite(w, head)
		}
		<-r.Context().Done()
	}
}

// messagePattern turns an expected message into an anchored regexp, where
// PORT stands for any port number and everything else is literal.
func messagePattern(msg string) *regexp.Regexp {
	return regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(msg), "PORT", `[0-9]+`) + "$")
}

// goErrorText matches what only Go's error text would put in an answer.
var goErrorText = regexp.MustCompile(`(?i)x509|tls:|dial tcp|127\.0\.0\.1`)

// The relay's fixed messages for transport failures; the detail goes to
// the request log only.
const (
	unreachableMsg = "Auth0 Signals could not be reached. Please, try again later."
	timedOutMsg    = "Auth0 Signals did not answer in time. Please, try again later."
	unreadableMsg  = "Auth0 Signals sent an answer that could not be read."
	redirectedMsg  = "Auth0 Signals redirected the request to another address, which the relay does not follow."
)

// faultCase is one way Auth0 Signals (or the path to it) can fail.
type faultCase struct {
	name string
	// fault answers GET /v2.0/ip/<faultIP>.
	fault http.HandlerFunc
	// server, when set, replaces the default upstream (which serves goodIP
	// and fault) and returns its base URL and the client to reach it.
	server func(t *testing.T, mux http.Handler) (string, *http.Client)
	// timeout is the upstream client's timeout; zero means 10 s.
	timeout time.Duration
	// code and message are the expected error; message is a messagePattern.
	// An empty code means no error. detail, a messagePattern too, is the
	// cause the request log shows after "auth0 signals ip report: "; the
	// answer must not show it.
	code, message, detail string
	// noPartial says the fault hits every call, so goodIP has no verdict
	// either.
	noPartial bool
	// recovers says faultIP's report arrives after all (score -3).
	recovers bool
	// stops says the fault stops the request's remaining calls (a rejected
	// key, a used-up quota), so goodIP's verdict is there only when its call
	// finished first.
	stops bool
}

// faultCases lists every upstream fault the relay is tested against.
func faultCases(t *testing.T) []faultCase {
	otherHost := atomic.Int64{}
	return []faultCase{
		{
			name: "connection refused",
			server: func(t *testing.T, _ http.Handler) (string, *http.Client) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := ln.Addr().String()
				ln.Close()
				return "http://" + addr, nil
			},
			code: relay.CodeUnknown, message: unreachableMsg, detail: "dial tcp 127.0.0.1:PORT: connect: connection refused",
			noPartial: true,
		},
		{
			name: "closed before any answer",
			fault: func(w http.ResponseWriter, _ *http.Request) {
				conn, _ := hijack(t, w)
				conn.Close()
			},
			code: relay.CodeUnknown, message: unreachableMsg, detail: "EOF",
		},
		{
			name: "reset before any answer",
			fault: func(w http.ResponseWriter, _ *http.Request) {
				conn, _ := hijack(t, w)
				_ = conn.(*net.TCPConn).SetLinger(0) // close with RST
				conn.Close()
			},
			code: relay.CodeUnknown, message: unreachableMsg, detail: "read tcp 127.0.0.1:PORT->127.0.0.1:PORT: read: connection reset by peer",
		},
		{
			name: "closed mid-body",
			fault: func(w http.ResponseWriter, _ *http.Request) {
				conn, rw := hijack(t, w)
				defer conn.Close()
				_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"fullip\":{\"score\":-3,")
				_ = rw.Flush()
			},
			code: relay.CodeUnknown, message: unreadableMsg, detail: "read body: unexpected EOF",
		},
		{
			name: "reset mid-body",
			fault: func(w http.ResponseWriter, _ *http.Request) {
				conn, rw := hijack(t, w)
				_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"fullip\":{\"score\":-3,")
				_ = rw.Flush()
				_ = conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			},
			code: relay.CodeUnknown, message: unreadableMsg, detail: "read body: read tcp 127.0.0.1:PORT->127.0.0.1:PORT: read: connection reset by peer",
		},
		{
			name:    "stall before the headers, past the timeout",
			fault:   stall(""),
			timeout: 2 * time.Second,
			code:    relay.CodeUnknown, message: timedOutMsg, detail: "no answer within 2s: context deadline exceeded",
		},
		{
			name:    "stall mid-body, past the timeout",
			fault:   stall(`{"fullip":{"score":-3,`),
			timeout: 2 * time.Second,
			code:    relay.CodeUnknown,
			message: timedOutMsg, detail: "read body: context deadline exceeded (Client.Timeout or context cancellation while reading body)",
		},
		{
			name:     "slow trickle within the timeout",
			fault:    trickle(`{"fullip":{"score":-3}}`, time.Millisecond),
			recovers: true,
		},
		{
			name:    "slow trickle past the timeout",
			fault:   trickle(`{"fullip":{"score":-3,"hostname":"`+strings.Repeat("x", 200)+`"}}`, 20*time.Millisecond),
			timeout: 2 * time.Second,
			code:    relay.CodeUnknown,
			message: timedOutMsg, detail: "read body: context deadline exceeded (Client.Timeout or context cancellation while reading body)",
		},
		{
			name:  "401 with a documented body",
			stops: true,
			fault: plainError(http.StatusUnauthorized, "Unauthorized. API Key not found."),
			code:  relay.CodeAuthorization, message: "Authorization failed: Unauthorized. API Key not found.",
			detail: "status 401 Unauthorized: Unauthorized. API Key not found.",
		},
		{
			name:  "401 with an undocumented body naming an internal host",
			stops: true,
			fault: plainError(http.StatusUnauthorized, "key rejected by auth-backend.internal:8443 (pool 7)"),
			code:  relay.CodeAuthorization, message: "Authorization failed: Unauthorized.",
			detail: "status 401 Unauthorized: key rejected by auth-backend.internal:8443 (pool 7)",
		},
		{
			name:  "400 with the invalid-token message inside other text",
			stops: true,
			fault: plainError(http.StatusBadRequest, "gateway 10.1.2.3 says: Token must be a valid RFC4122 UUID"),
			code:  relay.CodeAuthorization, message: "Authorization failed: Token must be a valid RFC4122 UUID",
			detail: "status 400 Bad Request: gateway 10.1.2.3 says: Token must be a valid RFC4122 UUID",
		},
		{
			name:    "429 with an undocumented body",
			stops:   true,
			fault:   plainError(http.StatusTooManyRequests, "quota of tenant 42 on shard db-3.internal used up"),
			code:    relay.CodeTooManyRequests,
			message: "Auth0 Signals quota for this API key is used up (HTTP 429); further lookups were stopped. Too Many Requests.",
			detail:  "status 429 Too Many Requests: quota of tenant 42 on shard db-3.internal used up",
		},
		{
			name:  "500 with an HTML page",
			fault: htmlPage(http.StatusInternalServerError),
			code:  "internal server error", message: "Unexpected response from Auth0 Signals: HTTP 500 Internal Server Error",
		},
		{
			name:  "502 with an HTML page",
			fault: htmlPage(http.StatusBadGateway),
			code:  "bad gateway", message: "Unexpected response from Auth0 Signals: HTTP 502 Bad Gateway",
		},
		{
			name:  "503 with an HTML page",
			fault: htmlPage(http.StatusServiceUnavailable),
			code:  "service unavailable", message: "Unexpected response from Auth0 Signals: HTTP 503 Service Unavailable",
		},
		{
			name:  "504 with an HTML page",
			fault: htmlPage(http.StatusGatewayTimeout),
			code:  "gateway timeout", message: "Unexpected response from Auth0 Signals: HTTP 504 Gateway Timeout",
		},
		{
			name:  "status without a reason phrase",
			fault: htmlPage(599),
			code:  "unexpected response", message: "Unexpected response from Auth0 Signals: HTTP 599",
		},
		{
			name:  "500 with an endless body",
			fault: endless(http.StatusInternalServerError),
			code:  "internal server error", message: "Unexpected response from Auth0 Signals: HTTP 500 Internal Server Error",
		},
		{
			name:  "200 with an HTML page",
			fault: htmlPage(http.StatusOK),
			code:  relay.CodeUnknown, message: unreadableMsg, detail: "decode body: invalid character '<' looking for beginning of value",
		},
		{
			name:  "truncated JSON",
			fault: body(`{"fullip":{"score":-3,"badip":{"score":-1,"blackl`),
			code:  relay.CodeUnknown, message: unreadableMsg, detail: "decode body: unexpected end of JSON input",
		},
		{
			name:  "empty 200 body",
			fault: body(``),
			code:  relay.CodeUnknown, message: unreadableMsg, detail: "decode body: unexpected end of JSON input",
		},
		{
			name:  "JSON array instead of a report",
			fault: body(`[{"fullip":{"score":-3}}]`),
			code:  relay.CodeUnknown, message: unreadableMsg, detail: "decode body: not a JSON object",
		},
		{
			name:  "report over the size cap",
			fault: body(`{"fullip":{"score":-3,"hostname":"` + strings.Repeat("x", signals.MaxReportBytes) + `"}}`),
			code:  relay.CodeUnknown, message: unreadableMsg, detail: "body larger than 2097152 bytes",
		},
		{
			name:  "endless report",
			fault: endless(http.StatusOK),
			code:  relay.CodeUnknown, message: unreadableMsg, detail: "body larger than 2097152 bytes",
		},
		{
			name: "redirect to another host",
			server: func(t *testing.T, mux http.Handler) (string, *http.Client) {
				other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					otherHost.Add(1)
					if r.Header.Get("X-Auth-Token") != "" {
						t.Errorf("the API key reached another host")
					}
					body(goodReport)(w, r)
				}))
				t.Cleanup(other.Close)
				main := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/v2.0/ip/"+faultIP {
						http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
						return
					}
					mux.ServeHTTP(w, r)
				}))
				t.Cleanup(main.Close)
				t.Cleanup(func() {
					if n := otherHost.Load(); n != 0 {
						t.Errorf("the other host got %d requests, want 0", n)
					}
				})
				return main.URL, nil
			},
			code: relay.CodeUnknown, message: redirectedMsg, detail: "refused redirect to another host (127.0.0.1:PORT)",
		},
		{
			name: "redirect loop on the same host",
			fault: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, r.URL.Path, http.StatusFound)
			},
			code: relay.CodeUnknown, message: redirectedMsg, detail: "too many redirects",
		},
		{
			name: "untrusted certificate",
			server: func(t *testing.T, mux http.Handler) (string, *http.Client) {
				srv := quietTLSServer(t, mux)
				return srv.URL, nil // the client trusts the system roots only
			},
			code: relay.CodeUnknown, message: "Unable to verify SSL certificate: Unable to get local issuer certificate",
			detail:    "certificate not verified: x509: certificate signed by unknown authority",
			noPartial: true,
		},
		{
			name: "certificate for another name",
			server: func(t *testing.T, mux http.Handler) (string, *http.Client) {
				srv := quietTLSServer(t, mux)
				// Trust the test certificate (127.0.0.1, example.com and
				// *.example.com), but expect another name.
				tr := srv.Client().Transport.(*http.Transport).Clone()
				tr.TLSClientConfig.ServerName = "signals.api.example.net"
				return srv.URL, &http.Client{Transport: tr}
			},
			code: relay.CodeUnknown, message: "Unable to verify SSL certificate: Hostname mismatch",
			detail:    "certificate not verified: x509: certificate is valid for example.com, *.example.com, not signals.api.example.net",
			noPartial: true,
		},
		{
			name:   "expired certificate",
			server: expiredTLSServer,
			code:   relay.CodeUnknown, message: "Unable to verify SSL certificate: Certificate has expired or is not yet valid",
			noPartial: true,
		},
	}
}

// loggedUpstreamCauses returns the upstream_causes of every request log
// line in logs.
func loggedUpstreamCauses(t *testing.T, logs string) []string {
	t.Helper()
	var causes []string
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var entry struct {
			Causes []string `json:"upstream_causes"`
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		causes = append(causes, entry.Causes...)
	}
	return causes
}

// TestUpstreamFaults sends {goodIP, faultIP} through the relay while the
// upstream fails in one way per case. Each answer carries the exact error,
// and goodIP's verdict unless the fault hits every call. The cases run one
// after another, and no goroutine may outlive them.
func TestUpstreamFaults(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	var transports []*http.Transport
	for _, tc := range faultCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /v2.0/ip/"+goodIP, body(goodReport))
			if tc.fault != nil {
				mux.HandleFunc("GET /v2.0/ip/"+faultIP, tc.fault)
			}
			var (
				baseURL string
				hc      *http.Client
			)
			if tc.server != nil {
				baseURL, hc = tc.server(t, mux)
			} else {
				srv := httptest.NewServer(mux)
				t.Cleanup(srv.Close)
				baseURL = srv.URL
			}
			if hc == nil {
				hc = &http.Client{Transport: &http.Transport{}}
			}
			if tr, ok := hc.Transport.(*http.Transport); ok {
				transports = append(transports, tr)
			}
			hc.Timeout = 10 * time.Second
			if tc.timeout > 0 {
				hc.Timeout = tc.timeout
			}
			logs := &testsupport.LockedBuffer{}
			h := relayFor(t, baseURL, hc, logs)

			status, got := post(t, h, "/deliberate/observables", obsJSON("ip", goodIP, "ip", faultIP))
			if status != http.StatusOK {
				t.Fatalf("status = %d, want 200: %s", status, got)
			}
			var env struct {
				Data   map[string]any
				Errors []map[string]string
			}
			if err := json.Unmarshal(got, &env); err != nil {
				t.Fatalf("answer is not JSON: %v\n%s", err, got)
			}
			if goErrorText.Match(got) {
				t.Errorf("the answer quotes Go error text: %s", got)
			}
			wantData := goodVerdict
			switch {
			case tc.noPartial:
				wantData = map[string]any{}
			case tc.recovers:
				wantData = map[string]any{"verdicts": map[string]any{"count": 2, "docs": []any{
					verdictDoc("ip", goodIP, 3, "Suspicious"), verdictDoc("ip", faultIP, 2, "Malicious"),
				}}}
			}
			if !tc.stops || len(env.Data) != 0 {
				checkEnvelope(t, mustJSON(t, map[string]any{"data": env.Data}), string(mustJSON(t, map[string]any{"data": wantData})))
			}
			switch {
			case tc.code == "" && len(env.Errors) != 0:
				t.Errorf("errors = %v, want none", env.Errors)
			case tc.code == "":
			case len(env.Errors) != 1:
				t.Errorf("errors = %v, want one %q", env.Errors, tc.code)
			default:
				e := env.Errors[0]
				if e["type"] != "fatal" || e["code"] != tc.code || !messagePattern(tc.message).MatchString(e["message"]) || len(e) != 3 {
					t.Errorf("error = %q\nwant    type fatal, code %q, message %q", e, tc.code, tc.message)
				}
			}
			if tc.detail != "" {
				causes := loggedUpstreamCauses(t, logs.String())
				want := messagePattern("auth0 signals ip report: " + tc.detail)
				if !slices.ContainsFunc(causes, want.MatchString) {
					t.Errorf("upstream_causes = %q, want one matching %q", causes, want)
				}
				if strings.Contains(string(got), "127.0.0.1") || strings.Contains(string(got), tc.detail) {
					t.Errorf("the answer shows the detail: %s", got)
				}
			}
		})
	}
	for _, tr := range transports {
		tr.CloseIdleConnections()
	}
	goleak.VerifyNone(t, leaks)
}

// TestListDetailsFaults checks that a blocklist whose details cannot be had
// is skipped: the report's other lists and the verdict still arrive, and no
// error is reported for the skipped ones.
func TestListDetailsFaults(t *testing.T) {
	t.Parallel()
	faults := map[string]http.HandlerFunc{
		"CLOSED": func(w http.ResponseWriter, _ *http.Request) {
			conn, _ := hijack(t, w)
			conn.Close()
		},
		"STALL":     stall(""),
		"HTML-500":  htmlPage(http.StatusInternalServerError),
		"HTML-200":  htmlPage(http.StatusOK),
		"NOT-FOUND": func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
		"TRUNCATED": body(`{"name":"x","sour`),
		"HUGE":      body(`{"name":"` + strings.Repeat("x", signals.MaxDetailsBytes) + `"}`),
		"ENDLESS":   endless(http.StatusOK),
		"ARRAY":     body(`[{"name":"a"},{"name":"b"}]`),
		"NUMBER":    body(`42`),
	}
	lists := []string{"OK-LIST"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata/badip/lists/OK-LIST",
		body(`{"name":"OK-LIST","source":"s","site":"https://example.org/","description":"d","tags":"a,b","sensitivity":"5","visibility":"Public"}`))
	for id, h := range faults {
		lists = append(lists, id)
		mux.HandleFunc("GET /metadata/badip/lists/"+id, h)
	}
	report, _ := json.Marshal(map[string]any{"fullip": map[string]any{"score": -2, "badip": map[string]any{"score": -1, "blacklists": lists}}})
	mux.HandleFunc("GET /v2.0/ip/"+goodIP, body(string(report)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	logs := &testsupport.LockedBuffer{}
	h := relayFor(t, srv.URL, &http.Client{Timeout: 2 * time.Second}, logs)
	env := observeWithoutErrors(t, h, goodIP)
	for kind, want := range map[string]int{"verdicts": 1, "judgements": 1, "sightings": 1, "indicators": 1, "relationships": 1} {
		if got := env.Data[kind].Count; got != want {
			t.Errorf("%s = %d, want %d", kind, got, want)
		}
	}
	if s := env.Data["sightings"].Docs; len(s) == 1 && s[0]["source"] != "s" {
		t.Errorf("sighting source = %v, want the OK-LIST's", s[0]["source"])
	}
	if want := fmt.Sprintf(`"lists_skipped":%d`, len(faults)); !strings.Contains(logs.String(), want) {
		t.Errorf("request log lacks %s:\n%s", want, logs)
	}
}

// TestUpstreamWrongTypes sends reports and list details in which every
// field the mapping reads has a wrong JSON type. The relay answers without
// error, taking what it can and ignoring what it cannot.
func TestUpstreamWrongTypes(t *testing.T) {
	t.Parallel()
	const details = `{"name":"N","source":"S","site":"https://example.org/","description":"D","tags":"a","sensitivity":"1","visibility":"Public"}`
	cases := []struct {
		name    string
		report  string
		details string
		// want: disposition, judgements, sightings
		disposition, judgements, sightings int
	}{
		{"score as string", `{"fullip":{"score":"-3"}}`, details, 2, 0, 0},
		{"score as fraction", `{"fullip":{"score":-2.9}}`, details, 3, 0, 0},
		{"score as boolean", `{"fullip":{"score":true,"badip":{"score":-1}}}`, details, 3, 1, 0},
		{"score as object", `{"fullip":{"score":{"v":-3}}}`, details, 5, 0, 0},
		{"score as array", `{"fullip":{"score":[-3]}}`, details, 5, 0, 0},
		{"score null", `{"fullip":{"score":null,"history":{"score":-1}}}`, details, 3, 1, 0},
		{"score huge", `{"fullip":{"score":1e300}}`, details, 5, 0, 0},
		{"score not a number", `{"fullip":{"score":"NaN"}}`, details, 5, 0, 0},
		{"fullip as array", `{"fullip":[{"score":-3}]}`, details, 5, 0, 0},
		{"fullip as string", `{"fullip":"-3"}`, details, 5, 0, 0},
		{"fullip null", `{"fullip":null}`, details, 5, 0, 0},
		{"no fullip", `{}`, details, 5, 0, 0},
		{"report null", `null`, details, 5, 0, 0},
		{"hostname as number", `{"fullip":{"score":-1,"hostname":42,"baddomain":{"score":-1}}}`, details, 3, 1, 0},
		{"hostname as object", `{"fullip":{"score":0,"hostname":{"a":1}}}`, details, 5, 0, 0},
		{"badip as array", `{"fullip":{"score":-1,"badip":[{"score":-1,"blacklists":["L"]}]}}`, details, 3, 0, 0},
		{"badip as string", `{"fullip":{"score":-1,"badip":"L"}}`, details, 3, 0, 0},
		{"badip.score as string", `{"fullip":{"badip":{"score":"-1","blacklists":["L"]}}}`, details, 3, 1, 1},
		{"blacklists as object", `{"fullip":{"score":-1,"badip":{"score":-1,"blacklists":{"L":true}}}}`, details, 3, 1, 0},
		{"blacklists as number", `{"fullip":{"score":-1,"badip":{"score":-1,"blacklists":7}}}`, details, 3, 1, 0},
		{"blacklists as comma string", `{"fullip":{"score":-1,"badip":{"score":-1,"blacklists":"L1,L2"}}}`, details, 3, 1, 2},
		{"blacklists as Python repr", `{"fullip":{"score":-1,"badip":{"score":-1,"blacklists":"['L1', 'L2']"}}}`, details, 3, 1, 2},
		{"blacklists with nested values", `{"fullip":{"score":-1,"badip":{"score":-1,"blacklists":[["L1"],{"id":"L2"},null,"L3"]}}}`, details, 3, 1, 1},
		{"baddomain as array", `{"fullip":{"score":-1,"baddomain":[]}}`, details, 3, 0, 0},
		{"baddomain.domain as string", `{"fullip":{"score":-1,"baddomain":{"score":-1,"domain":"x"}}}`, details, 3, 1, 0},
		{"domain lists as numbers", `{"fullip":{"score":-1,"baddomain":{"score":-1,"domain":{"blacklist":1,"blacklist_mx":true,"blacklist_ns":{}}}}}`, details, 3, 1, 0},
		{"history as string", `{"fullip":{"score":-1,"history":"-1"}}`, details, 3, 0, 0},
		{"history.score as object", `{"fullip":{"score":-1,"history":{"score":{}}}}`, details, 3, 0, 0},
		{"details with every field of a wrong type", `{"fullip":{"score":-1,"badip":{"score":-1,"blacklists":["L"]}}}`,
			`{"name":1,"source":{"a":1},"site":["x"],"description":null,"tags":5,"sensitivity":{"v":1},"visibility":true}`, 3, 1, 1},
		{"details as a one-element array", `{"fullip":{"score":-1,"badip":{"score":-1,"blacklists":["L"]}}}`, `[` + details + `]`, 3, 1, 1},
		{"details null", `{"fullip":{"score":-1,"badip":{"score":-1,"blacklists":["L"]}}}`, `null`, 3, 1, 0},
		{"details as string", `{"fullip":{"score":-1,"badip":{"score":-1,"blacklists":["L"]}}}`, `"N"`, 3, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux := http.NewServeMux()
			mux.HandleFunc("GET /v2.0/ip/"+goodIP, body(tc.report))
			mux.HandleFunc("GET /metadata/", body(tc.details))
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			h := relayFor(t, srv.URL, &http.Client{Timeout: 10 * time.Second}, nil)
			env := observeWithoutErrors(t, h, goodIP)
			verdicts := env.Data["verdicts"].Docs
			if len(verdicts) != 1 || verdicts[0]["disposition"] != float64(tc.disposition) {
				t.Errorf("verdicts = %v, want one with disposition %d", verdicts, tc.disposition)
			}
			if got := env.Data["judgements"].Count; got != tc.judgements {
				t.Errorf("judgements = %d, want %d", got, tc.judgements)
			}
			if got := env.Data["sightings"].Count; got != tc.sightings {
				t.Errorf("sightings = %d, want %d", got, tc.sightings)
			}
		})
	}
}

// quietTLSServer is an httptest TLS server that does not log the handshakes
// the relay refuses.
func quietTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// expiredTLSServer is a quietTLSServer whose certificate for 127.0.0.1
// expired yesterday, and a client that trusts that certificate.
func expiredTLSServer(t *testing.T, h http.Handler) (string, *http.Client) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     time.Now().Add(-24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, cert, cert, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS() // its Client trusts the certificate given
	t.Cleanup(srv.Close)
	return srv.URL, &http.Client{Transport: srv.Client().Transport.(*http.Transport).Clone()}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bundleAnswer is an observe answer decoded for counting documents.
type bundleAnswer struct {
	Data map[string]struct {
		Count int
		Docs  []map[string]any
	}
	Errors []any
}

// observeWithoutErrors observes ip through h and returns the answer, which
// must be HTTP 200 with no errors.
func observeWithoutErrors(t *testing.T, h http.Handler, ip string) bundleAnswer {
	t.Helper()
	status, got := post(t, h, "/observe/observables", obsJSON("ip", ip))
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200", status)
	}
	var env bundleAnswer
	if err := json.Unmarshal(got, &env); err != nil {
		t.Fatal(err)
	}
	if len(env.Errors) != 0 {
		t.Errorf("errors = %v, want none", env.Errors)
	}
	return env
}
