package relay_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// hangGuard bounds every wait of these tests' fakes; reaching it means
// something hung, and no test depends on how fast anything is.
const hangGuard = 10 * time.Second

// pathCounter counts the upstream requests by URL path and answers the
// paths of override itself (a key ending in "/" stands for every path under
// it).
type pathCounter struct {
	next     http.Handler
	override map[string]http.HandlerFunc

	mu    sync.Mutex
	paths map[string]int
	total int
}

func countingUpstream(c **pathCounter, override map[string]http.HandlerFunc) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		*c = &pathCounter{next: next, override: override, paths: map[string]int{}}
		return *c
	}
}

func (c *pathCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.paths[r.URL.Path]++
	c.total++
	c.mu.Unlock()
	for p, h := range c.override {
		if p == r.URL.Path || strings.HasSuffix(p, "/") && strings.HasPrefix(r.URL.Path, p) {
			h(w, r)
			return
		}
	}
	c.next.ServeHTTP(w, r)
}

// of returns the requests for path; with a path ending in "/", the requests
// of every path under it.
func (c *pathCounter) of(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !strings.HasSuffix(path, "/") {
		return c.paths[path]
	}
	n := 0
	for p, k := range c.paths {
		if strings.HasPrefix(p, path) {
			n += k
		}
	}
	return n
}

func (c *pathCounter) all() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// answerText answers status with the given body, as the upstream does.
func answerText(status int, text string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(text))
	}
}

// wireEnvelope is an answer's envelope, its data left undecoded.
type wireEnvelope struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Type, Code, Message string
	} `json:"errors"`
}

func decodeEnvelope(t *testing.T, b []byte) wireEnvelope {
	t.Helper()
	var env wireEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("answer is not an envelope: %v\n%.500s", err, b)
	}
	return env
}

// verdictValues returns the observable values of an answer's verdicts.
func verdictValues(t *testing.T, data json.RawMessage) []string {
	t.Helper()
	var bundle struct {
		Verdicts struct {
			Docs []struct {
				Observable struct{ Type, Value string } `json:"observable"`
			} `json:"docs"`
		} `json:"verdicts"`
	}
	if err := json.Unmarshal(data, &bundle); err != nil {
		t.Fatalf("data is not a bundle: %v", err)
	}
	var out []string
	for _, d := range bundle.Verdicts.Docs {
		out = append(out, d.Observable.Value)
	}
	return out
}

// distinctIPs returns a JSON body of n distinct addresses 10.x.y.z.
func distinctIPs(n int) (body string, values []string) {
	var pairs []string
	for i := range n {
		v := fmt.Sprintf("10.%d.%d.%d", i/62500, i/250%250, i%250+1)
		values = append(values, v)
		pairs = append(pairs, "ip", v)
	}
	return obsJSON(pairs...), values
}

// TestLargeRequestsAreAnswered checks that the number of observables never
// refuses a request: unsupported types and duplicates cost nothing, refer
// answers every supported observable, and observe and deliberate look up the
// first MAX_OBSERVABLES distinct addresses and warn about the rest.
func TestLargeRequestsAreAnswered(t *testing.T) {
	t.Parallel()
	schema := loadSchemas(t)
	t.Run("5,000 unsupported observables", func(t *testing.T) {
		t.Parallel()
		var c *pathCounter
		e := newEnv(t, envOptions{secret: testSecret, wrap: countingUpstream(&c, nil)})
		for _, typ := range []string{"domain", "sha256"} {
			body := repeat(fmt.Sprintf(`{"type":%q,"value":"abc"}`, typ), 2500) // 2,500 duplicates
			body = strings.TrimSuffix(body, "]") + "," + strings.TrimPrefix(func() string {
				var items []string
				for i := range 2500 {
					items = append(items, fmt.Sprintf(`{"type":%q,"value":"v%d.example"}`, typ, i))
				}
				return "[" + strings.Join(items, ",") + "]"
			}(), "[")
			for path, want := range map[string]string{
				"/observe/observables":    `{"data":{}}`,
				"/deliberate/observables": `{"data":{}}`,
				"/refer/observables":      `{"data":[]}`,
			} {
				status, b := e.do(t, http.MethodPost, path, bearer(t, simulator.DemoKey), body)
				if status != http.StatusOK {
					t.Fatalf("%s %s: status %d", typ, path, status)
				}
				checkEnvelope(t, b, want)
			}
		}
		if n := c.all(); n != 0 {
			t.Errorf("upstream requests = %d, want 0", n)
		}
	})
	t.Run("over the default cap", func(t *testing.T) {
		t.Parallel()
		var c *pathCounter
		e := newEnv(t, envOptions{secret: testSecret, wrap: countingUpstream(&c, nil)})
		body, values := distinctIPs(defaults.MaxObservables + 1)
		status, b := e.do(t, http.MethodPost, "/deliberate/observables", bearer(t, simulator.DemoKey), body)
		if status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
		env := decodeEnvelope(t, b)
		got := verdictValues(t, env.Data)
		if len(got) != defaults.MaxObservables || got[0] != values[0] || got[len(got)-1] != values[len(values)-2] {
			t.Errorf("%d verdicts (%v … %v), want the first %d addresses", len(got), got[:1], got[len(got)-1:], defaults.MaxObservables)
		}
		want := fmt.Sprintf("Only the first %d addresses of a request are looked up in Auth0 Signals; "+
			"the answer is partial: 1 of %d observables were not looked up.", defaults.MaxObservables, len(values))
		if len(env.Errors) != 1 || env.Errors[0].Type != "warning" || env.Errors[0].Code != relay.CodeTooManyObservables ||
			env.Errors[0].Message != want {
			t.Errorf("errors = %+v, want one warning %q", env.Errors, want)
		}
		if n := c.of("/v2.0/ip/"); n != defaults.MaxObservables {
			t.Errorf("report requests = %d, want %d", n, defaults.MaxObservables)
		}
		validate(t, schema("DeliberateResponse"), b)

		status, b = e.do(t, http.MethodPost, "/refer/observables", bearer(t, simulator.DemoKey), body)
		var links []map[string]any
		env = decodeEnvelope(t, b)
		if err := json.Unmarshal(env.Data, &links); status != http.StatusOK || err != nil || len(links) != defaults.MaxObservables {
			t.Errorf("refer: status %d, %d links (%v), want %d", status, len(links), err, defaults.MaxObservables)
		}
		if len(env.Errors) != 1 || env.Errors[0].Code != relay.CodeTooManyObservables || env.Errors[0].Type != "warning" {
			t.Errorf("refer: errors = %+v, want the too-many-observables warning", env.Errors)
		}
		validate(t, schema("ReferResponse"), b)
	})
}

// TestQuotaKeepsAnsweredReports checks that a 429 never drops a report or a
// list's details that the upstream answered, whether the other answers
// arrive before or after the 429: only calls not yet started are cancelled.
func TestQuotaKeepsAnsweredReports(t *testing.T) {
	t.Parallel()
	schema := loadSchemas(t)
	for _, tc := range []struct {
		name   string
		path   string // the observe or deliberate route
		body   string
		prefix string // the upstream requests raced
		n      int    // how many of them the request makes at once
		quota  string // the one answered 429
		want   map[string]int
	}{
		{
			name: "reports", path: "/deliberate/observables",
			body:   obsJSON("ip", "10.1.0.1", "ip", "10.1.0.2", "ip", "10.1.0.3", "ip", "10.1.0.4"),
			prefix: "/v2.0/ip/", n: 4, quota: "/v2.0/ip/10.1.0.3",
			want: map[string]int{"verdicts": 3},
		},
		{
			name: "list details", path: "/observe/observables",
			body:   obsJSON("ip", "203.0.113.66"), // on five lists
			prefix: "/metadata/", n: 5, quota: "/metadata/badip/lists/UCEPROTECT-LEVEL1",
			want: map[string]int{"verdicts": 1, "judgements": 3, "sightings": 4, "indicators": 4, "relationships": 4},
		},
	} {
		for _, after := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/others answer after the 429=%t", tc.name, after), func(t *testing.T) {
				t.Parallel()
				race := &quotaRace{prefix: tc.prefix, n: tc.n, quota: tc.quota, after: after,
					all: make(chan struct{}), sent: make(chan struct{})}
				race.othersDone.Add(tc.n - 1)
				e := newEnv(t, envOptions{secret: testSecret, wrap: func(next http.Handler) http.Handler {
					race.next = next
					return race
				}})
				status, b := e.do(t, http.MethodPost, tc.path, bearer(t, simulator.DemoKey), tc.body)
				if status != http.StatusOK {
					t.Fatalf("status %d", status)
				}
				var data map[string]struct {
					Count int `json:"count"`
				}
				env := decodeEnvelope(t, b)
				if err := json.Unmarshal(env.Data, &data); err != nil {
					t.Fatal(err)
				}
				for kind, want := range tc.want {
					if data[kind].Count != want {
						t.Errorf("%s = %d, want %d: every answered lookup is kept", kind, data[kind].Count, want)
					}
				}
				if n := race.cancelled.Load(); n != 0 {
					t.Errorf("%d lookups in flight were cancelled by the 429", n)
				}
				if len(env.Errors) != 1 || env.Errors[0].Code != relay.CodeTooManyRequests {
					t.Errorf("errors = %+v, want one %q", env.Errors, relay.CodeTooManyRequests)
				}
				validate(t, schema(map[bool]string{true: "ObserveResponse", false: "DeliberateResponse"}[tc.path == "/observe/observables"]), b)
			})
		}
	}
}

// quotaRace holds the upstream requests under prefix until n of them have
// arrived, then answers the one for quota with 429 and the others either
// before it or after it. After it, each waits a moment for the relay to
// cancel it, which it must not do.
type quotaRace struct {
	next   http.Handler
	prefix string
	n      int
	quota  string
	after  bool

	mu         sync.Mutex
	arrived    int
	all, sent  chan struct{} // all n arrived; the 429 was answered
	othersDone sync.WaitGroup
	cancelled  atomic.Int32
}

func (q *quotaRace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, q.prefix) {
		q.next.ServeHTTP(w, r)
		return
	}
	q.mu.Lock()
	if q.arrived++; q.arrived == q.n {
		close(q.all)
	}
	q.mu.Unlock()
	wait := func(ch <-chan struct{}) {
		select {
		case <-ch:
		case <-time.After(hangGuard):
		}
	}
	wait(q.all)
	if r.URL.Path == q.quota {
		if !q.after {
			done := make(chan struct{})
			go func() { q.othersDone.Wait(); close(done) }()
			wait(done)
		}
		answerText(http.StatusTooManyRequests, "429: Too Many Requests")(w, r)
		w.(http.Flusher).Flush()
		close(q.sent)
		return
	}
	defer q.othersDone.Done()
	if q.after {
		wait(q.sent)
		select { // a relay that cancels lookups in flight does it now
		case <-r.Context().Done():
			q.cancelled.Add(1)
			return
		case <-time.After(300 * time.Millisecond):
		}
	}
	q.next.ServeHTTP(w, r)
}

// TestListKeyProblemsAreReported checks that a 429 or a 401 on a list's
// details is reported as on a report lookup, with everything gathered kept,
// and that a 429 stops further calls.
func TestListKeyProblemsAreReported(t *testing.T) {
	t.Parallel()
	const list = "/metadata/badip/lists/UCEPROTECT-LEVEL1"
	for _, tc := range []struct {
		name    string
		answer  http.HandlerFunc
		golden  string
		wantErr string
	}{
		{"quota", answerText(http.StatusTooManyRequests, "429: Too Many Requests"), "observe-list-quota", relay.CodeTooManyRequests},
		{"key rejected", answerText(http.StatusUnauthorized, "Unauthorized. API Key not found."), "observe-list-unauthorized", relay.CodeAuthorization},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c *pathCounter
			// The failing list answers only once every list of the report
			// was asked for, so that each of them was started before the
			// key problem was seen and must reach the answer.
			const lists = 5 // of 203.0.113.66
			afterAllAsked := func(w http.ResponseWriter, r *http.Request) {
				for deadline := time.Now().Add(hangGuard); c.of("/metadata/") < lists && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
				tc.answer(w, r)
			}
			e := newEnv(t, envOptions{secret: testSecret, wrap: countingUpstream(&c, map[string]http.HandlerFunc{list: afterAllAsked})})
			status, b := e.do(t, http.MethodPost, "/observe/observables", bearer(t, simulator.DemoKey), obsJSON("ip", "203.0.113.66"))
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			checkGolden(t, tc.golden, b)
			if env := decodeEnvelope(t, b); len(env.Errors) != 1 || env.Errors[0].Code != tc.wantErr {
				t.Errorf("errors = %+v, want one %q", env.Errors, tc.wantErr)
			}
		})
	}
	t.Run("a 429 stops further calls", func(t *testing.T) {
		t.Parallel()
		var c *pathCounter
		quota := answerText(http.StatusTooManyRequests, "429: Too Many Requests")
		e := newEnv(t, envOptions{secret: testSecret, workers: 1,
			wrap: countingUpstream(&c, map[string]http.HandlerFunc{"/metadata/": quota})})
		_, b := e.do(t, http.MethodPost, "/observe/observables", bearer(t, simulator.DemoKey),
			obsJSON("ip", "203.0.113.66", "ip", "198.51.100.23"))
		if n := c.of("/metadata/"); n != 1 {
			t.Errorf("list requests = %d, want 1: no list call after the 429", n)
		}
		if env := decodeEnvelope(t, b); len(env.Errors) != 1 || env.Errors[0].Code != relay.CodeTooManyRequests {
			t.Errorf("errors = %+v, want one %q", env.Errors, relay.CodeTooManyRequests)
		}
	})
}

// TestRetiredListIsCachedAsMissing checks that a list whose details answer
// 404 is asked once, not by every request.
func TestRetiredListIsCachedAsMissing(t *testing.T) {
	t.Parallel()
	var c *pathCounter
	e := newEnv(t, envOptions{secret: testSecret, listCache: true, wrap: countingUpstream(&c, nil)})
	for range 3 {
		status, b := e.do(t, http.MethodPost, "/observe/observables", bearer(t, simulator.DemoKey), obsJSON("ip", simulator.IPEdgeLists))
		if env := decodeEnvelope(t, b); status != http.StatusOK || len(env.Errors) != 0 {
			t.Fatalf("status %d, errors %+v", status, env.Errors)
		}
	}
	if n := c.of("/metadata/badip/lists/" + simulator.RetiredListID); n != 1 {
		t.Errorf("retired list asked %d times in 3 requests, want 1", n)
	}
}

// TestIPv6SpellingsShareOneLookup checks that spellings of one IPv6 address
// cost one lookup, made in canonical form, and that each spelling the
// caller sent is named by its own entities.
func TestIPv6SpellingsShareOneLookup(t *testing.T) {
	t.Parallel()
	var c *pathCounter
	e := newEnv(t, envOptions{secret: testSecret, wrap: countingUpstream(&c, nil)})
	status, b := e.do(t, http.MethodPost, "/observe/observables", bearer(t, simulator.DemoKey),
		obsJSON("ipv6", "2001:DB8::0:5", "ipv6", "2001:db8::5", "ipv6", "2001:0db8:0::5", "ipv6", "2001:DB8::0:5"))
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	checkGolden(t, "observe-ipv6-spellings", b)
	if got := verdictValues(t, decodeEnvelope(t, b).Data); strings.Join(got, " ") != "2001:DB8::0:5 2001:db8::5 2001:0db8:0::5" {
		t.Errorf("verdicts name %q, want each spelling once, as sent", got)
	}
	if n, all := c.of("/v2.0/ip/2001:db8::5"), c.of("/v2.0/ip/"); n != 1 || all != 1 {
		t.Errorf("report requests: %d canonical, %d in all; want one", n, all)
	}
}

// TestIPv4SpellingsShareOneLookup checks that an IPv4 address sent with
// surrounding spaces or as an IPv4-mapped IPv6 address is looked up once,
// as the IPv4 address, and that observe and deliberate name each
// observable as the caller sent it, so a caller matching answers to
// observables by value finds every one.
func TestIPv4SpellingsShareOneLookup(t *testing.T) {
	t.Parallel()
	body := obsJSON("ip", " 203.0.113.66 ", "ip", "::ffff:203.0.113.66", "ipv6", "::ffff:203.0.113.66", "ip", "203.0.113.66")
	want := []string{" 203.0.113.66 ", "::ffff:203.0.113.66", "::ffff:203.0.113.66", "203.0.113.66"}
	for _, route := range []string{"observe", "deliberate"} {
		t.Run(route, func(t *testing.T) {
			t.Parallel()
			var c *pathCounter
			e := newEnv(t, envOptions{secret: testSecret, wrap: countingUpstream(&c, nil)})
			status, b := e.do(t, http.MethodPost, "/"+route+"/observables", bearer(t, simulator.DemoKey), body)
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			checkGolden(t, route+"-ipv4-spellings", b)
			if got := verdictValues(t, decodeEnvelope(t, b).Data); !slices.Equal(got, want) {
				t.Errorf("verdicts name %q, want %q: each observable once, as sent", got, want)
			}
			if n, all := c.of("/v2.0/ip/203.0.113.66"), c.of("/v2.0/ip/"); n != 1 || all != 1 {
				t.Errorf("report requests: %d for the IPv4 address, %d in all; want one", n, all)
			}
		})
	}
}

// TestEmojiTitleValidates checks that a list named with 1,024 emoji (2,048
// UTF-16 code units) is cut to CTIM's limit as CTIM counts it.
func TestEmojiTitleValidates(t *testing.T) {
	t.Parallel()
	schema := loadSchemas(t)
	name := strings.Repeat("😀", 1024)
	details, _ := json.Marshal(map[string]string{"name": name, "source": name, "description": name,
		"tags": name, "sensitivity": "5", "visibility": "Public", "site": "https://example.org/"})
	var c *pathCounter
	e := newEnv(t, envOptions{secret: testSecret, wrap: countingUpstream(&c, map[string]http.HandlerFunc{
		"/metadata/badip/lists/EXAMPLE-EDGE-LIST": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(details)
		},
	})})
	status, b := e.do(t, http.MethodPost, "/observe/observables", bearer(t, simulator.DemoKey), obsJSON("ip", simulator.IPEdgeLists))
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	validate(t, schema("ObserveResponse"), b)
	var bundle map[string]struct {
		Docs []map[string]any `json:"docs"`
	}
	if err := json.Unmarshal(decodeEnvelope(t, b).Data, &bundle); err != nil {
		t.Fatal(err)
	}
	titles := 0
	for kind, coll := range bundle {
		for _, doc := range coll.Docs {
			if title, ok := doc["title"].(string); ok && strings.HasPrefix(title, "😀") {
				titles++
				if n := len(utf16.Encode([]rune(title))); n > 1024 {
					t.Errorf("%s title has %d UTF-16 code units, CTIM allows 1024", kind, n)
				}
			}
		}
	}
	if titles == 0 {
		t.Error("no entity carries the list's name as its title")
	}
}
