// Package deploy holds what operators deploy; this test checks that the
// Grafana dashboard and the Prometheus rules ask only for metrics and labels
// the relay exports, and that every alert has promtool unit tests.
package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/metrics"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/signals"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/simulator/simtest"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

const (
	secret = "monitoring-test-secret-0123456789abcdefghijklmnop"
	// targetLabels are added by Prometheus to every scraped series.
	targetLabels = "job instance"
)

// scrape is the relay's exported series: label names and the values seen,
// by series name (a histogram's _bucket, _sum and _count separately).
type scrape map[string]map[string][]string

// scrapeRelay runs the relay's handler with its metrics against the
// simulator, sends requests that answer, fail authorization, use up the
// quota and are shed, and scrapes the metrics listener's /metrics.
func scrapeRelay(t *testing.T) scrape {
	t.Helper()
	m := metrics.New(metrics.CurrentBuild())
	sim := simtest.New(simulator.Options{Quota: 4})
	upstream := httptest.NewServer(sim)
	t.Cleanup(upstream.Close)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: m.Transport(http.DefaultTransport.(*http.Transport).Clone())}
	client, err := signals.New(upstream.URL, hc, "signals-relay/test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := enrich.DefaultConfig()
	cfg.ReportCacheTTL, cfg.ListCacheTTL, cfg.ListMissingTTL = time.Minute, time.Minute, 0
	lookup, err := enrich.New(client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	limits := relay.DefaultLimits()
	limits.MaxConcurrent = 1
	relayHandler, err := relay.New(relay.Options{
		Logger: slog.New(slog.DiscardHandler), Verifier: auth.NewHS256([]byte(secret), nil),
		Lookup: lookup, Limits: limits, Version: "1.2.3", Observe: m.Observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := m.InFlight(relayHandler)
	tok, err := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	send := func(path, authz, body string) int {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	one := `[{"type":"ip","value":"203.0.113.66"}]`
	send("/observe/observables", "Bearer "+tok, one) // answers, fills the caches
	send("/observe/observables", "Bearer "+tok, one) // from the caches
	send("/deliberate/observables", "Bearer not-a-token", one)
	send("/health", "Bearer "+tok, "")
	// The quota of 4 calls is used up: 429 from upstream.
	send("/deliberate/observables", "Bearer "+tok, `[{"type":"ip","value":"192.0.2.1"},{"type":"ip","value":"192.0.2.2"},{"type":"ip","value":"192.0.2.3"}]`)
	// One request holds the only slot while another arrives: shed (503).
	sim.SetLatency(time.Second)
	var wg sync.WaitGroup
	wg.Go(func() { send("/deliberate/observables", "Bearer "+tok, `[{"type":"ip","value":"192.0.2.9"}]`) })
	testsupport.WaitFor(t, "the first request to reach the upstream", func() bool { return sim.InFlight() > 0 })
	if code := send("/observe/observables", "Bearer "+tok, one); code != http.StatusServiceUnavailable {
		t.Errorf("a request beyond the concurrency cap: %d, want 503", code)
	}
	wg.Wait()

	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	ln, err := metrics.Listen(ctx, "127.0.0.1:0", "127.0.0.1:9090")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = m.Serve(ctx, ln, slog.New(slog.DiscardHandler), nil) }()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	s := scrape{}
	add := func(name string, labels []*dto.LabelPair, extra ...string) {
		if s[name] == nil {
			s[name] = map[string][]string{}
		}
		for _, l := range labels {
			if !slices.Contains(s[name][l.GetName()], l.GetValue()) {
				s[name][l.GetName()] = append(s[name][l.GetName()], l.GetValue())
			}
		}
		for _, e := range extra {
			s[name][e] = append(s[name][e], "")
		}
	}
	for name, f := range fams {
		for _, mt := range f.GetMetric() {
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM:
				add(name+"_bucket", mt.GetLabel(), "le")
				add(name+"_sum", mt.GetLabel())
				add(name+"_count", mt.GetLabel())
			case dto.MetricType_SUMMARY:
				add(name, mt.GetLabel(), "quantile")
				add(name+"_sum", mt.GetLabel())
				add(name+"_count", mt.GetLabel())
			default:
				add(name, mt.GetLabel())
			}
		}
	}
	return s
}

// promql parses PromQL as Prometheus does, with its default functions.
var promql = parser.NewParser(parser.Options{})

// query is one PromQL expression and where it is written.
type query struct{ where, expr string }

var labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// grafanaVariables are replaced before parsing, as Grafana does.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "$job", ".*", "$instance", ".*")

// dashboardQueries returns every query of the dashboards' panels and
// variables; a label_values(selector, label) variable becomes the
// selector grouped by label, so that the label is checked as well.
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	files, err := filepath.Glob("grafana/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboard in grafana/ (%v)", err)
	}
	type target struct {
		Expr string `json:"expr"`
	}
	type panel struct {
		Title   string   `json:"title"`
		Targets []target `json:"targets"`
		Panels  []panel  `json:"panels"`
	}
	var qs []query
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Panels     []panel `json:"panels"`
			Templating struct {
				List []struct {
					Name  string `json:"name"`
					Type  string `json:"type"`
					Query any    `json:"query"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var walk func(ps []panel)
		walk = func(ps []panel) {
			for _, p := range ps {
				for _, tg := range p.Targets {
					qs = append(qs, query{fmt.Sprintf("%s: panel %q", f, p.Title), grafanaVariables.Replace(tg.Expr)})
				}
				walk(p.Panels)
			}
		}
		walk(d.Panels)
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			var q string
			switch x := v.Query.(type) {
			case string:
				q = x
			case map[string]any:
				q, _ = x["query"].(string)
			}
			m := labelValuesRE.FindStringSubmatch(q)
			if m == nil {
				t.Errorf("%s: variable %s: %q is not label_values(selector, label)", f, v.Name, q)
				continue
			}
			qs = append(qs, query{fmt.Sprintf("%s: variable %s", f, v.Name), fmt.Sprintf("count by (%s) (%s)", m[2], grafanaVariables.Replace(m[1]))})
		}
	}
	return qs
}

// rulesFile is a Prometheus rules file.
type rulesFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert  string `json:"alert"`
			Record string `json:"record"`
			Expr   string `json:"expr"`
		} `json:"rules"`
	} `json:"groups"`
}

// ruleQueries returns every rule's expression and the alerts' names.
func ruleQueries(t *testing.T) ([]query, []string) {
	t.Helper()
	files, err := filepath.Glob("prometheus/*.rules.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rules in prometheus/ (%v)", err)
	}
	var qs []query
	var alerts []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf rulesFile
		if err := yaml.Unmarshal(data, &rf); err != nil { // promtool check rules checks the rest
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				qs = append(qs, query{fmt.Sprintf("%s: %s%s", f, r.Alert, r.Record), r.Expr})
				if r.Alert != "" {
					alerts = append(alerts, r.Alert)
				}
			}
		}
	}
	return qs, alerts
}

// check parses q and reports every selector whose metric or label the
// scrape lacks, every equality matcher whose value it never showed, and
// every grouping or matching label not on all the metrics it groups.
func (s scrape) check(q query) []string {
	expr, err := promql.ParseExpr(q.expr)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", q.where, err)}
	}
	var problems []string
	// has reports whether name has label, the labels Prometheus adds
	// counted.
	has := func(name, label string) bool {
		if slices.Contains(strings.Fields(targetLabels), label) {
			return true
		}
		_, ok := s[name][label]
		return ok
	}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			if n.Name == "up" { // Prometheus's own series of each target
				return nil
			}
			if _, ok := s[n.Name]; !ok {
				problems = append(problems, fmt.Sprintf("%s: %s is not exported by the relay", q.where, n.Name))
				return nil
			}
			for _, lm := range n.LabelMatchers {
				if lm.Name == model.MetricNameLabel {
					continue
				}
				if !has(n.Name, lm.Name) {
					problems = append(problems, fmt.Sprintf("%s: %s has no label %s", q.where, n.Name, lm.Name))
					continue
				}
				if lm.Type == labels.MatchEqual && !slices.Contains(strings.Fields(targetLabels), lm.Name) && !slices.Contains(s[n.Name][lm.Name], lm.Value) {
					problems = append(problems, fmt.Sprintf("%s: %s{%s=%q}: the relay exported no such value (seen: %q)", q.where, n.Name, lm.Name, lm.Value, s[n.Name][lm.Name]))
				}
			}
		case *parser.AggregateExpr:
			for _, name := range selectorNames(n.Expr) {
				for _, l := range n.Grouping {
					if name != "up" && !has(name, l) && l != "le" {
						problems = append(problems, fmt.Sprintf("%s: groups %s by %s, a label it does not have", q.where, name, l))
					}
				}
			}
		case *parser.BinaryExpr:
			if n.VectorMatching == nil {
				return nil
			}
			for _, side := range []parser.Expr{n.LHS, n.RHS} {
				for _, name := range selectorNames(side) {
					for _, l := range n.VectorMatching.MatchingLabels {
						if name != "up" && !has(name, l) {
							problems = append(problems, fmt.Sprintf("%s: matches %s on %s, a label it does not have", q.where, name, l))
						}
					}
				}
			}
		}
		return nil
	})
	return problems
}

// selectorNames returns the metric names selected in e.
func selectorNames(e parser.Node) []string {
	var names []string
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	return names
}

// TestQueriesMatchTheRelaysMetrics checks every dashboard and rule query
// against a scrape of the relay.
func TestQueriesMatchTheRelaysMetrics(t *testing.T) {
	s := scrapeRelay(t)
	rules, _ := ruleQueries(t)
	dashboards := dashboardQueries(t)
	used := map[string]bool{}
	for _, q := range append(dashboards, rules...) {
		for _, p := range s.check(q) {
			t.Error(p)
		}
		if e, err := promql.ParseExpr(q.expr); err == nil {
			for _, n := range selectorNames(e) {
				used[n] = true
			}
		}
	}
	// The dashboard shows every metric of the relay (a histogram by its
	// buckets), and the process's memory and goroutines.
	for name := range s {
		base := strings.TrimSuffix(strings.TrimSuffix(name, "_sum"), "_count")
		if !strings.HasPrefix(name, metrics.Namespace+"_") || base != name && s[base+"_bucket"] != nil {
			continue
		}
		if !used[name] {
			t.Errorf("no dashboard panel or rule shows %s", name)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "up"} {
		if !used[name] {
			t.Errorf("no dashboard panel or rule shows %s", name)
		}
	}
}

// TestCheckFindsMistakes proves the check rejects what a typo would
// produce.
func TestCheckFindsMistakes(t *testing.T) {
	s := scrapeRelay(t)
	for _, c := range []struct{ expr, want string }{
		{`sum(rate(signals_relay_requests_total[5m]))`, ""},
		{`sum(rate(signals_relay_request_total[5m]))`, "not exported"},
		{`sum(rate(signals_relay_requests_total{code="500"}[5m]))`, "no label code"},
		{`sum(rate(signals_relay_requests_total{error="authorisation error"}[5m]))`, "no such value"},
		{`sum by (endpoint) (rate(signals_relay_requests_total[5m]))`, "a label it does not have"},
		{`histogram_quantile(0.9, sum by (le) (rate(signals_relay_request_duration_seconds_bucket{outcome="200"}[5m])))`, "no label outcome"},
		{`a / on (route) signals_relay_upstream_requests_total`, "a label it does not have"},
		{`sum(rate(signals_relay_requests_total[5m])`, "unclosed"},
	} {
		problems := s.check(query{"test", c.expr})
		switch {
		case c.want == "" && len(problems) > 0:
			t.Errorf("%s: %v", c.expr, problems)
		case c.want != "" && !strings.Contains(strings.Join(problems, "\n"), c.want):
			t.Errorf("%s: %v, want a problem with %q", c.expr, problems, c.want)
		}
	}
}

// TestEveryAlertIsUnitTested checks that promtool's tests have, for every
// alert, a case where it fires and one where it does not.
func TestEveryAlertIsUnitTested(t *testing.T) {
	_, alerts := ruleQueries(t)
	files, err := filepath.Glob("prometheus/*.rules.test.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule tests in prometheus/ (%v)", err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tf struct {
			Tests []struct {
				AlertRuleTest []struct {
					Alertname string `json:"alertname"`
					ExpAlerts []any  `json:"exp_alerts"`
				} `json:"alert_rule_test"`
			} `json:"tests"`
		}
		if err := yaml.Unmarshal(data, &tf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range tf.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					quiet[a.Alertname] = true
				}
			}
		}
	}
	for _, a := range alerts {
		if !fires[a] || !quiet[a] {
			t.Errorf("alert %s: a firing case %v, a quiet case %v; want both in the promtool tests", a, fires[a], quiet[a])
		}
	}
	for _, a := range slices.Sorted(maps.Keys(fires)) {
		if !slices.Contains(alerts, a) {
			t.Errorf("the promtool tests test %s, which no rule defines", a)
		}
	}
}
