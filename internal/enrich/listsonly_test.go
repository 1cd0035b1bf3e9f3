package enrich

import (
	"errors"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/simulator"
)

// TestRunWarnsWhenOnlyListsAreCut checks that a deadline that cuts only
// list-details lookups (every report is kept, the lists are not) still
// adds a DeadlineError: the answer lacks blocklists, so it is partial.
func TestRunWarnsWhenOnlyListsAreCut(t *testing.T) {
	obs := observables("203.0.113.66", "198.51.100.23")
	e := newUpstream(t, simulator.Options{}, nil)
	e.configure(Config{ReportCacheTTL: time.Hour, ListCacheTTL: time.Hour})
	e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, obs)) // reports only
	slowUpstream(t, e)

	req := observe(simulator.DemoKey, obs)
	req.Timeout = 50 * time.Millisecond
	res := runWithin(t, t.Context(), e.lookup, req)

	if len(res.Observations) != len(obs) {
		t.Fatalf("%d observations, want all %d (their reports are kept)", len(res.Observations), len(obs))
	}
	wantLists := 0
	for _, o := range res.Observations {
		wantLists += len(o.Report.Lists())
		if len(o.Lists) != 0 {
			t.Errorf("%s: %d lists gathered from an upstream that never answers", o.Observable.Value, len(o.Lists))
		}
	}
	if wantLists == 0 {
		t.Fatal("the addresses are on no list")
	}
	if len(res.Errors) != 1 {
		t.Fatalf("errors = %v, want one DeadlineError", res.Errors)
	}
	var de *DeadlineError
	if !errors.As(res.Errors[0], &de) {
		t.Fatalf("error %T %v, want *DeadlineError", res.Errors[0], res.Errors[0])
	}
	want := DeadlineError{Timeout: req.Timeout, Observables: 0, Total: len(obs), Lists: wantLists}
	if *de != want {
		t.Errorf("DeadlineError = %+v, want %+v", *de, want)
	}
	if res.Stats.ObservablesSkipped != 0 || res.Stats.ListsSkipped != int64(wantLists) {
		t.Errorf("stats = %+v, want no observable and %d lists skipped", res.Stats, wantLists)
	}
}
