package relay_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// perfHangGuard bounds a request that should end at its deadline; reaching
// it means the relay hung.
const perfHangGuard = 10 * time.Second

// postWithin posts through the handler and fails if the answer does not
// come before perfHangGuard.
func postWithin(t *testing.T, p *perfRelay, path, body string) string {
	t.Helper()
	type answer struct {
		status int
		body   string
	}
	done := make(chan answer, 1)
	go func() {
		status, b := p.post(path, body)
		done <- answer{status, b}
	}()
	select {
	case a := <-done:
		if a.status != http.StatusOK {
			t.Fatalf("status %d: %s", a.status, a.body)
		}
		return a.body
	case <-time.After(perfHangGuard):
		t.Fatal("the relay did not answer after its request deadline")
		return ""
	}
}

type wireAnswer struct {
	Data struct {
		Verdicts struct {
			Docs []struct {
				Observable struct{ Value string } `json:"observable"`
			} `json:"docs"`
		} `json:"verdicts"`
		Sightings struct {
			Count int `json:"count"`
		} `json:"sightings"`
	} `json:"data"`
	Errors []struct {
		Type, Code, Message string
	} `json:"errors"`
}

// TestDeadlineWarning checks the wire answer when the request deadline
// passes: the complete part (here from a warm report cache) plus one warning
// naming what was skipped, valid against the relay-response schemas.
func TestDeadlineWarning(t *testing.T) {
	schema := loadSchemas(t)
	const warm, cold = "203.0.113.66", "10.0.0.9"
	for _, tc := range []struct {
		name, path, def string
		wantVerdicts    []string
		wantMessage     string
	}{
		{name: "deliberate", path: "/deliberate/observables", def: "DeliberateResponse", wantVerdicts: []string{warm},
			wantMessage: "did not finish within 50ms; the answer is partial: 1 of 2 observables and 0 blocklists were not looked up."},
		{name: "observe", path: "/observe/observables", def: "ObserveResponse", wantVerdicts: []string{warm},
			wantMessage: "did not finish within 50ms; the answer is partial: 1 of 2 observables and 5 blocklists were not looked up."}, // the warm address's lists
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &testsupport.LockedBuffer{}
			p := newPerfRelay(t, perfOptions{reportCache: true, requestTimeout: 50 * time.Millisecond, logs: logs})
			postWithin(t, p, "/deliberate/observables", obsJSON("ip", warm)) // fills the report cache
			p.sim.SetLatency(time.Hour)                                      // nothing else answers in time

			body := postWithin(t, p, tc.path, obsJSON("ip", cold, "ip", warm))
			validate(t, schema(tc.def), []byte(body))
			var got wireAnswer
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			var verdicts []string
			for _, v := range got.Data.Verdicts.Docs {
				verdicts = append(verdicts, v.Observable.Value)
			}
			if strings.Join(verdicts, ",") != strings.Join(tc.wantVerdicts, ",") {
				t.Errorf("verdicts for %v, want %v", verdicts, tc.wantVerdicts)
			}
			if len(got.Errors) != 1 {
				t.Fatalf("errors = %+v, want one warning", got.Errors)
			}
			e := got.Errors[0]
			if e.Type != "warning" || e.Code != relay.CodeRequestTimeout || !strings.HasSuffix(e.Message, tc.wantMessage) {
				t.Errorf("error = %+v, want a %q warning ending %q", e, relay.CodeRequestTimeout, tc.wantMessage)
			}
			line := requestLine(t, logs.String(), 1)
			if line["observables_skipped"] != 1.0 || !strings.Contains(logs.String(), `"errors":["request timeout"]`) {
				t.Errorf("log line does not tell the skip: %v", line)
			}
		})
	}
}

// requestLine returns the n-th (from 0) "request" log line.
func requestLine(t *testing.T, logs string, n int) map[string]any {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(logs))
	for i := 0; sc.Scan(); {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m["msg"] != "request" {
			continue
		}
		if i == n {
			return m
		}
		i++
	}
	t.Fatalf("no request log line %d in:\n%s", n, logs)
	return nil
}

// TestRequestLogCountsWork checks the per-request metrics of the log line
// over a cold, a warm and a repeated observe.
func TestRequestLogCountsWork(t *testing.T) {
	logs := &testsupport.LockedBuffer{}
	p := newPerfRelay(t, perfOptions{listCache: true, reportCache: true, logs: logs})
	first := obsJSON("ip", "203.0.113.66", "ip", "198.51.100.23")
	second := obsJSON("ip", "203.0.113.66", "ip", "198.51.100.23", "ip", "10.0.0.1")
	for _, body := range []string{first, first, second} {
		postWithin(t, p, "/observe/observables", body)
	}
	const lists = 5 + 3 // the fixture addresses' lists (they share none); 10.0.0.1 is on none
	for i, want := range []map[string]float64{
		{"upstream_calls": 2 + lists, "report_cache_hits": 0, "list_cache_hits": 0},
		{"upstream_calls": 0, "report_cache_hits": 2, "list_cache_hits": lists},
		{"upstream_calls": 1, "report_cache_hits": 2, "list_cache_hits": lists},
	} {
		line := requestLine(t, logs.String(), i)
		for k, v := range want {
			if line[k] != v {
				t.Errorf("request %d: %s = %v, want %v (line %v)", i, k, line[k], v, line)
			}
		}
		if _, ok := line["upstream_ms"].(float64); !ok {
			t.Errorf("request %d: no upstream_ms", i)
		}
	}
}
