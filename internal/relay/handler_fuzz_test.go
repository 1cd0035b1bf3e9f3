package relay_test

// FuzzHandler fuzzes the whole handler, between a random request body and a
// random upstream answer. Its seed corpus lives in testdata/fuzz/FuzzHandler/;
// run it longer with
//
//	go test ./internal/relay -run '^$' -fuzz '^FuzzHandler$' -fuzztime 60s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/signals-relay/signals-relay/internal/relay"
)

// fuzzKey is the API key the fuzzed relay's callers carry; the fuzzed
// upstream echoes it wherever its answer says $KEY.
const fuzzKey = "0f8e2b4c-6d1a-4e3b-9c5d-7a8b9c0d1e2f"

// fuzzRoutes are the routes FuzzHandler sends to, by the route argument.
var fuzzRoutes = []string{
	"/observe/observables", "/deliberate/observables", "/refer/observables",
	"/respond/observables", "/health", "/respond/trigger",
}

// fuzzStatuses are the upstream statuses, by the status argument.
var fuzzStatuses = []int{200, 200, 200, 204, 302, 400, 401, 404, 429, 500, 502, 503, 418, 599}

// fuzzUpstream is an Auth0 Signals stand-in whose answers the fuzz input
// sets. Fuzz functions run one at a time in a process, so one is shared.
type fuzzUpstream struct {
	mu              sync.Mutex
	status          int
	report, details []byte
}

func (u *fuzzUpstream) set(status int, report, details []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.status = status
	u.report = bytes.ReplaceAll(report, []byte("$KEY"), []byte(fuzzKey))
	u.details = bytes.ReplaceAll(details, []byte("$KEY"), []byte(fuzzKey))
}

func (u *fuzzUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	status, report, details := u.status, u.report, u.details
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if strings.HasPrefix(r.URL.Path, "/metadata/") {
		_, _ = w.Write(details)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(report)
}

// FuzzHandler sends a random body to a relay whose upstream answers a random
// status and body, and checks that the answer is always the contract's
// envelope: HTTP 200, JSON, only "data" and "errors", each error with a
// type, a code and a message, data of the route's shape, refer links on
// Auth0, and the API key in no error even when the upstream echoes it.
func FuzzHandler(f *testing.F) {
	up := &fuzzUpstream{}
	h := setup(f, stack{upstream: up, Options: relay.Options{Limits: relay.Limits{EntitiesLimit: 3}}})
	authz := bearer(f, fuzzKey)

	f.Fuzz(func(t *testing.T, body []byte, route, status uint8, report, details []byte) {
		up.set(fuzzStatuses[int(status)%len(fuzzStatuses)], report, details)
		path := fuzzRoutes[int(route)%len(fuzzRoutes)]
		r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		r.Header.Set("Authorization", authz)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)

		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d, want 200: %s", path, w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		checkContract(t, path, w.Body.Bytes())
	})
}

// checkContract checks one answer of route path against the contract.
func checkContract(t *testing.T, path string, answer []byte) {
	t.Helper()
	var env map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(answer))
	if err := dec.Decode(&env); err != nil || dec.More() {
		t.Fatalf("answer is not one JSON object: %v\n%s", err, answer)
	}
	if len(env) == 0 {
		t.Fatalf("empty envelope")
	}
	for k := range env {
		if k != "data" && k != "errors" {
			t.Errorf("envelope has %q", k)
		}
	}
	if raw, ok := env["errors"]; ok {
		var errs []map[string]any
		if err := json.Unmarshal(raw, &errs); err != nil || len(errs) == 0 {
			t.Fatalf("errors %s is not a non-empty array of objects", raw)
		}
		for _, e := range errs {
			typ, _ := e["type"].(string)
			code, _ := e["code"].(string)
			msg, _ := e["message"].(string)
			if len(e) != 3 || (typ != "fatal" && typ != "warning") || code == "" || msg == "" {
				t.Errorf("error %v is not {type, code, message}", e)
			}
			if strings.Contains(msg, fuzzKey) || strings.Contains(code, fuzzKey) {
				t.Errorf("error %v contains the API key", e)
			}
		}
	}
	raw, ok := env["data"]
	if !ok {
		if _, hasErrors := env["errors"]; !hasErrors {
			t.Fatalf("neither data nor errors")
		}
		return
	}
	switch path {
	case "/observe/observables", "/deliberate/observables":
		var bundle map[string]struct {
			Count *int             `json:"count"`
			Docs  []map[string]any `json:"docs"`
		}
		if err := json.Unmarshal(raw, &bundle); err != nil {
			t.Fatalf("data %s is not a bundle: %v", raw, err)
		}
		for kind, docs := range bundle {
			if docs.Count == nil || *docs.Count != len(docs.Docs) {
				t.Errorf("%s: count does not match its %d docs", kind, len(docs.Docs))
			}
		}
	case "/refer/observables":
		var links []struct{ ID, Title, Description, URL string }
		if err := json.Unmarshal(raw, &links); err != nil {
			t.Fatalf("data %s is not a list of links: %v", raw, err)
		}
		for _, l := range links {
			u, err := url.Parse(l.URL)
			page, ok := strings.CutPrefix(u.EscapedPath(), "/signals/ip/")
			if err != nil || u.Scheme != "https" || u.Host != "auth0.com" || !ok || strings.Contains(page, "/") ||
				u.RawQuery != "" || u.Fragment != "" {
				t.Errorf("refer link %q leaves https://auth0.com/signals/ip/", l.URL)
			}
		}
	case "/respond/observables":
		if string(raw) != "[]" {
			t.Errorf("respond data %s, want []", raw)
		}
	case "/health":
		if string(raw) != `{"status":"ok"}` {
			t.Errorf("health data %s", raw)
		}
	case "/respond/trigger":
		if string(raw) != `{"status":"failure"}` {
			t.Errorf("trigger data %s", raw)
		}
	default:
		panic(fmt.Sprintf("route %q", path))
	}
}
