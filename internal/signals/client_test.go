package signals

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

const (
	// testKey is the API key the client sends; a well-formed UUID.
	testKey = "6f1c9a2e-3b7d-4c58-9e21-0a4b8c7d5e3f"
	// testUA is the User-Agent the client is built with.
	testUA = "signals-relay-test/1.0 (+https://example.net/relay)"
	// basePath is where the fake API lives, so that a request that ignores
	// the base URL's path is caught.
	basePath = "/api/signals"
)

// testHTTPClient returns an HTTP client of its own, with a fresh transport.
func testHTTPClient(t *testing.T, timeout time.Duration) *http.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: timeout, Transport: tr}
}

// newClient returns a client of baseURL or fails the test.
func newClient(t *testing.T, baseURL string, hc *http.Client) *Client {
	t.Helper()
	c, err := New(baseURL, hc, testUA)
	if err != nil {
		t.Fatalf("New(%q): %v", baseURL, err)
	}
	return c
}

// setup starts a fake Auth0 Signals API mounted under basePath and returns a
// client of it and the mux the test registers its routes on (paths relative
// to basePath). A request outside basePath fails the test.
func setup(t *testing.T) (*Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	root := http.NewServeMux()
	root.Handle(basePath+"/", http.StripPrefix(basePath, mux))
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.RequestURI)
		http.Error(w, "Resource not found", http.StatusNotFound)
	})
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	return newClient(t, srv.URL+basePath, testHTTPClient(t, 10*time.Second)), mux
}

// upstreamRequest is what a fake API saw of one request.
type upstreamRequest struct {
	Method      string
	RequestURI  string
	EscapedPath string
	RawQuery    string
	Header      http.Header
}

// recorder starts a fake API that records every request, whatever its path,
// and answers each with answer. It does no path cleaning, so the requests
// are seen exactly as sent.
func recorder(t *testing.T, answer http.HandlerFunc) (*Client, func() []upstreamRequest) {
	t.Helper()
	var (
		mu   sync.Mutex
		seen []upstreamRequest
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, upstreamRequest{
			Method:      r.Method,
			RequestURI:  r.RequestURI,
			EscapedPath: r.URL.EscapedPath(),
			RawQuery:    r.URL.RawQuery,
			Header:      r.Header.Clone(),
		})
		mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL+basePath, testHTTPClient(t, 10*time.Second))
	return c, func() []upstreamRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]upstreamRequest(nil), seen...)
	}
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if got := r.Method; got != want {
		t.Errorf("request method = %s, want %s", got, want)
	}
}

func testHeader(t *testing.T, r *http.Request, name, want string) {
	t.Helper()
	if got := r.Header.Values(name); len(got) != 1 || got[0] != want {
		t.Errorf("request header %s = %q, want exactly %q", name, got, want)
	}
}

// testAPIRequest checks what every call must send.
func testAPIRequest(t *testing.T, r *http.Request) {
	t.Helper()
	testMethod(t, r, http.MethodGet)
	testHeader(t, r, "X-Auth-Token", testKey)
	testHeader(t, r, "Accept", "application/json")
	testHeader(t, r, "User-Agent", testUA)
	if r.URL.RawQuery != "" {
		t.Errorf("request query = %q, want none (the key travels in a header)", r.URL.RawQuery)
	}
}

// serveFixture answers with a JSON fixture from testdata.
func serveFixture(t *testing.T, w http.ResponseWriter, name string) {
	t.Helper()
	body := readTestdata(t, name)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// errorFixture is one of testdata/errors/*.json.
type errorFixture struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func loadErrorFixture(t *testing.T, name string) errorFixture {
	t.Helper()
	var f errorFixture
	if err := json.Unmarshal(readTestdata(t, "errors/"+name), &f); err != nil {
		t.Fatalf("error fixture %s: %v", name, err)
	}
	return f
}

func (f errorFixture) serve(w http.ResponseWriter) {
	for k, v := range f.Headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, f.Body)
}

func TestReport(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("/v2.0/ip/{ip}", func(w http.ResponseWriter, r *http.Request) {
		testAPIRequest(t, r)
		if got := r.PathValue("ip"); got != "203.0.113.66" {
			t.Errorf("ip in path = %q, want 203.0.113.66", got)
		}
		serveFixture(t, w, "ip-report_malicious_203.0.113.66_score-3.json")
	})
	r, err := c.Report(t.Context(), testKey, "203.0.113.66")
	if err != nil {
		t.Fatalf("Report: %v", err)
	}
	if r == nil {
		t.Fatal("Report = nil, want the report")
	}
	if got := r.TotalScore(); got != -3 {
		t.Errorf("TotalScore() = %d, want -3", got)
	}
	want := []ListRef{
		{BadIP, "NIXSPAM-IP"}, {BadIP, "UCEPROTECT-LEVEL1"},
		{BadDomain, "SBLACK-HOSTS-DOMAINS"}, {BadDomain, "MALWAREDOMAINS-COM"}, {BadDomain, "ISC-DOMAINS-HIGH"},
	}
	if diff := cmp.Diff(want, r.Lists()); diff != "" {
		t.Errorf("Lists() mismatch (-want +got):\n%s", diff)
	}
}

// TestReportsOutliveTheirBodies checks that what a call returns does not
// share memory with the buffer its body was read into, which the next call
// reuses: reports and list details read one after another, in both orders,
// stay equal to their fixtures decoded directly. It runs on one P, so that the
// calls do reuse one buffer (not in parallel with other tests: GOMAXPROCS is
// the process's).
func TestReportsOutliveTheirBodies(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	c, mux := setup(t)
	reports := map[string]string{
		"203.0.113.66":  "ip-report_malicious_203.0.113.66_score-3.json",
		"198.51.100.23": "ip-report_suspicious_198.51.100.23_score-2.json",
	}
	mux.HandleFunc("/v2.0/ip/{ip}", func(w http.ResponseWriter, r *http.Request) {
		serveFixture(t, w, reports[r.PathValue("ip")])
	})
	mux.HandleFunc("/metadata/{kind}/lists/{id}", func(w http.ResponseWriter, r *http.Request) {
		serveFixture(t, w, "metadata/"+r.PathValue("kind")+"/"+r.PathValue("id")+".json")
	})
	want := map[string]*Report{}
	for ip, name := range reports {
		r, err := decodeReport(readTestdata(t, name))
		if err != nil {
			t.Fatal(err)
		}
		want[ip] = r
	}
	details := func(ref ListRef) *ListDetails {
		d, err := c.ListDetails(t.Context(), testKey, ref)
		if err != nil {
			t.Fatalf("ListDetails(%v): %v", ref, err)
		}
		return d
	}
	wantDetails, err := decodeListDetails(readTestdata(t, "metadata/badip/NIXSPAM-IP.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got []*Report
	gotDetails := details(ListRef{BadIP, "NIXSPAM-IP"})
	for _, ip := range []string{"203.0.113.66", "198.51.100.23", "203.0.113.66", "198.51.100.23"} {
		r, err := c.Report(t.Context(), testKey, ip)
		if err != nil || r == nil {
			t.Fatalf("Report(%s) = %v, %v", ip, r, err)
		}
		got = append(got, r)
	}
	_ = details(ListRef{BadDomain, "MALWAREDOMAINS-COM"})
	for i, ip := range []string{"203.0.113.66", "198.51.100.23", "203.0.113.66", "198.51.100.23"} {
		if diff := cmp.Diff(want[ip], got[i]); diff != "" {
			t.Errorf("report %d (%s) changed after later calls (-fixture +in turn):\n%s", i, ip, diff)
		}
	}
	if diff := cmp.Diff(wantDetails, gotDetails); diff != "" {
		t.Errorf("list details changed after later calls (-fixture +in turn):\n%s", diff)
	}
}

func TestReportIPv6(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("/v2.0/ip/{ip}", func(w http.ResponseWriter, r *http.Request) {
		testAPIRequest(t, r)
		if got := r.PathValue("ip"); got != "2001:db8::5" {
			t.Errorf("ip in path = %q, want 2001:db8::5", got)
		}
		serveFixture(t, w, "ip-report_clean_2001-db8--5_ipv6_UNVERIFIED.json")
	})
	r, err := c.Report(t.Context(), testKey, "2001:db8::5")
	if err != nil || r == nil {
		t.Fatalf("Report = %v, %v; want a report", r, err)
	}
	if got := r.TotalScore(); got != 0 {
		t.Errorf("TotalScore() = %d, want 0", got)
	}
}

func TestListDetails(t *testing.T) {
	t.Parallel()
	tests := []ListRef{
		{BadIP, "FAIL2BAN-SSH"},
		{BadIP, "QUARANTINE-IP"},
		{BadDomain, "SBLACK-HOSTS-DOMAINS"},
		{BadDomain, "ISC-DOMAINS-HIGH"},
	}
	for _, ref := range tests {
		t.Run(string(ref.Kind)+"/"+ref.ID, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			file := "metadata/" + string(ref.Kind) + "/" + ref.ID + ".json"
			mux.HandleFunc("/metadata/{kind}/lists/{id}", func(w http.ResponseWriter, r *http.Request) {
				testAPIRequest(t, r)
				if kind, id := r.PathValue("kind"), r.PathValue("id"); kind != string(ref.Kind) || id != ref.ID {
					t.Errorf("path names %s/%s, want %s/%s", kind, id, ref.Kind, ref.ID)
				}
				serveFixture(t, w, file)
			})
			got, err := c.ListDetails(t.Context(), testKey, ref)
			if err != nil {
				t.Fatalf("ListDetails: %v", err)
			}
			if diff := cmp.Diff(metadataOracle(t, readTestdata(t, file)), got); diff != "" {
				t.Errorf("details mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("/v2.0/ip", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		testAPIRequest(t, r)
		serveFixture(t, w, "ip-report_bare-v2.0-ip_health-check.json")
	})
	if err := c.Ping(t.Context(), testKey); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("health check made %d calls to /v2.0/ip, want 1", got)
	}
}

// The exact request line of each call, under the base path.
func TestRequestURIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(context.Context, *Client) error
		want string
	}{
		{"report", func(ctx context.Context, c *Client) error {
			_, err := c.Report(ctx, testKey, "198.51.100.23")
			return err
		}, basePath + "/v2.0/ip/198.51.100.23"},
		{"health check", func(ctx context.Context, c *Client) error {
			return c.Ping(ctx, testKey)
		}, basePath + "/v2.0/ip"},
		{"badip list", func(ctx context.Context, c *Client) error {
			_, err := c.ListDetails(ctx, testKey, ListRef{BadIP, "FAIL2BAN-SSH"})
			return err
		}, basePath + "/metadata/badip/lists/FAIL2BAN-SSH"},
		{"baddomain list", func(ctx context.Context, c *Client) error {
			_, err := c.ListDetails(ctx, testKey, ListRef{BadDomain, "MALWAREDOMAINS-COM"})
			return err
		}, basePath + "/metadata/baddomain/lists/MALWAREDOMAINS-COM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, seen := recorder(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"fullip":{},"name":"x"}`)
			})
			if err := tc.call(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			reqs := seen()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if got := reqs[0].RequestURI; got != tc.want {
				t.Errorf("request URI = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBaseURLWithTrailingSlashAndEscapedPrefix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ base, want string }{
		{basePath + "/", basePath + "/v2.0/ip"},
		{basePath + "//", basePath + "/v2.0/ip"},
		{"/tenant%2Fa/signals", "/tenant%2Fa/signals/v2.0/ip"},
		{"", "/v2.0/ip"},
	} {
		t.Run(tc.base, func(t *testing.T) {
			t.Parallel()
			var got atomic.Value
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got.Store(r.RequestURI)
				_, _ = io.WriteString(w, `{}`)
			}))
			t.Cleanup(srv.Close)
			c := newClient(t, srv.URL+tc.base, testHTTPClient(t, 10*time.Second))
			if err := c.Ping(t.Context(), testKey); err != nil {
				t.Fatal(err)
			}
			if got.Load() != tc.want {
				t.Errorf("request URI = %v, want %q", got.Load(), tc.want)
			}
		})
	}
}

// outcome is how a call classifies an upstream answer.
type outcome int

const (
	ok           outcome = iota // data (Ping: healthy)
	noData                      // Report: nil, nil; Ping: healthy; ListDetails: see noDataError
	noDataError                 // *APIError with only NoData
	unauthorized                // *APIError with Unauthorized
	rateLimited                 // *APIError with RateLimited
	otherStatus                 // *APIError that is none of the above
	undecodable                 // 2xx that cannot be decoded: *TransportError (Ping: healthy)
)

// statusCases are upstream answers and how every call must classify them
// (API docs §6 and §9).
var statusCases = []struct {
	name        string
	status      int
	contentType string
	body        string
	fixture     string // an errors/ descriptor instead of status and body
	data        bool   // answer 200 with the call's own fixture
	want        outcome
	wantBody    string // for *APIError, when set
}{
	{name: "200", status: 200, data: true, want: ok},
	{name: "400 bad IP format", fixture: "400_bad-ip-format.json", want: noData},
	{name: "404 resource not found", fixture: "404_resource-not-found.json", want: noData},
	{name: "404 empty body", status: 404, want: noData},
	{name: "400 invalid token", fixture: "400_invalid-token-not-uuid.json", want: unauthorized},
	{name: "404 invalid token", status: 404, contentType: "text/plain", body: "Token must be a valid RFC4122 UUID", want: unauthorized},
	{name: "400 invalid token among other text", status: 400, contentType: "text/plain", body: "Error:\n  Token must be a valid RFC4122 UUID\n", want: unauthorized},
	{name: "401 unknown key", fixture: "401_unknown-api-key.json", want: unauthorized, wantBody: "Unauthorized. API Key not found."},
	{name: "401 bare", fixture: "401_unauthorized-bare-variant.json", want: unauthorized, wantBody: "Unauthorized"},
	{name: "401 empty body", status: 401, want: unauthorized},
	{name: "429 quota", fixture: "429_quota-exceeded_ASSUMED-BODY.json", want: rateLimited, wantBody: "429: Too Many Requests"},
	{name: "403", status: 403, contentType: "text/plain", body: "Forbidden", want: otherStatus},
	{name: "405", status: 405, contentType: "text/plain", body: "Method Not Allowed", want: otherStatus},
	{name: "500 html", status: 500, contentType: "text/html", body: "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n<h1>Internal Server Error</h1>\r\n</body>\r\n</html>\r\n", want: otherStatus,
		wantBody: "<html> <head><title>500 Internal Server Error</title></head> <body> <h1>Internal Server Error</h1> </body> </html>"},
	{name: "502 html", status: 502, contentType: "text/html", body: "<html><body><h1>502 Bad Gateway</h1></body></html>", want: otherStatus,
		wantBody: "<html><body><h1>502 Bad Gateway</h1></body></html>"},
	{name: "503 html", status: 503, contentType: "text/html", body: "<html><body>\n\tDown for maintenance\n</body></html>", want: otherStatus,
		wantBody: "<html><body> Down for maintenance </body></html>"},
	{name: "200 truncated JSON", status: 200, contentType: "application/json", body: `{"fullip":{"score":-3,"badip":{"score":-1,"blacklists":["NIX`, want: undecodable},
	{name: "200 plain text", status: 200, contentType: "text/plain", body: "200: OK", want: undecodable},
	{name: "200 html", status: 200, contentType: "text/html", body: "<!doctype html><title>Signals</title>", want: undecodable},
	{name: "200 empty", status: 200, want: undecodable},
}

func TestStatusMapping(t *testing.T) {
	t.Parallel()
	calls := []struct {
		name    string
		fixture string // the body of a 200
		call    func(context.Context, *Client) (got bool, err error)
		// noDataIsError: a no-data answer is an *APIError rather than
		// "nothing" for this call.
		noDataIsError bool
		// statusOnly: the call looks only at the status of a 2xx.
		statusOnly bool
	}{
		{
			name:    "Report",
			fixture: "ip-report_suspicious_198.51.100.23_score-2.json",
			call: func(ctx context.Context, c *Client) (bool, error) {
				r, err := c.Report(ctx, testKey, "198.51.100.23")
				return r != nil, err
			},
		},
		{
			name:    "ListDetails",
			fixture: "metadata/badip/FAIL2BAN-SSH.json",
			call: func(ctx context.Context, c *Client) (bool, error) {
				d, err := c.ListDetails(ctx, testKey, ListRef{BadIP, "FAIL2BAN-SSH"})
				return d != nil, err
			},
			noDataIsError: true,
		},
		{
			name:    "Ping",
			fixture: "ip-report_bare-v2.0-ip_health-check.json",
			call: func(ctx context.Context, c *Client) (bool, error) {
				err := c.Ping(ctx, testKey)
				return err == nil, err
			},
			statusOnly: true,
		},
	}
	for _, call := range calls {
		for _, sc := range statusCases {
			t.Run(call.name+"/"+sc.name, func(t *testing.T) {
				t.Parallel()
				c, _ := recorder(t, func(w http.ResponseWriter, r *http.Request) {
					switch {
					case sc.fixture != "":
						loadErrorFixture(t, sc.fixture).serve(w)
					case sc.data:
						serveFixture(t, w, call.fixture)
					default:
						if sc.contentType != "" {
							w.Header().Set("Content-Type", sc.contentType)
						}
						w.WriteHeader(sc.status)
						_, _ = io.WriteString(w, sc.body)
					}
				})
				got, err := call.call(t.Context(), c)

				want := sc.want
				if want == undecodable && call.statusOnly {
					want = ok
				}
				if want == noData && call.noDataIsError {
					want = noDataError
				}
				var apiErr *APIError
				switch want {
				case ok:
					if err != nil || !got {
						t.Fatalf("got data = %v, err = %v; want data and no error", got, err)
					}
				case noData:
					if err != nil || (got && !call.statusOnly) {
						t.Fatalf("got data = %v, err = %v; want no data and no error", got, err)
					}
				case noDataError:
					if !errors.As(err, &apiErr) || !apiErr.NoData() || apiErr.Unauthorized() || apiErr.RateLimited() {
						t.Fatalf("err = %#v, want an *APIError with only NoData", err)
					}
				case unauthorized, rateLimited, otherStatus:
					if !errors.As(err, &apiErr) {
						t.Fatalf("err = %#v, want an *APIError", err)
					}
					if got := apiErr.Unauthorized(); got != (want == unauthorized) {
						t.Errorf("Unauthorized() = %v, want %v", got, want == unauthorized)
					}
					if got := apiErr.RateLimited(); got != (want == rateLimited) {
						t.Errorf("RateLimited() = %v, want %v", got, want == rateLimited)
					}
					if apiErr.NoData() {
						t.Error("NoData() = true, want false")
					}
				case undecodable:
					var te *TransportError
					if !errors.As(err, &te) || te.Kind != Unreadable {
						t.Fatalf("err = %#v, want a *TransportError of kind Unreadable", err)
					}
					if errors.As(err, &apiErr) {
						t.Errorf("err = %v is also an *APIError", err)
					}
				}
				if apiErr != nil {
					wantStatus := sc.status
					if sc.fixture != "" {
						wantStatus = loadErrorFixture(t, sc.fixture).Status
					}
					if apiErr.StatusCode != wantStatus {
						t.Errorf("StatusCode = %d, want %d", apiErr.StatusCode, wantStatus)
					}
					if sc.wantBody != "" && apiErr.Body != sc.wantBody {
						t.Errorf("Body = %q, want %q", apiErr.Body, sc.wantBody)
					}
					if msg := apiErr.Error(); !strings.Contains(msg, http.StatusText(wantStatus)) {
						t.Errorf("Error() = %q, want it to name the status %q", msg, http.StatusText(wantStatus))
					}
				}
			})
		}
	}
}

// A key the API rejects as malformed must be reported as such whatever the
// key looks like, even when it is a word of the API's own message, and
// wherever the message stands in the body.
func TestInvalidTokenIsUnauthorizedWhateverTheKey(t *testing.T) {
	t.Parallel()
	const message = "Token must be a valid RFC4122 UUID"
	tests := []struct {
		name string
		key  string
		body string
	}{
		{"plain key", "not-a-uuid", message},
		{"key is a letter of the message", "a", message},
		{"key is a word of the message", "UUID", message},
		{"key is digits of the message", "4122", message},
		{"key echoed after the message", "my key", message + ": my key"},
		{"message after a long preamble", "not-a-uuid", strings.Repeat("Request rejected. ", 40) + message},
	}
	for _, tc := range tests {
		for _, status := range []int{http.StatusBadRequest, http.StatusNotFound} {
			t.Run(tc.name+"/"+http.StatusText(status), func(t *testing.T) {
				t.Parallel()
				c, _ := recorder(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/plain; charset=utf-8")
					w.WriteHeader(status)
					_, _ = io.WriteString(w, tc.body)
				})
				r, err := c.Report(t.Context(), tc.key, "198.51.100.23")
				var apiErr *APIError
				if !errors.As(err, &apiErr) || !apiErr.Unauthorized() {
					t.Errorf("Report = %v, %v; want an *APIError with Unauthorized", r, err)
				}
				if err := c.Ping(t.Context(), tc.key); !errors.As(err, &apiErr) || !apiErr.Unauthorized() {
					t.Errorf("Ping = %v, want an *APIError with Unauthorized", err)
				}
			})
		}
	}
}

func TestErrorBodyIsBoundedAndPrintable(t *testing.T) {
	t.Parallel()
	body := "<html>\x00\x1b[31m" + strings.Repeat("Bad \t\tGateway\r\n", 4000) + "\xff\xfe</html>"
	c, _ := recorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, body)
	})
	_, err := c.Report(t.Context(), testKey, "198.51.100.23")
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want an *APIError", err)
	}
	if n := utf8.RuneCountInString(apiErr.Body); n == 0 || n > 1024 {
		t.Errorf("Body has %d characters, want a short excerpt", n)
	}
	if !strings.HasPrefix(apiErr.Body, "<html>") || !strings.Contains(apiErr.Body, "Bad Gateway") {
		t.Errorf("Body = %q, want the start of the answer", apiErr.Body)
	}
	for _, s := range []string{apiErr.Body, apiErr.Error()} {
		if !utf8.ValidString(s) {
			t.Errorf("%q is not valid UTF-8", s)
		}
		for _, r := range s {
			if unicode.IsControl(r) {
				t.Errorf("%q holds control character %U", s, r)
				break
			}
		}
	}
}

func TestErrorsNeverShowTheKey(t *testing.T) {
	t.Parallel()
	bodies := []string{
		testKey,
		"Unauthorized. API Key " + testKey + " not found.",
		"Token must be a valid RFC4122 UUID: " + testKey,
		"<html>\n<p>token:\t" + testKey + "</p>\n<p>again " + testKey + "</p></html>",
		"key=" + testKey + "&token=" + testKey,
		strings.Repeat(" ", 500) + testKey,
		strings.Repeat("x", 290) + testKey,
	}
	for _, status := range []int{400, 401, 403, 404, 429, 500, 503} {
		for i, body := range bodies {
			t.Run(http.StatusText(status)+"/"+string(rune('a'+i)), func(t *testing.T) {
				t.Parallel()
				c, _ := recorder(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/plain")
					w.WriteHeader(status)
					_, _ = io.WriteString(w, body)
				})
				for name, err := range map[string]error{
					"Report":      second(c.Report(t.Context(), testKey, "198.51.100.23")),
					"ListDetails": second(c.ListDetails(t.Context(), testKey, ListRef{BadIP, "FAIL2BAN-SSH"})),
					"Ping":        c.Ping(t.Context(), testKey),
				} {
					if err == nil {
						continue // 400/404 without a key problem: no data
					}
					if strings.Contains(err.Error(), testKey) {
						t.Errorf("%s: Error() = %q shows the API key", name, err)
					}
					var apiErr *APIError
					if errors.As(err, &apiErr) && strings.Contains(apiErr.Body, testKey) {
						t.Errorf("%s: Body = %q shows the API key", name, apiErr.Body)
					}
				}
			})
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestBodyOverTheCap(t *testing.T) {
	t.Parallel()
	// padded returns a valid JSON body of exactly n bytes.
	padded := func(prefix string, n int) string {
		const suffix = `"}`
		return prefix + strings.Repeat("x", n-len(prefix)-len(suffix)) + suffix
	}
	tests := []struct {
		name    string
		limit   int
		body    func(n int) string
		call    func(context.Context, *Client) (bool, error)
		wantErr bool
	}{
		{"report at the cap", MaxReportBytes, func(n int) string { return padded(`{"fullip":{"score":-3},"pad":"`, n) }, callReport, false},
		{"report over the cap", MaxReportBytes + 1, func(n int) string { return padded(`{"fullip":{"score":-3},"pad":"`, n) }, callReport, true},
		{"details at the cap", MaxDetailsBytes, func(n int) string { return padded(`{"name":"A","description":"`, n) }, callDetails, false},
		{"details over the cap", MaxDetailsBytes + 1, func(n int) string { return padded(`{"name":"A","description":"`, n) }, callDetails, true},
	}
	for _, tc := range tests {
		for _, declared := range []bool{false, true} { // chunked, or with a Content-Length
			t.Run(fmt.Sprintf("%s/content-length=%v", tc.name, declared), func(t *testing.T) {
				t.Parallel()
				body := tc.body(tc.limit)
				if len(body) != tc.limit || !json.Valid([]byte(body)) {
					t.Fatalf("test body: %d bytes, valid JSON %v", len(body), json.Valid([]byte(body)))
				}
				c, _ := recorder(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					if declared {
						w.Header().Set("Content-Length", strconv.Itoa(len(body)))
					}
					_, _ = io.WriteString(w, body)
				})
				got, err := tc.call(t.Context(), c)
				if !tc.wantErr {
					if err != nil || !got {
						t.Fatalf("got data = %v, err = %v; want data", got, err)
					}
					return
				}
				var te *TransportError
				if !errors.As(err, &te) {
					t.Fatalf("err = %#v, want a *TransportError", err)
				}
			})
		}
	}
}

func callReport(ctx context.Context, c *Client) (bool, error) {
	r, err := c.Report(ctx, testKey, "203.0.113.66")
	return r != nil, err
}

func callDetails(ctx context.Context, c *Client) (bool, error) {
	d, err := c.ListDetails(ctx, testKey, ListRef{BadIP, "FAIL2BAN-SSH"})
	return d != nil, err
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, "http://"+addr+basePath, testHTTPClient(t, 10*time.Second))
	for name, err := range map[string]error{
		"Report":      second(c.Report(t.Context(), testKey, "198.51.100.23")),
		"ListDetails": second(c.ListDetails(t.Context(), testKey, ListRef{BadIP, "FAIL2BAN-SSH"})),
		"Ping":        c.Ping(t.Context(), testKey),
	} {
		var te *TransportError
		if !errors.As(err, &te) || te.Kind != Unreachable {
			t.Errorf("%s: err = %#v, want a *TransportError of kind Unreachable", name, err)
			continue
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s: err = %v, want it to wrap ECONNREFUSED", name, err)
		}
	}
}

// stallingServer answers nothing, or only the start of a body, until the
// client gives up; it never sleeps.
func stallingServer(t *testing.T, partial string) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if partial != "" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, partial)
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	return srv
}

func TestClientTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 150 * time.Millisecond
	tests := []struct {
		name    string
		partial string
		// wantDuration: the message names the configured timeout.
		wantDuration bool
	}{
		{"no answer", "", true},
		{"stalled body", `{"fullip":{"score":`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := stallingServer(t, tc.partial)
			c := newClient(t, srv.URL+basePath, testHTTPClient(t, timeout))
			r, err := c.Report(t.Context(), testKey, "198.51.100.23")
			var te *TransportError
			if !errors.As(err, &te) || te.Kind != TimedOut {
				t.Fatalf("Report = %v, %#v; want a *TransportError of kind TimedOut", r, err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
			}
			if msg := err.Error(); !strings.Contains(strings.ToLower(msg), "timeout") &&
				!strings.Contains(msg, timeout.String()) {
				t.Errorf("err = %q, want it to mention the timeout", msg)
			}
			if tc.wantDuration && !strings.Contains(err.Error(), timeout.String()) {
				t.Errorf("err = %q, want it to name the timeout %s", err, timeout)
			}
		})
	}
}

func TestContextCancellation(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel() // the caller gives up while the API is working
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := newClient(t, srv.URL, testHTTPClient(t, 10*time.Second))
	r, err := c.Report(ctx, testKey, "198.51.100.23")
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("Report = %v, %#v; want a *TransportError", r, err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
}

func TestContextDeadline(t *testing.T) {
	t.Parallel()
	srv := stallingServer(t, "")
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	c := newClient(t, srv.URL, testHTTPClient(t, 10*time.Second))
	err := c.Ping(ctx, testKey)
	var te *TransportError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || te.Kind != TimedOut {
		t.Fatalf("Ping = %#v, want a *TransportError of kind TimedOut wrapping context.DeadlineExceeded", err)
	}
}

// tlsServer starts an HTTPS fake API with httptest's own certificate.
func tlsServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveFixture(t, w, "ip-report_bare-v2.0-ip_health-check.json")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestUntrustedCertificate(t *testing.T) {
	t.Parallel()
	srv := tlsServer(t)

	// The control: a client that trusts the test certificate gets through.
	trusting := newClient(t, srv.URL, srv.Client())
	if err := trusting.Ping(t.Context(), testKey); err != nil {
		t.Fatalf("Ping with a trusting client: %v", err)
	}

	// Trusts the test certificate but expects another name in it.
	otherName := srv.Client().Transport.(*http.Transport).Clone()
	otherName.TLSClientConfig.ServerName = "signals.example.org"
	t.Cleanup(otherName.CloseIdleConnections)

	tests := []struct {
		name   string
		hc     *http.Client
		reason CertReason
	}{
		{"unknown authority", testHTTPClient(t, 10*time.Second), CertUnknownAuthority},
		{"name not in the certificate", &http.Client{Timeout: 10 * time.Second, Transport: otherName}, CertHostnameMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, srv.URL, tc.hc)
			for op, err := range map[string]error{
				"ip report":    second(c.Report(t.Context(), testKey, "198.51.100.23")),
				"health check": c.Ping(t.Context(), testKey),
			} {
				var tlsErr *TLSError
				if !errors.As(err, &tlsErr) {
					t.Errorf("%s: err = %#v, want a *TLSError", op, err)
					continue
				}
				if tlsErr.Op != op || tlsErr.Reason != tc.reason {
					t.Errorf("%s: Op %q, Reason %d, want %q, %d", op, tlsErr.Op, tlsErr.Reason, op, tc.reason)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, "auth0 signals "+op+": certificate not verified: x509: ") {
					t.Errorf("%s: Error() = %q, want the call and Go's cause", op, msg)
				}
			}
		})
	}
}

func TestRedirectToAnotherHostIsRefused(t *testing.T) {
	t.Parallel()
	other := untouchable(t, "the other host")
	otherURL, err := url.Parse(other.URL)
	if err != nil {
		t.Fatal(err)
	}

	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, target := range []string{
			other.URL + "/v2.0/ip/198.51.100.7",
			"//" + otherURL.Host + "/v2.0/ip/198.51.100.7",
		} {
			t.Run(http.StatusText(status)+"/"+target, func(t *testing.T) {
				t.Parallel()
				c, mux := setup(t)
				mux.HandleFunc("/v2.0/ip/{ip}", func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, target, status)
				})
				r, err := c.Report(t.Context(), testKey, "198.51.100.7")
				var te *TransportError
				if !errors.As(err, &te) || te.Kind != RedirectRefused {
					t.Fatalf("Report = %v, %#v; want a *TransportError of kind RedirectRefused", r, err)
				}
				if strings.Contains(err.Error(), testKey) {
					t.Errorf("Error() = %q shows the API key", err)
				}
			})
		}
	}
	// The subtests run after this function returns; untouchable checks the
	// other host once they are all done.
}

func TestRedirectOnTheSameHostIsFollowed(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("/v2.0/ip/{ip}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, basePath+"/v2/reports/"+r.PathValue("ip"), http.StatusMovedPermanently)
	})
	var moved atomic.Int32
	mux.HandleFunc("/v2/reports/{ip}", func(w http.ResponseWriter, r *http.Request) {
		moved.Add(1)
		testAPIRequest(t, r)
		serveFixture(t, w, "ip-report_suspicious_198.51.100.23_score-2.json")
	})
	r, err := c.Report(t.Context(), testKey, "198.51.100.23")
	if err != nil || r == nil {
		t.Fatalf("Report = %v, %v; want the report", r, err)
	}
	if got := r.TotalScore(); got != -2 {
		t.Errorf("TotalScore() = %d, want -2", got)
	}
	if moved.Load() != 1 {
		t.Errorf("redirect target got %d requests, want 1", moved.Load())
	}
}

func TestRedirectLoopEnds(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("/v2.0/ip", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, basePath+"/v2.0/ip", http.StatusFound)
	})
	err := c.Ping(t.Context(), testKey)
	var te *TransportError
	if !errors.As(err, &te) || te.Kind != RedirectRefused {
		t.Fatalf("Ping = %#v, want a *TransportError of kind RedirectRefused", err)
	}
	if n := hits.Load(); n < 2 || n > 10 {
		t.Errorf("the loop was followed %d times, want a small bound", n)
	}
}

// segmentsAfter returns the escaped path segments of p after prefix.
func segmentsAfter(t *testing.T, p, prefix string) []string {
	t.Helper()
	rest, ok := strings.CutPrefix(p, prefix+"/")
	if !ok {
		t.Fatalf("path %q is not under %q", p, prefix)
	}
	return strings.Split(rest, "/")
}

// hostileValues are path values that would change the request if they were
// not escaped into one segment.
var hostileValues = []string{
	"198.51.100.23/../../metadata/badip/lists/X",
	"a/b",
	"/leading",
	"trailing/",
	"a?b=c",
	"?token=x",
	"a#frag",
	"#",
	"100%",
	"%",
	"%2F",
	"%2e%2e",
	"..a",
	"...",
	"a/..",
	"../",
	"./x",
	"a b",
	" ",
	"tab\there",
	"line\nbreak",
	"ünïcødé",
	"名前",
	"😀",
	"2001:db8::5",
	"fe80::1%eth0",
	";x=1",
	"a\\b",
	"+plus&and=1",
	"@host",
	"\xff\xfe",
}

func TestPathValuesAreOneSegment(t *testing.T) {
	t.Parallel()
	notFound := func(w http.ResponseWriter, r *http.Request) {
		loadErrorFixture(t, "404_resource-not-found.json").serve(w)
	}
	for _, v := range hostileValues {
		t.Run("report/"+v, func(t *testing.T) {
			t.Parallel()
			c, seen := recorder(t, notFound)
			if r, err := c.Report(t.Context(), testKey, v); r != nil || err != nil {
				t.Errorf("Report = %v, %v; want no data", r, err)
			}
			checkOneSegment(t, seen(), []string{"v2.0", "ip"}, v)
		})
		t.Run("details/"+v, func(t *testing.T) {
			t.Parallel()
			c, seen := recorder(t, notFound)
			if _, err := c.ListDetails(t.Context(), testKey, ListRef{BadDomain, v}); err == nil {
				t.Error("ListDetails of an unknown list: no error")
			}
			checkOneSegment(t, seen(), []string{"metadata", "baddomain", "lists"}, v)
		})
	}
}

func checkOneSegment(t *testing.T, reqs []upstreamRequest, fixed []string, value string) {
	t.Helper()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.RawQuery != "" || strings.ContainsAny(req.RequestURI, "?#") {
		t.Errorf("request URI %q has a query or fragment", req.RequestURI)
	}
	if req.EscapedPath != req.RequestURI {
		t.Errorf("escaped path %q differs from the request URI %q", req.EscapedPath, req.RequestURI)
	}
	segs := segmentsAfter(t, req.EscapedPath, basePath)
	if len(segs) != len(fixed)+1 {
		t.Fatalf("path %q has segments %q, want %q and one for the value", req.EscapedPath, segs, fixed)
	}
	if diff := cmp.Diff(fixed, segs[:len(fixed)]); diff != "" {
		t.Errorf("fixed segments mismatch (-want +got):\n%s", diff)
	}
	last := segs[len(fixed)]
	if last == "." || last == ".." {
		t.Errorf("value segment %q is a dot segment", last)
	}
	got, err := url.PathUnescape(last)
	if err != nil {
		t.Fatalf("value segment %q: %v", last, err)
	}
	if got != value {
		t.Errorf("value segment %q unescapes to %q, want %q", last, got, value)
	}
}

func TestDotSegmentsAreNeverSent(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"", ".", ".."} {
		t.Run("report/"+v, func(t *testing.T) {
			t.Parallel()
			// A server that normalises paths would answer "/v2.0/ip/." with
			// the report of the caller's own address.
			c, seen := recorder(t, func(w http.ResponseWriter, r *http.Request) {
				serveFixture(t, w, "ip-report_malicious_203.0.113.66_score-3.json")
			})
			r, err := c.Report(t.Context(), testKey, v)
			if r != nil || err != nil {
				t.Errorf("Report(%q) = %v, %v; want no data", v, r, err)
			}
			if reqs := seen(); len(reqs) != 0 {
				t.Errorf("Report(%q) sent %q, want no request", v, reqs[0].RequestURI)
			}
		})
		t.Run("details/"+v, func(t *testing.T) {
			t.Parallel()
			c, seen := recorder(t, func(w http.ResponseWriter, r *http.Request) {
				serveFixture(t, w, "metadata/badip/_lists.json")
			})
			for _, kind := range []ListKind{BadIP, BadDomain} {
				d, err := c.ListDetails(t.Context(), testKey, ListRef{kind, v})
				var te *TransportError
				if !errors.As(err, &te) {
					t.Errorf("ListDetails(%s/%q) = %+v, %#v; want a *TransportError", kind, v, d, err)
				}
			}
			if reqs := seen(); len(reqs) != 0 {
				t.Errorf("ListDetails(%q) sent %q, want no request", v, reqs[0].RequestURI)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base     string
		wantBase string // "" when New must fail
		secret   string // must not appear in the error
	}{
		{base: "https://signals.api.auth0.com", wantBase: "https://signals.api.auth0.com"},
		{base: "https://signals.api.auth0.com/", wantBase: "https://signals.api.auth0.com"},
		{base: DefaultBaseURL, wantBase: DefaultBaseURL},
		{base: "http://127.0.0.1:8080/prefix/", wantBase: "http://127.0.0.1:8080/prefix"},
		{base: "http://[::1]:8080", wantBase: "http://[::1]:8080"},
		{base: "HTTPS://signals.example.net", wantBase: "https://signals.example.net"},
		{base: ""},
		{base: "signals.api.auth0.com"},
		{base: "//signals.api.auth0.com"},
		{base: "/v2.0"},
		{base: "ftp://signals.example.net"},
		{base: "file:///etc/passwd"},
		{base: "ws://signals.example.net"},
		{base: "https:signals.example.net"},
		{base: "https://"},
		{base: "https:///prefix"},
		{base: "https://:443"},
		{base: "http://:8080/prefix"},
		{base: "https://signals.example.net?token=s3cr3t-key", secret: "s3cr3t-key"},
		{base: "https://signals.example.net/?x=1"},
		{base: "https://signals.example.net/#s3cr3t-frag", secret: "s3cr3t-frag"},
		{base: "ftp://signals.example.net/?token=s3cr3t-key", secret: "s3cr3t-key"},
		{base: "https://user:s3cr3t-pw@signals.example.net", secret: "s3cr3t-pw"},
		{base: "https://user@signals.example.net"},
		{base: "ftp://user:s3cr3t-pw@signals.example.net", secret: "s3cr3t-pw"},
		{base: "https://user:s3cr3t-pw@signals example.net", secret: "s3cr3t-pw"},
		{base: "https://user:s3cr3t-pw@signals.example.net:port", secret: "s3cr3t-pw"},
		{base: "https://signals.example.net/%zz"},
		{base: "https://signals.example.net\n"},
	}
	for _, tc := range tests {
		t.Run(tc.base, func(t *testing.T) {
			t.Parallel()
			c, err := New(tc.base, &http.Client{}, testUA)
			if tc.wantBase == "" {
				if err == nil {
					t.Fatalf("New(%q) = %s, want an error", tc.base, c.BaseURL())
				}
				if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
					t.Errorf("New(%q) error %q shows the password", tc.base, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", tc.base, err)
			}
			if got := c.BaseURL(); got != tc.wantBase {
				t.Errorf("BaseURL() = %q, want %q", got, tc.wantBase)
			}
		})
	}
}

// TestNewNeedsAClient checks that New refuses a nil HTTP client rather
// than choose a timeout of its own: the command sets SIGNALS_TIMEOUT on it.
func TestNewNeedsAClient(t *testing.T) {
	t.Parallel()
	if c, err := New(DefaultBaseURL, nil, testUA); err == nil || c != nil {
		t.Errorf("New with a nil client = %v, %v; want an error", c, err)
	}
}

// New keeps the caller's HTTP client untouched and adds its own redirect
// policy to a copy.
func TestNewDoesNotChangeTheGivenClient(t *testing.T) {
	t.Parallel()
	hc := &http.Client{Timeout: 3 * time.Second}
	if _, err := New("https://signals.example.net", hc, testUA); err != nil {
		t.Fatal(err)
	}
	if hc.CheckRedirect != nil || hc.Timeout != 3*time.Second {
		t.Errorf("New changed the given client: %+v", hc)
	}
}

// TestRedirectFromHTTPSToHTTPIsRefused checks that an https base URL whose
// answer redirects to http on the same host and port is not followed: the
// API key would cross the network in clear text. The client knows the API
// as "signals.test:8443"; its transport sends the TLS connections to a TLS
// server and the clear-text ones to a plain server, so "the same host"
// holds for both schemes and only the scheme tells them apart.
func TestRedirectFromHTTPSToHTTPIsRefused(t *testing.T) {
	t.Parallel()
	const host = "signals.test:8443"
	plain := untouchable(t, "the clear-text address")

	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			var secureHits atomic.Int32
			secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				secureHits.Add(1)
				http.Redirect(w, r, "http://"+host+r.URL.Path, status)
			}))
			t.Cleanup(secure.Close)

			tr := secure.Client().Transport.(*http.Transport).Clone()
			tr.TLSClientConfig.ServerName = "example.com" // in httptest's certificate
			var d net.Dialer
			tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
				// Only TLS connections go through DialTLSContext; every
				// other connection here is clear text.
				return d.DialContext(ctx, network, plain.Listener.Addr().String())
			}
			td := &tls.Dialer{Config: tr.TLSClientConfig}
			tr.DialTLSContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return td.DialContext(ctx, network, secure.Listener.Addr().String())
			}
			t.Cleanup(tr.CloseIdleConnections)
			c := newClient(t, "https://"+host, &http.Client{Timeout: 10 * time.Second, Transport: tr})

			r, err := c.Report(t.Context(), testKey, "198.51.100.7")
			var te *TransportError
			if !errors.As(err, &te) || te.Kind != RedirectRefused {
				t.Fatalf("Report = %v, %#v; want a *TransportError of kind RedirectRefused", r, err)
			}
			if secureHits.Load() != 1 {
				t.Errorf("the https server got %d requests, want 1 (the test's wiring is broken)", secureHits.Load())
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("Error() = %q shows the API key", err)
			}
		})
	}
}

// untouchable starts a server that must get no request; it answers with a
// report, and once t and its subtests are done, fails t if any came.
func untouchable(t *testing.T, name string) *httptest.Server {
	t.Helper()
	var (
		hits atomic.Int32
		key  atomic.Value
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		key.Store(r.Header.Get("X-Auth-Token"))
		serveFixture(t, w, "ip-report_clean_198.51.100.7_score0.json")
	}))
	t.Cleanup(func() {
		srv.Close()
		if n := hits.Load(); n != 0 {
			t.Errorf("%s got %d requests (X-Auth-Token %q), want none", name, n, key.Load())
		}
	})
	return srv
}

// TestRedirectLoopMakesThreeRequests counts the requests a same-host
// redirect loop costs: the first and two redirects followed, then the
// client gives up. The figure is written out, not taken from the client's
// constant, so that raising the limit fails here.
func TestRedirectLoopMakesThreeRequests(t *testing.T) {
	t.Parallel()
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			var hits atomic.Int32
			mux.HandleFunc("/v2.0/ip/{ip}", func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				testAPIRequest(t, r)
				http.Redirect(w, r, basePath+"/v2.0/ip/"+r.PathValue("ip"), status)
			})
			_, err := c.Report(t.Context(), testKey, "198.51.100.7")
			var te *TransportError
			if !errors.As(err, &te) || te.Kind != RedirectRefused {
				t.Fatalf("Report = %#v, want a *TransportError of kind RedirectRefused", err)
			}
			if n := hits.Load(); n != 3 {
				t.Errorf("the loop cost %d requests, want 3", n)
			}
		})
	}
}
