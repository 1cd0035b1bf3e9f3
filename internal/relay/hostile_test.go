package relay_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// invalidEnvelope is the answer of the observe and deliberate routes to a
// body they cannot read.
func invalidEnvelope(detail string) string {
	b, _ := json.Marshal(map[string]any{
		"data": map[string]any{},
		"errors": []map[string]string{{
			"type": "fatal", "code": relay.CodeInvalidArgument,
			"message": "Invalid JSON payload received. " + detail,
		}},
	})
	return string(b)
}

// verdictDoc is the verdict the test relay answers for ip with disposition
// number and name.
func verdictDoc(typ, value string, disposition int, name string) map[string]any {
	return map[string]any{
		"type": "verdict", "disposition": disposition, "disposition_name": name,
		"observable": map[string]any{"type": typ, "value": value},
		"valid_time": map[string]any{"start_time": "2026-11-26T12:00:00.000Z", "end_time": "2026-12-03T12:00:00.000Z"},
	}
}

// checkEnvelope compares a wire answer with the expected envelope as JSON
// values.
func checkEnvelope(t *testing.T, got []byte, want string) {
	t.Helper()
	var gotV, wantV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatalf("answer is not JSON: %v\n%.300s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &wantV); err != nil {
		t.Fatalf("bad expectation %s: %v", want, err)
	}
	if !reflect.DeepEqual(gotV, wantV) {
		t.Errorf("answer = %.2000s\nwant     %s", got, want)
	}
}

// discardLogger is a logger for tests that do not read the log.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// repeat returns n copies of item, comma-separated, in a JSON array.
func repeat(item string, n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
}

// TestHostileBodies sends bodies an attacker or a broken client might send
// and checks the exact envelope of each, and that none of them costs an
// upstream call.
func TestHostileBodies(t *testing.T) {
	t.Parallel()
	const valid = `{"type":"ip","value":"198.51.100.7"}`
	long := strings.Repeat("1", 1025)
	cases := []struct {
		name string
		body string
		want string
	}{
		// Not an array of observables at all.
		{"empty", ``, invalidEnvelope("The request body is empty; expected a JSON array of observables.")},
		{"whitespace only", " \r\n\t ", invalidEnvelope("The request body is empty; expected a JSON array of observables.")},
		{"null", `null`, invalidEnvelope("Expected a JSON array of observables, got null.")},
		{"object", `{"type":"ip","value":"198.51.100.7"}`, invalidEnvelope("Expected a JSON array of observables, got an object.")},
		{"string", `"198.51.100.7"`, invalidEnvelope("Expected a JSON array of observables, got a string.")},
		{"number", `1e999999`, invalidEnvelope("Expected a JSON array of observables, got a number.")},
		{"boolean", `true`, invalidEnvelope("Expected a JSON array of observables, got a boolean.")},
		{"truncated", `[{"type":"ip","value":"198.51.100.7"`, invalidEnvelope("The request body is not valid JSON.")},
		{"trailing comma", `[` + valid + `,]`, invalidEnvelope("The request body is not valid JSON.")},
		{"two values", `[] []`, invalidEnvelope("The request body holds more than one JSON value.")},
		{"trailing garbage", `[]x`, invalidEnvelope("The request body holds more than one JSON value.")},
		{"single quotes", `[{'type':'ip','value':'198.51.100.7'}]`, invalidEnvelope("The request body is not valid JSON.")},

		// Size. Only the body's size is limited: the number of observables
		// is not (see TestLargeRequestsAreAnswered), and reading stops at the
		// first wrong element.
		{"body over the cap", "[" + strings.Repeat(" ", int(defaults.MaxBodyBytes)) + "]",
			invalidEnvelope("The request body is larger than 1048576 bytes.")},
		{"100,000 observables", repeat(valid, 100_000), invalidEnvelope("The request body is larger than 1048576 bytes.")},
		{"100,000 empty objects", repeat(`{}`, 100_000),
			invalidEnvelope(`Observable 0: field "type" is missing.`)},
		{"1 MiB of numbers", repeat(`1`, int(defaults.MaxBodyBytes)/2-1),
			invalidEnvelope(`Observable 0: expected an object with "type" and "value", got a number.`)},
		{"wrong element before invalid JSON", `[` + valid + `,5,{`,
			invalidEnvelope(`Observable 1: expected an object with "type" and "value", got a number.`)},

		// Nesting.
		{"33 nested arrays", strings.Repeat("[", 33) + strings.Repeat("]", 33),
			invalidEnvelope("The request body nests deeper than 32 levels.")},
		{"32 nested arrays", strings.Repeat("[", 32) + strings.Repeat("]", 32),
			invalidEnvelope(`Observable 0: expected an object with "type" and "value", got an array.`)},
		{"500,000 open brackets", strings.Repeat("[", 500_000),
			invalidEnvelope("The request body nests deeper than 32 levels.")},
		{"deep object in a value", `[{"type":"ip","value":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}]`,
			invalidEnvelope("The request body nests deeper than 32 levels.")},

		// Encoding.
		{"invalid UTF-8", "[{\"type\":\"ip\",\"value\":\"198.51.100.7\xff\"}]", invalidEnvelope("The request body is not valid UTF-8.")},
		{"overlong UTF-8 slash", "[{\"type\":\"ip\",\"value\":\"..\xc0\xaf..\"}]", invalidEnvelope("The request body is not valid UTF-8.")},
		{"UTF-8 encoded surrogate", "[{\"type\":\"ip\",\"value\":\"\xed\xa0\x80\"}]", invalidEnvelope("The request body is not valid UTF-8.")},
		{"byte order mark", "\xef\xbb\xbf[]", invalidEnvelope("The request body is not valid JSON.")},
		{"raw NUL in a string", "[{\"type\":\"ip\",\"value\":\"198.51.100.7\x00\"}]", invalidEnvelope("The request body is not valid JSON.")},
		{"raw NUL after the array", "[]\x00", invalidEnvelope("The request body holds more than one JSON value.")},
		{"escaped NUL in value", `[{"type":"ip","value":"198.51.100.7\u0000"}]`,
			invalidEnvelope(`Observable 0: field "value" contains a NUL character.`)},
		{"escaped NUL in type", `[{"type":"ip\u0000","value":"198.51.100.7"}]`,
			invalidEnvelope(`Observable 0: field "type" contains a NUL character.`)},

		// Long values.
		{"value of 1025 bytes", obsJSON("ip", long), invalidEnvelope(`Observable 0: field "value" is longer than 1024 bytes.`)},
		{"type of 1025 bytes", obsJSON(long, "198.51.100.7"), invalidEnvelope(`Observable 0: field "type" is longer than 1024 bytes.`)},
		{"value of 1,000,000 bytes", obsJSON("ip", strings.Repeat("9", 1_000_000)),
			invalidEnvelope(`Observable 0: field "value" is longer than 1024 bytes.`)},

		// Wrong JSON types inside the array.
		{"element null", `[null]`, invalidEnvelope(`Observable 0: expected an object with "type" and "value", got null.`)},
		{"element string", `["198.51.100.7"]`, invalidEnvelope(`Observable 0: expected an object with "type" and "value", got a string.`)},
		{"element number", `[` + valid + `,5]`, invalidEnvelope(`Observable 1: expected an object with "type" and "value", got a number.`)},
		{"element array", `[[` + valid + `]]`, invalidEnvelope(`Observable 0: expected an object with "type" and "value", got an array.`)},
		{"value null", `[{"type":"ip","value":null}]`, invalidEnvelope(`Observable 0: field "value" must be a string, got null.`)},
		{"value number", `[{"type":"ip","value":3325256711}]`, invalidEnvelope(`Observable 0: field "value" must be a string, got a number.`)},
		{"value array", `[{"type":"ip","value":["198.51.100.7"]}]`, invalidEnvelope(`Observable 0: field "value" must be a string, got an array.`)},
		{"value object", `[{"type":"ip","value":{"ip":"198.51.100.7"}}]`, invalidEnvelope(`Observable 0: field "value" must be a string, got an object.`)},
		{"value boolean", `[{"type":"ip","value":true}]`, invalidEnvelope(`Observable 0: field "value" must be a string, got a boolean.`)},
		{"type number", `[{"type":4,"value":"198.51.100.7"}]`, invalidEnvelope(`Observable 0: field "type" must be a string, got a number.`)},
		{"type missing", `[{"value":"198.51.100.7"}]`, invalidEnvelope(`Observable 0: field "type" is missing.`)},
		{"field name in another case", `[{"Type":"ip","value":"198.51.100.7"}]`, invalidEnvelope(`Observable 0: field "type" is missing.`)},
		{"unknown field", `[{"type":"ip","value":"198.51.100.7","__proto__":{}}]`, invalidEnvelope(`Observable 0: unknown field "__proto__".`)},
		{"blank value", `[{"type":"ip","value":"\t\n "}]`, invalidEnvelope(`Observable 0: field "value" must not be blank.`)},

		// Duplicate keys are rejected: a filter in front of the relay and the
		// relay itself must never read different values from one body.
		{"duplicate value", `[{"type":"ip","value":"198.51.100.7","value":"192.0.2.44"}]`,
			invalidEnvelope(`Observable 0: field "value" appears more than once.`)},
		{"duplicate type", `[{"type":"domain","value":"198.51.100.7","type":"ip"}]`,
			invalidEnvelope(`Observable 0: field "type" appears more than once.`)},
		{"duplicate through an escape", `[{"type":"ip","value":"198.51.100.7","v\u0061lue":"192.0.2.44"}]`,
			invalidEnvelope(`Observable 0: field "value" appears more than once.`)},
		{"duplicate unknown field", `[{"type":"ip","value":"198.51.100.7","x":1,"x":2}]`,
			invalidEnvelope(`Observable 0: field "x" appears more than once.`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{secret: testSecret})
			status, body := e.do(t, http.MethodPost, "/observe/observables", bearer(t, simulator.DemoKey), tc.body)
			if status != http.StatusOK {
				t.Fatalf("status = %d, want 200", status)
			}
			checkEnvelope(t, body, tc.want)
			if n := e.sim.Requests(); n != 0 {
				t.Errorf("upstream requests = %d, want 0", n)
			}
		})
	}
}

// hostileValues are observable values that are not an address of their type
// and must therefore be ignored without any upstream call: zones, ports,
// leading zeros, other spellings of addresses, header injection and path
// traversal attempts.
var hostileValues = []struct{ typ, value string }{
	{"ipv6", "fe80::1%eth0"},
	{"ipv6", "fe80::1%25eth0"},
	{"ip", "192.0.2.44%eth0"},
	{"ip", "192.0.2.44:443"},
	{"ipv6", "[2001:db8::5]:443"},
	{"ipv6", "[2001:db8::5]"},
	{"ip", "192.0.2.044"},
	{"ip", "0192.0.2.44"},
	{"ip", "00.0.0.0"},
	{"ip", "0x7f.0.0.1"},
	{"ip", "127.1"},
	{"ip", "3221226028"},
	{"ip", "192.0.2.44/32"},
	{"ip", "192.0.2. 44"},
	{"ip", "１９２.０.２.４４"},
	{"ipv6", "192.0.2.44"},
	{"ip", "2001:db8::5"},
	{"ip", "192.0.2.44\r\nX-Injected: 1"},
	{"ip", "192.0.2.44\nHost: evil.example"},
	{"ip", "192.0.2.44%0d%0aX-Injected:%201"},
	{"ip", "../../metadata/badip/lists/X"},
	{"ip", "192.0.2.44/../../metadata/badip/lists/X"},
	{"ip", "192.0.2.44%2F..%2F..%2Fmetadata"},
	{"ip", ".."},
	{"ip", "."},
	{"ip", "/"},
	{"ip", `..\..\x`},
	{"ip", "192.0.2.44?token=x"},
	{"ip", "192.0.2.44#x"},
	{"ip", "http://evil.example/"},
	{"ip", "//evil.example/x"},
	{"ip", "@evil.example"},
	{"ipv6", "2001:db8::5/../../x"},
	{"domain", "evil.example"},
	{"url", "https://evil.example/"},
}

// TestHostileValuesIgnored sends each hostile value alone to every route
// that reads observables: each is ignored (the contract's answer to an
// unsupported observable) and never reaches Auth0 Signals.
func TestHostileValuesIgnored(t *testing.T) {
	t.Parallel()
	routes := []struct{ path, want string }{
		{"/deliberate/observables", `{"data":{}}`},
		{"/observe/observables", `{"data":{}}`},
		{"/refer/observables", `{"data":[]}`},
		{"/respond/observables", `{"data":[]}`},
	}
	for _, v := range hostileValues {
		t.Run(fmt.Sprintf("%s %q", v.typ, v.value), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{secret: testSecret})
			for _, r := range routes {
				status, body := e.do(t, http.MethodPost, r.path, bearer(t, simulator.DemoKey), obsJSON(v.typ, v.value))
				if status != http.StatusOK {
					t.Fatalf("%s: status = %d, want 200", r.path, status)
				}
				checkEnvelope(t, body, r.want)
			}
			if n := e.sim.Requests(); n != 0 {
				t.Errorf("upstream requests = %d, want 0", n)
			}
		})
	}
}

// TestHostileValuesBesideValidOne checks that hostile values next to a valid
// address change nothing about its answer: one upstream call, one verdict.
func TestHostileValuesBesideValidOne(t *testing.T) {
	t.Parallel()
	pairs := []string{"ip", "198.51.100.7"}
	for _, v := range hostileValues {
		pairs = append(pairs, v.typ, v.value)
	}
	e := newEnv(t, envOptions{secret: testSecret})
	status, body := e.do(t, http.MethodPost, "/deliberate/observables", bearer(t, simulator.DemoKey), obsJSON(pairs...))
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200", status)
	}
	want, _ := json.Marshal(map[string]any{"data": map[string]any{"verdicts": map[string]any{
		"count": 1, "docs": []any{verdictDoc("ip", "198.51.100.7", 5, "Unknown")},
	}}})
	checkEnvelope(t, body, string(want))
	if got := e.sim.Requests(); got != 1 {
		t.Errorf("upstream requests = %d, want 1", got)
	}
	if got := e.sim.RequestsFor("/v2.0/ip/198.51.100.7"); got != 1 {
		t.Errorf("requests for the valid address = %d, want 1", got)
	}
}

// TestReferLinksStayOnAuth0 checks that every refer link, whatever the
// request held, points at one page under https://auth0.com/signals/ip/.
func TestReferLinksStayOnAuth0(t *testing.T) {
	t.Parallel()
	pairs := []string{"ip", "198.51.100.7", "ipv6", "2001:db8::5", "ipv6", "2001:0db8:0000::0005", "ip", " 192.0.2.44\r\n",
		"ipv6", "::", "ipv6", "ff02::1", "IP", "0.0.0.0", "ip", "::ffff:192.0.2.44", "ipv6", "::ffff:192.0.2.44"} // the last two: one link
	for _, v := range hostileValues {
		pairs = append(pairs, v.typ, v.value)
	}
	e := newEnv(t, envOptions{secret: testSecret})
	status, body := e.do(t, http.MethodPost, "/refer/observables", bearer(t, simulator.DemoKey), obsJSON(pairs...))
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200", status)
	}
	var got struct {
		Data []struct{ ID, URL string }
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	// Each observable's id names its value as sent; its page is the
	// address looked up (canonical, trimmed, IPv4-mapped as IPv4).
	wantValues := []string{"198.51.100.7", "2001:db8::5", "2001:0db8:0000::0005", " 192.0.2.44\r\n", "::", "ff02::1", "0.0.0.0",
		"::ffff:192.0.2.44"}
	wantPages := []string{"198.51.100.7", "2001:db8::5", "2001:db8::5", "192.0.2.44", "::", "ff02::1", "0.0.0.0",
		"192.0.2.44"}
	if len(got.Data) != len(wantValues) {
		t.Fatalf("refer links = %d, want %d: %s", len(got.Data), len(wantValues), body)
	}
	for i, link := range got.Data {
		u, err := url.Parse(link.URL)
		if err != nil {
			t.Errorf("link %d: URL %q does not parse: %v", i, link.URL, err)
			continue
		}
		page, ok := strings.CutPrefix(u.EscapedPath(), "/signals/ip/")
		if u.Scheme != "https" || u.Host != "auth0.com" || !ok || strings.Contains(page, "/") ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			t.Errorf("link %d: URL %q leaves https://auth0.com/signals/ip/", i, link.URL)
		}
		if want := wantPages[i] + "-report"; u.Path != "/signals/ip/"+want {
			t.Errorf("link %d: URL %q, want the page %q", i, link.URL, want)
		}
		if want := "ref-auth0-signals-search-ip-" + wantValues[i]; link.ID != want {
			t.Errorf("link %d: id %q, want %q", i, link.ID, want)
		}
	}
	if n := e.sim.Requests(); n != 0 {
		t.Errorf("upstream requests = %d, want 0 (refer makes no upstream call)", n)
	}
}

// pathRecorder is an Auth0 Signals stand-in mounted under /api that records
// how each request's path arrived, and answers every report with hostile
// list ids.
type pathRecorder struct {
	mu       sync.Mutex
	requests []recordedRequest
}

type recordedRequest struct {
	escaped, path, rawQuery string
	header                  http.Header
}

// hostileListIDs are list ids an upstream (or whoever can answer in its
// name) might name in a report, hoping the relay calls another endpoint.
var hostileListIDs = []string{
	"../../v2.0/ip/192.0.2.99",
	"..",
	".",
	"a/b",
	"/abs",
	"x?token=leak",
	"x#frag",
	"%2e%2e",
	"%2F..%2F",
	"x\r\nX-Injected: 1",
	"x y",
	"x;y",
	"@evil.example",
	"//evil.example/x",
	"http://evil.example/",
	`..\..\x`,
	"ÿ",
	"LEGIT-LIST",
}

func (p *pathRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests = append(p.requests, recordedRequest{escaped: r.URL.EscapedPath(), path: r.URL.Path, rawQuery: r.URL.RawQuery, header: r.Header.Clone()})
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if strings.HasPrefix(r.URL.Path, "/api/v2.0/ip/") {
		lists, _ := json.Marshal(hostileListIDs)
		fmt.Fprintf(w, `{"fullip":{"score":-1,"badip":{"score":-1,"blacklists":%s}}}`, lists)
		return
	}
	fmt.Fprint(w, `{"name":"n","source":"s","site":"https://example.org/","description":"d","tags":"t","sensitivity":"5","visibility":"Public"}`)
}

// TestUpstreamPathsCannotBeSteered proves that nothing in a request or in an
// upstream answer can make the relay call another upstream path: every
// request arrives at /api/v2.0/ip/<address> or at
// /api/metadata/badip/lists/<one escaped segment>, without query, and
// carries no injected header.
func TestUpstreamPathsCannotBeSteered(t *testing.T) {
	t.Parallel()
	rec := &pathRecorder{}
	upstream := httptest.NewServer(rec)
	t.Cleanup(upstream.Close)
	h := setup(t, stack{url: upstream.URL + "/api"})
	pairs := []string{"ip", "198.51.100.7", "ipv6", "2001:0db8::0005"}
	for _, v := range hostileValues {
		pairs = append(pairs, v.typ, v.value)
	}
	r := httptest.NewRequest(http.MethodPost, "/observe/observables", strings.NewReader(obsJSON(pairs...)))
	r.Header.Set("Authorization", bearer(t, simulator.DemoKey))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	var env struct {
		Data struct {
			Sightings struct{ Count int }
		}
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		t.Fatal(err)
	}

	// Every id but "." and ".." can be looked up as one path segment.
	var wantIDs []string
	for _, id := range hostileListIDs {
		if id != "." && id != ".." {
			wantIDs = append(wantIDs, id)
		}
	}
	if got, want := env.Data.Sightings.Count, 2*len(wantIDs); got != want || len(env.Errors) != 0 {
		t.Errorf("sightings = %d, errors = %d; want %d and none:\n%s", got, len(env.Errors), want, w.Body)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	var reports, lists []string
	for _, req := range rec.requests {
		if req.rawQuery != "" {
			t.Errorf("request %q carries a query %q", req.escaped, req.rawQuery)
		}
		if v := req.header.Get("X-Injected"); v != "" {
			t.Errorf("request %q carries an injected header", req.escaped)
		}
		if ip, ok := strings.CutPrefix(req.escaped, "/api/v2.0/ip/"); ok && !strings.Contains(ip, "/") {
			reports = append(reports, req.path)
			continue
		}
		seg, ok := strings.CutPrefix(req.escaped, "/api/metadata/badip/lists/")
		if !ok || strings.Contains(seg, "/") {
			t.Errorf("request reached another path: escaped %q (decoded %q)", req.escaped, req.path)
			continue
		}
		id, err := url.PathUnescape(seg)
		if err != nil || id != strings.TrimPrefix(req.path, "/api/metadata/badip/lists/") {
			t.Errorf("segment %q does not decode to the requested path %q", seg, req.path)
		}
		lists = append(lists, id)
	}
	slices.Sort(reports)
	if want := []string{"/api/v2.0/ip/198.51.100.7", "/api/v2.0/ip/2001:db8::5"}; !slices.Equal(reports, want) {
		t.Errorf("report requests = %q, want %q", reports, want)
	}
	slices.Sort(lists)
	slices.Sort(wantIDs)
	if !slices.Equal(lists, wantIDs) {
		t.Errorf("list requests = %q\nwant %q", lists, wantIDs)
	}
}

// TestHostileAPIKeyInToken signs tokens whose API key could not be an HTTP
// header value (a line break to inject a header, a NUL): the lookup fails
// before anything is sent upstream, and the answer does not quote the key.
func TestHostileAPIKeyInToken(t *testing.T) {
	t.Parallel()
	for _, key := range []string{
		simulator.DemoKey + "\r\nX-Injected: 1",
		simulator.DemoKey + "\nX-Injected: 1",
		simulator.DemoKey + "\x00",
	} {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{secret: testSecret})
			authz := "Bearer " + token(t, map[string]any{"key": key}, testSecret)
			status, body := e.do(t, http.MethodPost, "/deliberate/observables", authz, obsJSON("ip", "198.51.100.7"))
			if status != http.StatusOK {
				t.Fatalf("status = %d, want 200", status)
			}
			checkEnvelope(t, body, `{"data":{},"errors":[{"type":"fatal","code":"authorization error","message":`+
				`"Authorization failed: The API key contains characters that cannot be sent to Auth0 Signals."}]}`)
			if n := e.sim.Requests(); n != 0 {
				t.Errorf("upstream requests = %d, want 0", n)
			}
			if strings.Contains(string(body), simulator.DemoKey) || strings.Contains(e.logs.String(), simulator.DemoKey) {
				t.Errorf("the key reached the answer or the log")
			}
		})
	}
}
