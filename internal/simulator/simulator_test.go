package simulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/simulator/simtest"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

const (
	otherKey   = "0b9c1d2e-7f6a-4b5c-8d9e-1f2a3b4c5d6e" // valid UUID, not accepted by default
	textPlain  = "text/plain; charset=utf-8"
	appJSON    = "application/json"
	badToken   = "Token must be a valid RFC4122 UUID"
	unknownKey = "Unauthorized. API Key not found."
	notFound   = "Resource not found"
	tooMany    = "429: Too Many Requests"
)

type answer struct {
	status int
	ctype  string
	body   []byte
}

// newServer serves a simulator, counted by a simtest.Upstream.
func newServer(t *testing.T, opts simulator.Options) (*simtest.Upstream, *httptest.Server) {
	t.Helper()
	sim := simtest.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv
}

// do sends one request; key, if not empty, goes into X-Auth-Token.
func do(t *testing.T, srv *httptest.Server, method, path, key string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if key != "" {
		req.Header.Set("X-Auth-Token", key)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), body}
}

func get(t *testing.T, srv *httptest.Server, path, key string) answer {
	t.Helper()
	return do(t, srv, http.MethodGet, path, key)
}

func decode[T any](t *testing.T, a answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("decoding %s: %v", a.body, err)
	}
	return v
}

func TestEndpoints(t *testing.T) {
	_, srv := newServer(t, simulator.Options{})
	const anyJSON = "<json>" // marker: any JSON object
	tests := []struct {
		name   string
		method string
		path   string
		key    string
		status int
		ctype  string
		body   string
	}{
		{"report", "GET", "/v2.0/ip/198.51.100.7", simulator.DemoKey, 200, appJSON, anyJSON},
		{"report with items", "GET", "/v2.0/ip/198.51.100.23?items=100&page=1", simulator.DemoKey, 200, appJSON, anyJSON},
		{"report ipv6", "GET", "/v2.0/ip/2001:db8::5", simulator.DemoKey, 200, appJSON, anyJSON},
		{"report synthetic", "GET", "/v2.0/ip/10.20.30.40", simulator.DemoKey, 200, appJSON, anyJSON},
		{"report upper-case key", "GET", "/v2.0/ip/198.51.100.7", strings.ToUpper(simulator.DemoKey), 200, appJSON, anyJSON},
		{"report token query", "GET", "/v2.0/ip/198.51.100.7?token=" + simulator.DemoKey, "", 200, appJSON, anyJSON},
		{"report no key", "GET", "/v2.0/ip/198.51.100.7", "", 400, textPlain, badToken},
		{"report malformed key", "GET", "/v2.0/ip/198.51.100.7", "not-a-uuid", 400, textPlain, badToken},
		{"report malformed token query", "GET", "/v2.0/ip/198.51.100.7?token=abc", "", 400, textPlain, badToken},
		{"report unknown key", "GET", "/v2.0/ip/198.51.100.7", otherKey, 401, textPlain, unknownKey},
		{"report unknown token query", "GET", "/v2.0/ip/198.51.100.7?token=" + otherKey, "", 401, textPlain, unknownKey},
		{"bad ip before key check", "GET", "/v2.0/ip/*@^", "", 400, textPlain, badToken},
		{"bad ip", "GET", "/v2.0/ip/*@%5E", simulator.DemoKey, 400, textPlain, "Bad IP format:*@^"},
		{"bad ip octet", "GET", "/v2.0/ip/192.0.2.999", simulator.DemoKey, 400, textPlain, "Bad IP format:192.0.2.999"},
		{"bad ip short", "GET", "/v2.0/ip/1.2.3", simulator.DemoKey, 400, textPlain, "Bad IP format:1.2.3"},
		{"bad ip leading zero", "GET", "/v2.0/ip/010.1.1.1", simulator.DemoKey, 400, textPlain, "Bad IP format:010.1.1.1"},
		{"bad ip hostname", "GET", "/v2.0/ip/example.net", simulator.DemoKey, 400, textPlain, "Bad IP format:example.net"},
		{"bad ip zone", "GET", "/v2.0/ip/fe80::1%25eth0", simulator.DemoKey, 400, textPlain, "Bad IP format:fe80::1%eth0"},
		{"bad ip cidr", "GET", "/v2.0/ip/10.0.0.0%2F8", simulator.DemoKey, 400, textPlain, "Bad IP format:10.0.0.0/8"},
		{"empty ip", "GET", "/v2.0/ip/", simulator.DemoKey, 400, textPlain, "Bad IP format:"},
		{"server error ip", "GET", "/v2.0/ip/" + simulator.IPServerError, simulator.DemoKey, 500, "text/html; charset=utf-8", "<html>"},
		{"not found ip", "GET", "/v2.0/ip/" + simulator.IPNotFound, simulator.DemoKey, 404, textPlain, notFound},
		{"health", "GET", "/v2.0/ip", simulator.DemoKey, 200, appJSON, anyJSON},
		{"health token query", "GET", "/v2.0/ip?token=" + simulator.DemoKey, "", 200, appJSON, anyJSON},
		{"health no key", "GET", "/v2.0/ip", "", 400, textPlain, badToken},
		{"health malformed key", "GET", "/v2.0/ip", "1234", 400, textPlain, badToken},
		{"health unknown key", "GET", "/v2.0/ip", otherKey, 401, textPlain, unknownKey},
		{"list", "GET", "/metadata/badip/lists/FAIL2BAN-SSH", "", 200, appJSON, anyJSON},
		{"list domain", "GET", "/metadata/baddomain/lists/SBLACK-HOSTS-DOMAINS", "", 200, appJSON, anyJSON},
		{"list with valid key", "GET", "/metadata/badip/lists/FAIL2BAN-SSH", simulator.DemoKey, 200, appJSON, anyJSON},
		{"list with malformed key", "GET", "/metadata/badip/lists/FAIL2BAN-SSH", "nope", 200, appJSON, anyJSON},
		{"list with unknown key", "GET", "/metadata/badip/lists/FAIL2BAN-SSH", otherKey, 200, appJSON, anyJSON},
		{"list wrong type", "GET", "/metadata/baddomain/lists/FAIL2BAN-SSH", "", 404, textPlain, notFound},
		{"list unknown id", "GET", "/metadata/badip/lists/NO-SUCH-LIST", "", 404, textPlain, notFound},
		{"list retired id", "GET", "/metadata/badip/lists/" + simulator.RetiredListID, "", 404, textPlain, notFound},
		{"list unknown type", "GET", "/metadata/bademail/lists/FAIL2BAN-SSH", "", 404, textPlain, notFound},
		{"lists", "GET", "/metadata/badip/lists", "", 200, appJSON, anyJSON},
		{"lists domain", "GET", "/metadata/baddomain/lists?items=5", "", 200, appJSON, anyJSON},
		{"lists unknown type", "GET", "/metadata/nothing/lists", "", 404, textPlain, notFound},
		{"root", "GET", "/", simulator.DemoKey, 404, textPlain, notFound},
		{"unknown path", "GET", "/v1/ip/198.51.100.7", simulator.DemoKey, 404, textPlain, notFound},
		{"extra segment", "GET", "/v2.0/ip/198.51.100.7/extra", simulator.DemoKey, 404, textPlain, notFound},
		{"undocumented simple endpoint", "GET", "/badip/198.51.100.23", simulator.DemoKey, 404, textPlain, notFound},
		{"post report", "POST", "/v2.0/ip/198.51.100.7", simulator.DemoKey, 405, textPlain, "405: Method Not Allowed"},
		{"delete list", "DELETE", "/metadata/badip/lists/FAIL2BAN-SSH", "", 405, textPlain, "405: Method Not Allowed"},
		{"put unknown", "PUT", "/nowhere", "", 405, textPlain, "405: Method Not Allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, srv, tt.method, tt.path, tt.key)
			if a.status != tt.status {
				t.Errorf("status %d, want %d (body %q)", a.status, tt.status, a.body)
			}
			if a.ctype != tt.ctype {
				t.Errorf("Content-Type %q, want %q", a.ctype, tt.ctype)
			}
			switch {
			case tt.body == anyJSON:
				var obj map[string]any
				if err := json.Unmarshal(a.body, &obj); err != nil {
					t.Errorf("body is not a JSON object: %v: %q", err, a.body)
				}
			case strings.HasPrefix(tt.body, "<"):
				if !bytes.HasPrefix(a.body, []byte(tt.body)) {
					t.Errorf("body %q, want prefix %q", a.body, tt.body)
				}
			default:
				if string(a.body) != tt.body {
					t.Errorf("body %q, want %q", a.body, tt.body)
				}
			}
		})
	}
}

func TestMethodNotAllowedHeader(t *testing.T) {
	_, srv := newServer(t, simulator.Options{})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v2.0/ip", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodGet {
		t.Errorf("status %d Allow %q, want 405 GET", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestHeaderKeyWinsOverQuery(t *testing.T) {
	_, srv := newServer(t, simulator.Options{})
	if a := get(t, srv, "/v2.0/ip?token=bad", simulator.DemoKey); a.status != 200 {
		t.Errorf("status %d, want 200", a.status)
	}
	if a := get(t, srv, "/v2.0/ip?token="+simulator.DemoKey, otherKey); a.status != 401 {
		t.Errorf("status %d, want 401", a.status)
	}
}

func TestCustomKeys(t *testing.T) {
	_, srv := newServer(t, simulator.Options{Keys: []string{strings.ToUpper(otherKey)}})
	tests := []struct {
		key    string
		status int
	}{
		{otherKey, 200},
		{strings.ToUpper(otherKey), 200},
		{simulator.DemoKey, 401},
		{"", 400},
	}
	for _, tt := range tests {
		if a := get(t, srv, "/v2.0/ip/198.51.100.7", tt.key); a.status != tt.status {
			t.Errorf("key %q: status %d, want %d", tt.key, a.status, tt.status)
		}
	}
}

func TestHealthReport(t *testing.T) {
	_, srv := newServer(t, simulator.Options{})
	r := decode[struct {
		FullIP struct {
			Geo struct {
				Country string `json:"country"`
			} `json:"geo"`
		} `json:"fullip"`
	}](t, get(t, srv, "/v2.0/ip", simulator.DemoKey))
	if r.FullIP.Geo.Country == "" {
		t.Error("health report has no fullip.geo.country")
	}
}

// fixedScores are the fullip.score values of the hand-made reports, as raw
// JSON.
var fixedScores = map[string]string{
	"198.51.100.7":              "0",
	"192.0.2.44":                "-1",
	"198.51.100.23":             "-2",
	"203.0.113.66":              "-3",
	"2001:db8::5":               "0",
	simulator.IPPositiveScore:   "2",
	simulator.IPScoreMinus7:     "-7",
	simulator.IPEdgeLists:       "-2",
	simulator.IPQuirkyTypes:     `"-1"`,
	simulator.IPDuplicateLists:  "-3",
	simulator.IPSparse:          "-1",
	"2001:0DB8:0000:0000::0005": "0", // non-canonical spelling of 2001:db8::5
}

func TestKnownIPs(t *testing.T) {
	ips := simulator.KnownIPs()
	if !slices.IsSorted(ips) {
		t.Errorf("KnownIPs not sorted: %v", ips)
	}
	if len(ips) != len(fixedScores)-1 {
		t.Errorf("KnownIPs has %d addresses, want %d", len(ips), len(fixedScores)-1)
	}
	ips[0] = "mutated" // must not affect later calls
	if simulator.KnownIPs()[0] == "mutated" {
		t.Error("KnownIPs returns shared storage")
	}
	_, srv := newServer(t, simulator.Options{})
	for _, ip := range simulator.KnownIPs() {
		want, ok := fixedScores[ip]
		if !ok {
			t.Errorf("%s: no expected score in the test table", ip)
			continue
		}
		a := get(t, srv, "/v2.0/ip/"+ip, simulator.DemoKey)
		if a.status != 200 || a.ctype != appJSON {
			t.Errorf("%s: status %d %q", ip, a.status, a.ctype)
			continue
		}
		r := decode[struct {
			FullIP struct {
				Score json.RawMessage `json:"score"`
			} `json:"fullip"`
		}](t, a)
		if got := string(r.FullIP.Score); got != want {
			t.Errorf("%s: fullip.score %s, want %s", ip, got, want)
		}
	}
	a := get(t, srv, "/v2.0/ip/2001:0DB8:0000:0000::0005", simulator.DemoKey)
	b := get(t, srv, "/v2.0/ip/2001:db8::5", simulator.DemoKey)
	if !bytes.Equal(a.body, b.body) {
		t.Error("non-canonical IPv6 spelling does not serve the fixture")
	}
}

func TestEdgeCaseReports(t *testing.T) {
	_, srv := newServer(t, simulator.Options{})

	type part struct {
		Blacklists json.RawMessage `json:"blacklists"`
		Score      json.RawMessage `json:"score"`
	}
	type rep struct {
		FullIP struct {
			BadIP     part `json:"badip"`
			BadDomain *struct {
				Domain struct {
					Blacklist   json.RawMessage `json:"blacklist"`
					BlacklistMX json.RawMessage `json:"blacklist_mx"`
					BlacklistNS json.RawMessage `json:"blacklist_ns"`
				} `json:"domain"`
			} `json:"baddomain"`
			History *json.RawMessage `json:"history"`
		} `json:"fullip"`
	}
	fetch := func(ip string) rep {
		return decode[rep](t, get(t, srv, "/v2.0/ip/"+ip, simulator.DemoKey))
	}

	quirky := fetch(simulator.IPQuirkyTypes)
	if got := string(quirky.FullIP.BadIP.Blacklists); got != `"FAIL2BAN-SSH,NIXSPAM-IP"` {
		t.Errorf("quirky badip.blacklists = %s, want a comma string", got)
	}
	if got := string(quirky.FullIP.BadIP.Score); got != `"-1"` {
		t.Errorf("quirky badip.score = %s, want a string", got)
	}

	edge := fetch(simulator.IPEdgeLists)
	var lists []string
	if err := json.Unmarshal(edge.FullIP.BadIP.Blacklists, &lists); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lists, []string{"EXAMPLE-EDGE-LIST", simulator.RetiredListID}) {
		t.Errorf("edge lists = %v", lists)
	}
	edgeList := decode[map[string]string](t, get(t, srv, "/metadata/badip/lists/EXAMPLE-EDGE-LIST", ""))
	if edgeList["sensitivity"] != "3" || edgeList["tags"] != "" {
		t.Errorf("EXAMPLE-EDGE-LIST = %v", edgeList)
	}

	dup := fetch(simulator.IPDuplicateLists)
	var ipIDs, dom, mx, ns []string
	for raw, dst := range map[*json.RawMessage]*[]string{
		&dup.FullIP.BadIP.Blacklists:             &ipIDs,
		&dup.FullIP.BadDomain.Domain.Blacklist:   &dom,
		&dup.FullIP.BadDomain.Domain.BlacklistMX: &mx,
		&dup.FullIP.BadDomain.Domain.BlacklistNS: &ns,
	} {
		if err := json.Unmarshal(*raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	domainIDs := slices.Concat(dom, mx, ns)
	seen := map[string]int{}
	for _, id := range slices.Concat(ipIDs, domainIDs) {
		seen[id]++
	}
	dups := 0
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	if dups < 2 {
		t.Errorf("duplicate-lists report has %d repeated ids, want ≥ 2", dups)
	}
	for _, id := range ipIDs {
		if a := get(t, srv, "/metadata/badip/lists/"+id, ""); a.status != 200 {
			t.Errorf("badip %s: %d", id, a.status)
		}
	}
	for _, id := range domainIDs {
		if a := get(t, srv, "/metadata/baddomain/lists/"+id, ""); a.status != 200 {
			t.Errorf("baddomain %s: %d", id, a.status)
		}
	}

	sparse := fetch(simulator.IPSparse)
	if sparse.FullIP.BadDomain != nil || sparse.FullIP.History != nil {
		t.Error("sparse report has baddomain or history")
	}
}

func TestMetadataLists(t *testing.T) {
	_, srv := newServer(t, simulator.Options{})
	for _, typ := range []string{"badip", "baddomain"} {
		index := decode[map[string]map[string]string](t, get(t, srv, "/metadata/"+typ+"/lists", ""))
		if len(index) < 3 {
			t.Errorf("%s: %d lists", typ, len(index))
		}
		for id, want := range index {
			got := decode[map[string]string](t, get(t, srv, "/metadata/"+typ+"/lists/"+id, ""))
			if !maps.Equal(got, want) {
				t.Errorf("%s/%s: details differ from index entry", typ, id)
			}
			if got["type"] != typ {
				t.Errorf("%s/%s: type %q", typ, id, got["type"])
			}
		}
	}
	// The values used by the relay's mapping, from the shared fixtures.
	q := decode[map[string]string](t, get(t, srv, "/metadata/badip/lists/QUARANTINE-IP", ""))
	if q["visibility"] != "Private" || q["sensitivity"] != "1" {
		t.Errorf("QUARANTINE-IP = %v", q)
	}
	f := decode[map[string]string](t, get(t, srv, "/metadata/badip/lists/FAIL2BAN-SSH", ""))
	if f["name"] != "FAIL2BAN-SSH Blocklist.de" || f["refresh"] != "60  minutes" || f["count"] != "15872" {
		t.Errorf("FAIL2BAN-SSH = %v", f)
	}
}

func TestQuota(t *testing.T) {
	_, srv := newServer(t, simulator.Options{Quota: 3, Keys: []string{simulator.DemoKey, otherKey}})
	report := "/v2.0/ip/198.51.100.7"
	list := "/metadata/badip/lists/FAIL2BAN-SSH"

	for i := range 2 {
		if a := get(t, srv, report, simulator.DemoKey); a.status != 200 {
			t.Fatalf("request %d: status %d", i+1, a.status)
		}
	}
	// Metadata with an accepted key is charged too: the third request.
	if a := get(t, srv, list, simulator.DemoKey); a.status != 200 {
		t.Fatalf("metadata within quota: %d", a.status)
	}
	for _, path := range []string{report, "/v2.0/ip", list, "/unknown"} {
		a := get(t, srv, path, simulator.DemoKey)
		if a.status != 429 || string(a.body) != tooMany || a.ctype != textPlain {
			t.Errorf("%s over quota: %d %q %q", path, a.status, a.ctype, a.body)
		}
	}
	// The token query parameter carries the same key.
	if a := get(t, srv, report+"?token="+simulator.DemoKey, ""); a.status != 429 {
		t.Errorf("query key over quota: %d", a.status)
	}
	// Other keys have their own budget.
	if a := get(t, srv, report, otherKey); a.status != 200 {
		t.Errorf("other key: %d", a.status)
	}
	// Keyless, malformed or unknown keys are never charged.
	for range 5 {
		for _, key := range []string{"", "garbage", "123e4567-e89b-42d3-a456-426614174000"} {
			if a := get(t, srv, list, key); a.status != 200 {
				t.Errorf("metadata with key %q: %d", key, a.status)
			}
		}
		if a := get(t, srv, report, "123e4567-e89b-42d3-a456-426614174000"); a.status != 401 {
			t.Errorf("unknown key: %d", a.status)
		}
	}
}

func TestQuotaConcurrent(t *testing.T) {
	const quota, workers = 25, 200
	_, srv := newServer(t, simulator.Options{Quota: quota})
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	for i := range workers {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v2.0/ip/10.0.%d.%d", srv.URL, i/256, i%256), nil)
			req.Header.Set("X-Auth-Token", simulator.DemoKey)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[200] != quota || statuses[429] != workers-quota {
		t.Errorf("statuses %v, want %d×200 and %d×429", statuses, quota, workers-quota)
	}
}

func TestCountersAndReset(t *testing.T) {
	sim, srv := newServer(t, simulator.Options{})
	get(t, srv, "/v2.0/ip/198.51.100.7", simulator.DemoKey)
	get(t, srv, "/v2.0/ip/198.51.100.7?items=5", "")
	get(t, srv, "/metadata/badip/lists/FAIL2BAN-SSH", "")
	do(t, srv, http.MethodPost, "/nowhere", "")

	if got := sim.Requests(); got != 4 {
		t.Errorf("Requests = %d, want 4", got)
	}
	for path, want := range map[string]int64{
		"/v2.0/ip/198.51.100.7":              2,
		"/metadata/badip/lists/FAIL2BAN-SSH": 1,
		"/nowhere":                           1,
		"/v2.0/ip":                           0,
	} {
		if got := sim.RequestsFor(path); got != want {
			t.Errorf("RequestsFor(%q) = %d, want %d", path, got, want)
		}
	}
	if sim.InFlight() != 0 || sim.MaxInFlight() < 1 {
		t.Errorf("InFlight %d MaxInFlight %d", sim.InFlight(), sim.MaxInFlight())
	}
	sim.Reset()
	if sim.Requests() != 0 || sim.RequestsFor("/v2.0/ip/198.51.100.7") != 0 || sim.MaxInFlight() != 0 {
		t.Errorf("after Reset: Requests %d, RequestsFor %d, MaxInFlight %d",
			sim.Requests(), sim.RequestsFor("/v2.0/ip/198.51.100.7"), sim.MaxInFlight())
	}
}

// TestMaxInFlight holds n requests in the latency wait, checks the gauges,
// then releases them by cancelling their contexts.
func TestMaxInFlight(t *testing.T) {
	const n = 150
	sim := simtest.New(simulator.Options{Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("/v2.0/ip/10.1.0.%d", i%256), nil)
			sim.ServeHTTP(httptest.NewRecorder(), req)
		})
	}
	testsupport.WaitFor(t, "all requests in flight", func() bool { return sim.InFlight() == n })
	if got := sim.MaxInFlight(); got != n {
		t.Errorf("MaxInFlight = %d, want %d", got, n)
	}
	cancel()
	wg.Wait()
	if sim.InFlight() != 0 || sim.MaxInFlight() != n || sim.Requests() != n {
		t.Errorf("after release: InFlight %d MaxInFlight %d Requests %d", sim.InFlight(), sim.MaxInFlight(), sim.Requests())
	}
}

func TestConcurrentHammer(t *testing.T) {
	const workers, perWorker = 200, 10
	sim, srv := newServer(t, simulator.Options{Latency: time.Millisecond})
	paths := []string{
		"/v2.0/ip/198.51.100.23",
		"/v2.0/ip",
		"/metadata/badip/lists/FAIL2BAN-SSH",
		"/metadata/baddomain/lists",
		"/v2.0/ip/" + simulator.IPServerError,
		"/nowhere",
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				path := paths[(w+i)%len(paths)]
				if (w+i)%7 == 0 {
					path = fmt.Sprintf("/v2.0/ip/10.2.%d.%d", w, i)
				}
				req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
				req.Header.Set("X-Auth-Token", simulator.DemoKey)
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 0 {
					t.Error("no status")
				}
			}
		})
	}
	// Readers and writers of the shared state, concurrently with the traffic.
	stop := make(chan struct{})
	var side sync.WaitGroup
	side.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = sim.Requests() + sim.RequestsFor(paths[0]) + sim.InFlight() + sim.MaxInFlight()
			sim.SetLatency(time.Duration(sim.Requests()%2) * time.Millisecond)
			time.Sleep(100 * time.Microsecond)
		}
	})
	wg.Wait()
	close(stop)
	side.Wait()

	if got := sim.Requests(); got != workers*perWorker {
		t.Errorf("Requests = %d, want %d", got, workers*perWorker)
	}
	var sum int64
	for _, p := range paths {
		sum += sim.RequestsFor(p)
	}
	if sum >= workers*perWorker || sum == 0 {
		t.Errorf("fixed paths counted %d of %d", sum, workers*perWorker)
	}
	if sim.InFlight() != 0 {
		t.Errorf("InFlight = %d after all requests", sim.InFlight())
	}
	if m := sim.MaxInFlight(); m < 1 || m > workers {
		t.Errorf("MaxInFlight = %d", m)
	}

	// Reset while traffic runs must not race or go negative.
	var resetWG sync.WaitGroup
	for i := range 50 {
		resetWG.Go(func() {
			if i%10 == 0 {
				sim.Reset()
			}
			get(t, srv, "/v2.0/ip", simulator.DemoKey)
		})
	}
	resetWG.Wait()
	if sim.InFlight() != 0 || sim.Requests() < 0 || sim.Requests() > 50 {
		t.Errorf("after concurrent Reset: InFlight %d Requests %d", sim.InFlight(), sim.Requests())
	}
}

func TestLatency(t *testing.T) {
	const latency = 30 * time.Millisecond
	_, srv := newServer(t, simulator.Options{Latency: latency})
	start := time.Now()
	if a := get(t, srv, "/metadata/badip/lists", ""); a.status != http.StatusOK {
		t.Errorf("status %d", a.status)
	}
	if d := time.Since(start); d < latency {
		t.Errorf("answer after %v, want at least %v", d, latency)
	}
}

func TestLatencyCancellation(t *testing.T) {
	sim, srv := newServer(t, simulator.Options{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v2.0/ip/198.51.100.7", nil)
	req.Header.Set("X-Auth-Token", simulator.DemoKey)
	start := time.Now()
	resp, err := srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("request answered despite an hour of latency")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("client waited %v", d)
	}
	// The handler must notice the cancellation and stop waiting.
	testsupport.WaitFor(t, "handler to stop after cancellation", func() bool { return sim.InFlight() == 0 })

	// Directly, with an already cancelled context.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		sim.ServeHTTP(rec, httptest.NewRequestWithContext(cctx, http.MethodGet, "/v2.0/ip", nil))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ServeHTTP kept waiting after cancellation")
	}
}
