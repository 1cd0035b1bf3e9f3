package relay_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/signals"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// TestObserveWarnsWhenOnlyListsAreCut checks the answer when the request
// timeout cuts only list-details lookups (the reports are kept from an
// earlier request): the verdicts are there, and so is the timeout warning
// that says the answer is partial.
func TestObserveWarnsWhenOnlyListsAreCut(t *testing.T) {
	t.Parallel()
	sim := simulator.New(simulator.Options{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/metadata/") {
			<-r.Context().Done() // list details answer only after the caller has left
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(upstream.Close)
	client, err := signals.New(upstream.URL, &http.Client{Timeout: 10 * time.Second}, "signals-relay/test")
	if err != nil {
		t.Fatal(err)
	}
	h := relay.New(relay.Options{
		Logger:         discardLogger(),
		Verifier:       auth.HS256{Secret: []byte(testSecret)},
		Lookup:         enrich.New(client, enrich.Config{ReportCacheTTL: time.Hour}),
		RequestTimeout: 100 * time.Millisecond,
	})
	e := &env{handler: h}
	body := obsJSON("ip", "203.0.113.66")
	authz := bearer(t, simulator.DemoKey)
	if _, b := e.do(t, http.MethodPost, "/deliberate/observables", authz, body); strings.Contains(string(b), `"errors"`) {
		t.Fatalf("deliberate (keeps the report): %s", b)
	}

	status, b := e.do(t, http.MethodPost, "/observe/observables", authz, body)
	var got struct {
		Data struct {
			Verdicts *struct {
				Count int `json:"count"`
			} `json:"verdicts"`
		} `json:"data"`
		Errors []struct {
			Type, Code string
		} `json:"errors"`
	}
	if err := json.Unmarshal(b, &got); err != nil || status != http.StatusOK {
		t.Fatalf("status %d, body %s (%v)", status, b, err)
	}
	if got.Data.Verdicts == nil || got.Data.Verdicts.Count != 1 {
		t.Errorf("answer %s, want the verdict of the kept report", b)
	}
	if len(got.Errors) != 1 || got.Errors[0].Type != "warning" || got.Errors[0].Code != relay.CodeRequestTimeout {
		t.Errorf("errors %+v, want one %q warning\n%s", got.Errors, relay.CodeRequestTimeout, b)
	}
}
