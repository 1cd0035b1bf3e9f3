package enrich

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/signals-relay/signals-relay/internal/ctim"
	"github.com/signals-relay/signals-relay/internal/signals"
)

// Fixed inputs of the mapping.
var (
	mappingNow       = time.Date(2020, time.October, 1, 12, 0, 0, 0, time.UTC)
	mappingQueriedAt = time.Date(2020, time.October, 1, 11, 59, 58, 250_000_000, time.UTC)
)

// The wire constants of the original relay (relay contract §6).
const (
	wantSchemaVersion = "1.0.17"
	verdictValidity   = 7 * 24 * time.Hour
)

// counterIDs hands out counter-based ids and remembers them.
type counterIDs struct{ issued []string }

func (g *counterIDs) next() string {
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(g.issued)+1)
	g.issued = append(g.issued, id)
	return id
}

// newTestMapper returns a Mapper with a fixed clock and counter ids.
func newTestMapper() (Mapper, *counterIDs) {
	g := &counterIDs{}
	return Mapper{Now: func() time.Time { return mappingNow }, NewID: g.next}, g
}

func validWindow(start time.Time, d time.Duration) ctim.ValidTime {
	s, e := ctim.Time{Time: start}, ctim.Time{Time: start.Add(d)}
	return ctim.ValidTime{StartTime: &s, EndTime: &e}
}

func observedInstant(at time.Time) ctim.ObservedTime {
	e := ctim.Time{Time: at}
	return ctim.ObservedTime{StartTime: ctim.Time{Time: at}, EndTime: &e}
}

// ignoreGeneratedIDs leaves the generated ids to checkGeneratedIDs.
var ignoreGeneratedIDs = cmp.Options{
	cmpopts.IgnoreFields(ctim.Judgement{}, "ID"),
	cmpopts.IgnoreFields(ctim.Sighting{}, "ID"),
	cmpopts.IgnoreFields(ctim.Relationship{}, "ID", "SourceRef"),
}

// checkGeneratedIDs checks that every judgement, sighting and relationship
// has an id of its own, built from a generated one, and that each sighting
// has exactly one member-of relationship, to the indicator wantTargets names
// at the sighting's position.
func checkGeneratedIDs(t *testing.T, b ctim.Bundle, g *counterIDs, wantTargets []string) {
	t.Helper()
	used := make(map[string]string)
	use := func(kind, id string) {
		t.Helper()
		prefix := "transient:" + kind + "-"
		gen, ok := strings.CutPrefix(id, prefix)
		if !ok {
			t.Errorf("%s id %q does not start with %q", kind, id, prefix)
			return
		}
		if !slices.Contains(g.issued, gen) {
			t.Errorf("%s id %q is not built from a generated id", kind, id)
		}
		if other, dup := used[gen]; dup {
			t.Errorf("%s id %q reuses the generated id of %s", kind, id, other)
		}
		used[gen] = id
	}
	for _, j := range docsIn(b.Judgements) {
		use("judgement", j.ID)
	}
	for _, s := range docsIn(b.Sightings) {
		use("sighting", s.ID)
	}
	bySource := make(map[string][]ctim.Relationship)
	for _, r := range docsIn(b.Relationships) {
		use("relationship", r.ID)
		bySource[r.SourceRef] = append(bySource[r.SourceRef], r)
	}
	sightings := docsIn(b.Sightings)
	if len(docsIn(b.Relationships)) != len(sightings) {
		t.Errorf("%d relationships for %d sightings, want one each", len(docsIn(b.Relationships)), len(sightings))
	}
	for i, s := range sightings {
		rels := bySource[s.ID]
		if len(rels) != 1 {
			t.Errorf("sighting %d (%s) has %d relationships, want 1", i, s.ID, len(rels))
			continue
		}
		if i < len(wantTargets) && rels[0].TargetRef != wantTargets[i] {
			t.Errorf("sighting %d is member-of %s, want %s", i, rels[0].TargetRef, wantTargets[i])
		}
	}
}

func docsIn[T any](d *ctim.Docs[T]) []T {
	if d == nil {
		return nil
	}
	if d.Count != len(d.Docs) {
		panic(fmt.Sprintf("Docs.Count = %d for %d docs", d.Count, len(d.Docs)))
	}
	return d.Docs
}

// signalsFixturePath is where an Auth0 Signals fixture lives: reports and
// metadata are the simulator's data.
func signalsFixturePath(name string) string {
	if strings.HasPrefix(name, "ip-report_") {
		name = "reports/" + name
	}
	return filepath.Join("..", "simulator", "data", filepath.FromSlash(name))
}

func reportFixture(t *testing.T, file string) *signals.Report {
	t.Helper()
	b, err := os.ReadFile(signalsFixturePath(file))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		FullIP signals.Report `json:"fullip"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &env.FullIP
}

// listFixture is a metadata fixture read with plain encoding/json: every
// value there is a string.
type listFixture struct {
	Name, Source, Site, Description, Tags, Sensitivity, Visibility string
}

func listFixtureOf(t *testing.T, ref signals.ListRef) (*signals.ListDetails, listFixture) {
	t.Helper()
	b, err := os.ReadFile(signalsFixturePath("metadata/" + string(ref.Kind) + "/" + ref.ID + ".json"))
	if err != nil {
		t.Fatal(err)
	}
	var d signals.ListDetails
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var plain listFixture
	if err := json.Unmarshal(b, &plain); err != nil {
		t.Fatal(err)
	}
	return &d, plain
}

// observe builds the observation of a report fixture with the details of
// every list it names, as a lookup with no list limit gathers it.
func observeFixture(t *testing.T, typ, value, file string) Observation {
	t.Helper()
	o := Observation{
		Observable: ctim.Observable{Type: typ, Value: value},
		Report:     reportFixture(t, file),
		QueriedAt:  mappingQueriedAt,
	}
	for _, ref := range o.Report.Lists() {
		d, _ := listFixtureOf(t, ref)
		o.Lists = append(o.Lists, List{Ref: ref, Details: d})
	}
	return o
}

// expectedList is what the fixtures' README says the original relay made of
// one list: the sighting's severity and TLP, and the indicator id, which is
// "transient:indicator-" + uuid5(NAMESPACE_X500, name) computed with
// Python's uuid module.
type expectedList struct {
	ref      signals.ListRef
	severity string
	tlp      string
	uuid5    string
}

func expectedSighting(t *testing.T, obs ctim.Observable, l expectedList) ctim.Sighting {
	_, f := listFixtureOf(t, l.ref)
	return ctim.Sighting{
		Type:          "sighting",
		SchemaVersion: wantSchemaVersion,
		Count:         1,
		Confidence:    "High",
		Description:   "Found on blocklist",
		Source:        f.Source,
		SourceURI:     f.Site,
		ObservedTime:  observedInstant(mappingQueriedAt),
		Observables:   []ctim.Observable{obs},
		TLP:           l.tlp,
		Severity:      l.severity,
	}
}

func expectedIndicator(t *testing.T, l expectedList) ctim.Indicator {
	_, f := listFixtureOf(t, l.ref)
	var tags []string
	if f.Tags != "" {
		tags = strings.Split(f.Tags, ",")
	}
	return ctim.Indicator{
		ID:               "transient:indicator-" + l.uuid5,
		Type:             "indicator",
		SchemaVersion:    wantSchemaVersion,
		Producer:         f.Source,
		Title:            f.Name,
		ShortDescription: "Feed: " + f.Name,
		Description:      f.Description,
		Tags:             tags,
	}
}

func expectedJudgement(obs ctim.Observable, reason string) ctim.Judgement {
	return ctim.Judgement{
		Type:            "judgement",
		SchemaVersion:   wantSchemaVersion,
		Source:          "Auth0 Signals Report",
		SourceURI:       "https://auth0.com/signals/ip/" + obs.Value + "-report",
		Observable:      obs,
		Disposition:     3,
		DispositionName: "Suspicious",
		Priority:        90,
		Confidence:      "High",
		Severity:        "Medium",
		ValidTime:       validWindow(mappingNow, verdictValidity),
		Reason:          reason,
	}
}

func expectedVerdict(obs ctim.Observable, disposition ctim.Disposition, name string) ctim.Verdict {
	return ctim.Verdict{
		Type:            "verdict",
		Disposition:     disposition,
		DispositionName: name,
		Observable:      obs,
		ValidTime:       validWindow(mappingNow, verdictValidity),
	}
}

// The fixtures' README lists what the original relay (v1.0.1) made of each
// report; the Go relay must make the same.
func TestBundleOfTheFixtures(t *testing.T) {
	t.Parallel()
	const (
		reasonDomain  = "Associated hostname found on blocklist"
		reasonIP      = "IP found on blocklist"
		reasonHistory = "IP found on blocklist in recent past"
	)
	tests := []struct {
		file            string
		obs             ctim.Observable
		disposition     ctim.Disposition
		dispositionName string
		reasons         []string
		lists           []expectedList
	}{
		{
			file:            "ip-report_clean_198.51.100.7_score0.json",
			obs:             newObservable("ip", "198.51.100.7"),
			disposition:     5,
			dispositionName: "Unknown",
		},
		{
			file:            "ip-report_suspicious_192.0.2.44_score-1.json",
			obs:             newObservable("ip", "192.0.2.44"),
			disposition:     3,
			dispositionName: "Suspicious",
			reasons:         []string{reasonHistory},
		},
		{
			file:            "ip-report_suspicious_198.51.100.23_score-2.json",
			obs:             newObservable("ip", "198.51.100.23"),
			disposition:     3,
			dispositionName: "Suspicious",
			reasons:         []string{reasonIP, reasonHistory},
			lists: []expectedList{
				{signals.ListRef{Kind: signals.BadIP, ID: "FAIL2BAN-SSH"}, "High", "white", "1bd1feb2-b61e-52fa-8936-4f2cbc669229"},
				{signals.ListRef{Kind: signals.BadIP, ID: "STOPFORUMSPAM-30"}, "Medium", "white", "8bead099-9a0f-5cdd-a1d3-6c88e304e8de"},
				{signals.ListRef{Kind: signals.BadIP, ID: "QUARANTINE-IP"}, "High", "amber", "b34d38b1-6337-5d7a-a3a4-d1356e9b237f"},
			},
		},
		{
			file:            "ip-report_malicious_203.0.113.66_score-3.json",
			obs:             newObservable("ip", "203.0.113.66"),
			disposition:     2,
			dispositionName: "Malicious",
			reasons:         []string{reasonDomain, reasonIP, reasonHistory},
			lists: []expectedList{
				{signals.ListRef{Kind: signals.BadIP, ID: "NIXSPAM-IP"}, "Medium", "white", "b6b50be2-6e43-5b74-9d79-4df8e21236f6"},
				{signals.ListRef{Kind: signals.BadIP, ID: "UCEPROTECT-LEVEL1"}, "Info", "white", "f069e2ba-bcc6-5df6-bf52-c37b5cc0e523"},
				{signals.ListRef{Kind: signals.BadDomain, ID: "SBLACK-HOSTS-DOMAINS"}, "High", "white", "88ca4b94-b73e-50e7-9c2f-73b045f5ba05"},
				{signals.ListRef{Kind: signals.BadDomain, ID: "MALWAREDOMAINS-COM"}, "High", "white", "4091a931-2ec9-5706-845f-a0ec5fa69431"},
				{signals.ListRef{Kind: signals.BadDomain, ID: "ISC-DOMAINS-HIGH"}, "Medium", "white", "5a4deda0-4022-5c53-a18e-ec2439277aa1"},
			},
		},
		{
			file:            "ip-report_clean_2001-db8--5_ipv6_UNVERIFIED.json",
			obs:             newObservable("ipv6", "2001:db8::5"),
			disposition:     5,
			dispositionName: "Unknown",
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			m, ids := newTestMapper()
			o := observeFixture(t, tc.obs.Type, tc.obs.Value, tc.file)
			got := m.Bundle([]Observation{o})

			want := ctim.Bundle{
				Verdicts: ctim.NewDocs([]ctim.Verdict{expectedVerdict(tc.obs, tc.disposition, tc.dispositionName)}),
			}
			var judgements []ctim.Judgement
			for _, r := range tc.reasons {
				judgements = append(judgements, expectedJudgement(tc.obs, r))
			}
			var (
				sightings     []ctim.Sighting
				indicators    []ctim.Indicator
				relationships []ctim.Relationship
				targets       []string
			)
			for _, l := range tc.lists {
				sightings = append(sightings, expectedSighting(t, tc.obs, l))
				ind := expectedIndicator(t, l)
				indicators = append(indicators, ind)
				targets = append(targets, ind.ID)
				relationships = append(relationships, ctim.Relationship{
					Type:             "relationship",
					SchemaVersion:    wantSchemaVersion,
					RelationshipType: "member-of",
					TargetRef:        ind.ID,
				})
			}
			want.Judgements = ctim.NewDocs(judgements)
			want.Sightings = ctim.NewDocs(sightings)
			want.Indicators = ctim.NewDocs(indicators)
			want.Relationships = ctim.NewDocs(relationships)

			if diff := cmp.Diff(want, got, ignoreGeneratedIDs); diff != "" {
				t.Errorf("bundle mismatch (-want +got):\n%s", diff)
			}
			checkGeneratedIDs(t, got, ids, targets)

			if diff := cmp.Diff(want.Verdicts, ctim.NewDocs(m.Verdicts([]Observation{o}))); diff != "" {
				t.Errorf("Verdicts mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A quarantine list has no site; its sighting has no source_uri.
func TestBundleOmitsAnEmptySite(t *testing.T) {
	t.Parallel()
	m, _ := newTestMapper()
	b := m.Bundle([]Observation{observeFixture(t, "ip", "198.51.100.23", "ip-report_suspicious_198.51.100.23_score-2.json")})
	raw, err := json.Marshal(docsIn(b.Sightings)[2])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "source_uri") {
		t.Errorf("sighting of QUARANTINE-IP = %s, want no source_uri", raw)
	}
}

func TestVerdictsOnlyForObservationsWithAReport(t *testing.T) {
	t.Parallel()
	score := func(n int) *signals.Report { return &signals.Report{Score: signals.Int{Value: n, Valid: true}} }
	obs := []Observation{
		{Observable: newObservable("ip", "192.0.2.1"), Report: score(-3)},
		{Observable: newObservable("ip", "192.0.2.2")}, // no data
		{Observable: newObservable("ipv6", "2001:db8::5"), Report: score(0)},
		{Observable: newObservable("ip", "192.0.2.3"), Lists: []List{{}}}, // no report, lists ignored
		{Observable: newObservable("ip", "192.0.2.4"), Report: score(-1)},
	}
	want := []ctim.Verdict{
		expectedVerdict(newObservable("ip", "192.0.2.1"), 2, "Malicious"),
		expectedVerdict(newObservable("ipv6", "2001:db8::5"), 5, "Unknown"),
		expectedVerdict(newObservable("ip", "192.0.2.4"), 3, "Suspicious"),
	}
	m, _ := newTestMapper()
	if diff := cmp.Diff(want, m.Verdicts(obs)); diff != "" {
		t.Errorf("Verdicts mismatch (-want +got):\n%s", diff)
	}
	b := m.Bundle(obs)
	if diff := cmp.Diff(want, docsIn(b.Verdicts)); diff != "" {
		t.Errorf("Bundle verdicts mismatch (-want +got):\n%s", diff)
	}
	if b.Judgements != nil || b.Sightings != nil || b.Indicators != nil || b.Relationships != nil {
		t.Errorf("Bundle = %+v, want verdicts only", b)
	}
}

func TestBundleOfNothing(t *testing.T) {
	t.Parallel()
	m, _ := newTestMapper()
	for _, obs := range [][]Observation{nil, {{Observable: newObservable("ip", "192.0.2.2")}}} {
		b := m.Bundle(obs)
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if string(raw) != "{}" {
			t.Errorf("Bundle(%d observations without data) = %s, want {}", len(obs), raw)
		}
	}
}

func TestJudgementsPerNegativeSubScore(t *testing.T) {
	t.Parallel()
	const (
		domain  = "Associated hostname found on blocklist"
		ip      = "IP found on blocklist"
		history = "IP found on blocklist in recent past"
	)
	valid := func(n int) signals.Int { return signals.Int{Value: n, Valid: true} }
	tests := []struct {
		name                   string
		badDomain, badIP, hist signals.Int
		want                   []string
	}{
		{"none", valid(0), valid(0), valid(0), nil},
		{"domain", valid(-1), valid(0), valid(0), []string{domain}},
		{"ip", valid(0), valid(-1), valid(0), []string{ip}},
		{"history", valid(0), valid(0), valid(-1), []string{history}},
		{"domain and ip", valid(-1), valid(-1), valid(0), []string{domain, ip}},
		{"ip and history", valid(0), valid(-1), valid(-1), []string{ip, history}},
		{"domain and history", valid(-1), valid(0), valid(-1), []string{domain, history}},
		{"all", valid(-1), valid(-1), valid(-1), []string{domain, ip, history}},
		{"below -1 counts", valid(-5), valid(-2), valid(0), []string{domain, ip}},
		{"positive does not count", valid(1), valid(2), valid(-1), []string{history}},
		{"missing does not count", signals.Int{}, signals.Int{}, valid(-1), []string{history}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obs := newObservable("ip", "198.51.100.23")
			r := &signals.Report{}
			r.BadDomain.Score, r.BadIP.Score, r.History.Score = tc.badDomain, tc.badIP, tc.hist
			// fullip.score does not matter for judgements.
			r.Score = valid(0)
			var want []ctim.Judgement
			for _, reason := range tc.want {
				want = append(want, expectedJudgement(obs, reason))
			}
			m, ids := newTestMapper()
			b := m.Bundle([]Observation{{Observable: obs, Report: r, QueriedAt: mappingQueriedAt}})
			if diff := cmp.Diff(want, docsIn(b.Judgements), ignoreGeneratedIDs); diff != "" {
				t.Errorf("judgements mismatch (-want +got):\n%s", diff)
			}
			checkGeneratedIDs(t, b, ids, nil)
		})
	}
}

func listDetailsOf(name, source string) *signals.ListDetails {
	return &signals.ListDetails{
		Name:        signals.String(name),
		Source:      signals.String(source),
		Site:        "https://lists.example.net/" + signals.String(strings.ToLower(name)),
		Description: signals.String(name + " description"),
		Tags:        signals.Strings{"abuse"},
		Sensitivity: signals.Int{Value: 5, Valid: true},
		Visibility:  "Public",
	}
}

func listedObservation(value string, lists ...List) Observation {
	return Observation{
		Observable: newObservable("ip", value),
		Report:     &signals.Report{Score: signals.Int{Value: -1, Valid: true}},
		QueriedAt:  mappingQueriedAt,
		Lists:      lists,
	}
}

func TestIndicatorsAreDeduplicatedAcrossObservables(t *testing.T) {
	t.Parallel()
	fail2ban := List{Ref: signals.ListRef{Kind: signals.BadIP, ID: "FAIL2BAN-SSH"}, Details: listDetailsOf("FAIL2BAN-SSH Blocklist.de", "Fail2Ban")}
	nixspam := List{Ref: signals.ListRef{Kind: signals.BadIP, ID: "NIXSPAM-IP"}, Details: listDetailsOf("NiX Spam IP blacklist", "NiX Spam")}
	// Another list of the same name: its indicator has the same id.
	sameName := List{Ref: signals.ListRef{Kind: signals.BadDomain, ID: "OTHER-ID"}, Details: listDetailsOf("NiX Spam IP blacklist", "Someone else")}

	obs := []Observation{
		listedObservation("198.51.100.23", fail2ban, nixspam),
		listedObservation("203.0.113.66", nixspam, fail2ban),
		listedObservation("192.0.2.44", sameName),
	}
	m, ids := newTestMapper()
	b := m.Bundle(obs)

	const (
		fail2banID = "transient:indicator-1bd1feb2-b61e-52fa-8936-4f2cbc669229"
		nixspamID  = "transient:indicator-b6b50be2-6e43-5b74-9d79-4df8e21236f6"
	)
	var gotIDs []string
	for _, ind := range docsIn(b.Indicators) {
		gotIDs = append(gotIDs, ind.ID)
	}
	if diff := cmp.Diff([]string{fail2banID, nixspamID}, gotIDs); diff != "" {
		t.Errorf("indicator ids mismatch (-want +got):\n%s", diff)
	}
	if got := docsIn(b.Indicators)[1].Producer; got != "NiX Spam" {
		t.Errorf("the kept NiX Spam indicator has producer %q, want the first one's", got)
	}
	if n := len(docsIn(b.Sightings)); n != 5 {
		t.Errorf("%d sightings, want one per observable and list (5)", n)
	}
	var observed []string
	for _, s := range docsIn(b.Sightings) {
		observed = append(observed, s.Observables[0].Value+" "+s.Source)
	}
	wantObserved := []string{
		"198.51.100.23 Fail2Ban", "198.51.100.23 NiX Spam",
		"203.0.113.66 NiX Spam", "203.0.113.66 Fail2Ban",
		"192.0.2.44 Someone else",
	}
	if diff := cmp.Diff(wantObserved, observed); diff != "" {
		t.Errorf("sightings mismatch (-want +got):\n%s", diff)
	}
	checkGeneratedIDs(t, b, ids, []string{fail2banID, nixspamID, nixspamID, fail2banID, nixspamID})
}

func TestNamelessList(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "   ", "\t\n"} {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			t.Parallel()
			d := listDetailsOf("x", "")
			d.Name = signals.String(name)
			m, _ := newTestMapper()
			b := m.Bundle([]Observation{listedObservation("198.51.100.23", List{Ref: signals.ListRef{Kind: signals.BadIP, ID: "FAIL2BAN-SSH"}, Details: d})})
			inds := docsIn(b.Indicators)
			if len(inds) != 1 {
				t.Fatalf("%d indicators, want 1", len(inds))
			}
			ind := inds[0]
			// Identified by the list id: uuid5(NAMESPACE_X500, "FAIL2BAN-SSH").
			if want := "transient:indicator-cc11e9a0-7740-5d37-ad24-3c3135d5a446"; ind.ID != want {
				t.Errorf("ID = %q, want %q", ind.ID, want)
			}
			if ind.Title != "FAIL2BAN-SSH" || ind.ShortDescription != "Feed: FAIL2BAN-SSH" {
				t.Errorf("title %q, short description %q; want the list id", ind.Title, ind.ShortDescription)
			}
			if strings.TrimSpace(ind.Producer) == "" {
				t.Error("producer is empty; CTIM requires one")
			}
			if s := docsIn(b.Sightings)[0]; s.Source != "" {
				t.Errorf("sighting source = %q, want none for a list without a source", s.Source)
			}
		})
	}
}

// TestIndicatorIDHashesTheNameAsSent keeps ids compatible with the original
// relay, which hashed the list name without trimming it; the title is trimmed.
func TestIndicatorIDHashesTheNameAsSent(t *testing.T) {
	t.Parallel()
	d := listDetailsOf(" FAIL2BAN-SSH Blocklist.de ", "S")
	m, _ := newTestMapper()
	b := m.Bundle([]Observation{listedObservation("198.51.100.23", List{Ref: signals.ListRef{Kind: signals.BadIP, ID: "FAIL2BAN-SSH"}, Details: d})})
	ind := docsIn(b.Indicators)[0]
	// uuid.uuid5(uuid.NAMESPACE_X500, " FAIL2BAN-SSH Blocklist.de ") in Python.
	if want := "transient:indicator-a9d9c148-ba0c-5a35-b85d-2c317184a0e6"; ind.ID != want {
		t.Errorf("ID = %q, want %q", ind.ID, want)
	}
	if ind.Title != "FAIL2BAN-SSH Blocklist.de" {
		t.Errorf("Title = %q, want the trimmed name", ind.Title)
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   signals.Strings
		want []string
	}{
		{"none", nil, nil},
		{"empty", signals.Strings{}, nil},
		{"blank entries", signals.Strings{"", " ", "\t"}, nil},
		{"fixture", signals.Strings{"reputation", "abuse", "bruteforce"}, []string{"reputation", "abuse", "bruteforce"}},
		{"trimmed", signals.Strings{" spam ", "abuse\n"}, []string{"spam", "abuse"}},
		{"repeats", signals.Strings{"spam", "abuse", "spam", " abuse"}, []string{"spam", "abuse"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := listDetailsOf("FAIL2BAN-SSH Blocklist.de", "Fail2Ban")
			d.Tags = tc.in
			m, _ := newTestMapper()
			b := m.Bundle([]Observation{listedObservation("198.51.100.23", List{Ref: signals.ListRef{Kind: signals.BadIP, ID: "FAIL2BAN-SSH"}, Details: d})})
			got := docsIn(b.Indicators)[0].Tags
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("tags mismatch (-want +got):\n%s", diff)
			}
			raw, err := json.Marshal(docsIn(b.Indicators)[0])
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.want) == 0 && strings.Contains(string(raw), `"tags"`) {
				t.Errorf("indicator %s carries tags, want none", raw)
			}
		})
	}
}

func TestSightingSeverityAndTLP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sensitivity  signals.Int
		visibility   string
		wantSeverity string
		wantTLP      string
	}{
		{signals.Int{Value: 1, Valid: true}, "Public", "High", "white"},
		{signals.Int{Value: 5, Valid: true}, "Public", "Medium", "white"},
		{signals.Int{Value: 10, Valid: true}, "Private", "Info", "amber"},
		{signals.Int{}, "", "Unknown", "amber"},
	}
	for _, tc := range tests {
		d := listDetailsOf("L", "S")
		d.Sensitivity, d.Visibility = tc.sensitivity, signals.String(tc.visibility)
		m, _ := newTestMapper()
		b := m.Bundle([]Observation{listedObservation("198.51.100.23", List{Ref: signals.ListRef{Kind: signals.BadIP, ID: "L"}, Details: d})})
		s := docsIn(b.Sightings)[0]
		if s.Severity != tc.wantSeverity || s.TLP != tc.wantTLP {
			t.Errorf("sensitivity %+v, visibility %q: severity %q, TLP %q; want %q, %q",
				tc.sensitivity, tc.visibility, s.Severity, s.TLP, tc.wantSeverity, tc.wantTLP)
		}
	}
}

// checkCut checks that got is original cut to at most max characters as
// CTIM counts them (UTF-16 code units) at a character boundary, keeping as
// much as the limit allows.
func checkCut(t *testing.T, field, original, got string, max int) {
	t.Helper()
	if !utf8.ValidString(got) {
		t.Errorf("%s is not valid UTF-8", field)
		return
	}
	n := len(utf16.Encode([]rune(got)))
	if len(utf16.Encode([]rune(original))) <= max {
		if got != original {
			t.Errorf("%s of %d characters was changed", field, utf8.RuneCountInString(original))
		}
		return
	}
	// A character of two units that does not fit leaves one unit unused.
	if n > max || n < max-2 {
		t.Errorf("%s has %d UTF-16 units, want at most %d and no fewer than %d", field, n, max, max-2)
	}
	// Everything but a possible cut marker is the start of the original.
	_, last := utf8.DecodeLastRuneInString(got)
	if kept := got[:len(got)-last]; !strings.HasPrefix(original, kept) {
		t.Errorf("%s is not the start of the original", field)
	}
}

func TestStringsAreCutToCTIMLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		runes []string // repeated to build each long value
	}{
		{"ascii", []string{"a"}},
		{"two-byte", []string{"é"}},
		{"three-byte", []string{"€", "名"}},
		{"four-byte", []string{"😀"}},
		{"mixed", []string{"a", "é", "名", "😀"}},
	}
	lengths := []int{1000, 1023, 1024, 1025, 2047, 2048, 2049, 4999, 5000, 5001, 7000}
	for _, tc := range tests {
		for _, n := range lengths {
			t.Run(fmt.Sprintf("%s/%d", tc.name, n), func(t *testing.T) {
				t.Parallel()
				var sb strings.Builder
				for i := 0; i < n; i++ {
					sb.WriteString(tc.runes[i%len(tc.runes)])
				}
				long := sb.String()
				d := &signals.ListDetails{
					Name:        signals.String(long),
					Source:      signals.String(long),
					Description: signals.String(long),
					Tags:        signals.Strings{long},
					Visibility:  "Public",
				}
				m, _ := newTestMapper()
				b := m.Bundle([]Observation{listedObservation("198.51.100.23", List{Ref: signals.ListRef{Kind: signals.BadIP, ID: "LONG"}, Details: d})})
				ind, s := docsIn(b.Indicators)[0], docsIn(b.Sightings)[0]
				checkCut(t, "indicator title", long, ind.Title, 1024)
				checkCut(t, "indicator short_description", "Feed: "+long, ind.ShortDescription, 2048)
				checkCut(t, "indicator description", long, ind.Description, 5000)
				checkCut(t, "indicator producer", long, ind.Producer, 1024)
				if len(ind.Tags) != 1 {
					t.Fatalf("tags = %d, want 1", len(ind.Tags))
				}
				checkCut(t, "indicator tag", long, ind.Tags[0], 1024)
				checkCut(t, "sighting source", long, s.Source, 2048)
				// The id is that of the whole name, as the original relay made it.
				if want := IndicatorID(long); ind.ID != want {
					t.Errorf("indicator id %s, want the id of the full name", ind.ID)
				}
			})
		}
	}
}

// stringsIn returns every string reachable from v, with its path.
func collectStrings(v reflect.Value, path string, out map[string]string) {
	switch v.Kind() {
	case reflect.String:
		out[path] = v.String()
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			collectStrings(v.Elem(), path, out)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				collectStrings(v.Field(i), path+"."+f.Name, out)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			collectStrings(v.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}

func TestInvalidUTF8BecomesValid(t *testing.T) {
	t.Parallel()
	bad := "Bad\xff list \xc3\x28 \xe2\x82"
	m, _ := newTestMapper()
	b := m.Bundle([]Observation{
		listedObservation("198.51.100.23",
			List{Ref: signals.ListRef{Kind: signals.BadIP, ID: "BAD"}, Details: &signals.ListDetails{
				Name:        signals.String(bad),
				Source:      signals.String(bad),
				Site:        "https://lists.example.net/\xff\xfe",
				Description: signals.String(bad),
				Tags:        signals.Strings{bad, "ok"},
				Visibility:  signals.String(bad),
				Sensitivity: signals.Int{Value: 5, Valid: true},
			}},
			// A nameless list is identified by its id, which comes from the
			// report and can be broken too.
			List{Ref: signals.ListRef{Kind: signals.BadIP, ID: "ID\xff"}, Details: &signals.ListDetails{Site: "http://\xffexample.net/"}},
		),
	})
	all := make(map[string]string)
	collectStrings(reflect.ValueOf(b), "bundle", all)
	if len(all) < 20 {
		t.Fatalf("found only %d strings in the bundle", len(all))
	}
	for path, s := range all {
		if !utf8.ValidString(s) {
			t.Errorf("%s = %q is not valid UTF-8", path, s)
		}
	}
	ind := docsIn(b.Indicators)[0]
	if !strings.HasPrefix(ind.Title, "Bad") || !strings.Contains(ind.Title, "list") {
		t.Errorf("title = %q, want the valid parts of the name kept", ind.Title)
	}
}

func TestSightingSourceURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		site string
		want string
	}{
		{"http://www.blocklist.de", "http://www.blocklist.de"},
		{"https://github.com/StevenBlack/hosts", "https://github.com/StevenBlack/hosts"},
		{"http://www.blocklist.de/en/export.html?time=3600#top", "http://www.blocklist.de/en/export.html?time=3600#top"},
		{"http://[2001:db8::1]:8080/lists", "http://[2001:db8::1]:8080/lists"},
		{" http://www.nixspam.org \n", "http://www.nixspam.org"},
		{"", ""},
		{"   ", ""},
		{"www.blocklist.de", ""},
		{"/lists/nixspam", ""},
		{"//www.blocklist.de", ""},
		{"http://", ""},
		{"http:///lists", ""},
		{"http:www.blocklist.de", ""},
		{"not a uri", ""},
		{"http://exa mple.net/", ""},
		{"http://example.net/<script>", ""},
		{`http://example.net/"x"`, ""},
		{"http://example.net/a\\b", ""},
		{"http://example.net/{x}", ""},
		{"http://example.net/\x00", ""},
		{"http://example.net/%zz", ""},
		{"https://example.net/" + strings.Repeat("a", 2100), ""},
		{"https://example.net/\xff", ""},
		{"http://\xffexample.net", ""},
		{"javascript://example.net/%0Aalert(1)", ""},
		{"ftp://ftp.example.net/lists", ""},
		{"HTTPS://www.blocklist.de", "HTTPS://www.blocklist.de"},
	}
	for _, tc := range tests {
		t.Run(tc.site, func(t *testing.T) {
			t.Parallel()
			d := listDetailsOf("L", "S")
			d.Site = signals.String(tc.site)
			m, _ := newTestMapper()
			b := m.Bundle([]Observation{listedObservation("198.51.100.23", List{Ref: signals.ListRef{Kind: signals.BadIP, ID: "L"}, Details: d})})
			if got := docsIn(b.Sightings)[0].SourceURI; got != tc.want {
				t.Errorf("source_uri of site %q = %q, want %q", tc.site, got, tc.want)
			}
		})
	}
}

// Scores: 0 Unknown, -1 and -2 Suspicious, -3 Malicious (API docs §5);
// below -3 is more evidence than the maximum, above 0 is no evidence.
func TestDisposition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		score int
		want  ctim.Disposition
		name  string
	}{
		{-7, 2, "Malicious"},
		{-6, 2, "Malicious"},
		{-5, 2, "Malicious"},
		{-4, 2, "Malicious"},
		{-3, 2, "Malicious"},
		{-2, 3, "Suspicious"},
		{-1, 3, "Suspicious"},
		{0, 5, "Unknown"},
		{1, 5, "Unknown"},
		{2, 5, "Unknown"},
		{3, 5, "Unknown"},
	}
	for _, tc := range tests {
		got := Disposition(tc.score)
		if got != tc.want || got.Name() != tc.name {
			t.Errorf("Disposition(%d) = %d %q, want %d %q", tc.score, got, got.Name(), tc.want, tc.name)
		}
	}
}

// Sensitivity runs from 1 (most hazardous) to 10; the original relay mapped
// 1, 5 and 10 to High, Medium and Info; other values go to the nearest.
func TestSeverity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   signals.Int
		want string
	}{
		{signals.Int{Value: 1, Valid: true}, "High"},
		{signals.Int{Value: 2, Valid: true}, "High"},
		{signals.Int{Value: 3, Valid: true}, "High"},
		{signals.Int{Value: 4, Valid: true}, "Medium"},
		{signals.Int{Value: 5, Valid: true}, "Medium"},
		{signals.Int{Value: 6, Valid: true}, "Medium"},
		{signals.Int{Value: 7, Valid: true}, "Medium"},
		{signals.Int{Value: 8, Valid: true}, "Info"},
		{signals.Int{Value: 9, Valid: true}, "Info"},
		{signals.Int{Value: 10, Valid: true}, "Info"},
		{signals.Int{Value: 11, Valid: true}, "Info"},
		{signals.Int{Value: 1000, Valid: true}, "Info"},
		{signals.Int{Value: 0, Valid: true}, "High"},
		{signals.Int{Value: -1, Valid: true}, "High"},
		{signals.Int{Value: -100, Valid: true}, "High"},
		{signals.Int{}, "Unknown"},
		{signals.Int{Value: 5}, "Unknown"},
	}
	for _, tc := range tests {
		if got := Severity(tc.in); got != tc.want {
			t.Errorf("Severity(%+v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTLP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		visibility, want string
	}{
		{"Public", "white"},
		{"public", "white"},
		{"PUBLIC", "white"},
		{" Public\n", "white"},
		{"Private", "amber"},
		{"", "amber"},
		{"Publicly", "amber"},
		{"Pub lic", "amber"},
		{"Shared", "amber"},
	}
	for _, tc := range tests {
		if got := TLP(tc.visibility); got != tc.want {
			t.Errorf("TLP(%q) = %q, want %q", tc.visibility, got, tc.want)
		}
	}
}

func TestReportURL(t *testing.T) {
	t.Parallel()
	// The original relay's pivot: https://auth0.com/signals/ip/<value>-report.
	if got, want := ReportURL("198.51.100.23"), "https://auth0.com/signals/ip/198.51.100.23-report"; got != want {
		t.Errorf("ReportURL(IPv4) = %q, want %q", got, want)
	}
	values := []string{
		"198.51.100.23",
		"2001:db8::5",
		"::ffff:198.51.100.23",
		"fe80::1%eth0",
		"../../../evil",
		"..",
		".",
		"",
		"a/b",
		"a?b=c",
		"?x",
		"a#b",
		"@evil.example",
		"//evil.example/x",
		"https://evil.example/",
		"a\\b",
		"\\\\evil.example",
		"%2F..%2F",
		"100%",
		"a b",
		"line\nbreak",
		"ünïcødé",
		"\xff",
	}
	for _, v := range values {
		got := ReportURL(v)
		u, err := url.Parse(got)
		if err != nil {
			t.Errorf("ReportURL(%q) = %q does not parse: %v", v, got, err)
			continue
		}
		if u.Scheme != "https" || u.Host != "auth0.com" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
			t.Errorf("ReportURL(%q) = %q leaves https://auth0.com or adds a query or fragment", v, got)
		}
		if strings.ContainsAny(got, "\\ \n\t") || !utf8.ValidString(got) {
			t.Errorf("ReportURL(%q) = %q has characters a browser would reinterpret", v, got)
		}
		segs := strings.Split(u.EscapedPath(), "/")
		if len(segs) != 4 || segs[0] != "" || segs[1] != "signals" || segs[2] != "ip" {
			t.Errorf("ReportURL(%q) = %q, want exactly /signals/ip/<one segment>", v, got)
			continue
		}
		if last, err := url.PathUnescape(segs[3]); err != nil || last != v+"-report" {
			t.Errorf("ReportURL(%q): last segment %q unescapes to %q, want %q", v, segs[3], last, v+"-report")
		}
	}
}

// The expected ids are uuid.uuid5(uuid.NAMESPACE_X500, name) from Python,
// as the original relay made them.
func TestIndicatorID(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{"FAIL2BAN-SSH Blocklist.de", "transient:indicator-1bd1feb2-b61e-52fa-8936-4f2cbc669229"},
		{"StopForumSpam IP 30d", "transient:indicator-8bead099-9a0f-5cdd-a1d3-6c88e304e8de"},
		{"QUARANTINE-IP", "transient:indicator-b34d38b1-6337-5d7a-a3a4-d1356e9b237f"},
		{"Steven Black Unified hosts of adware and malware Domain blacklist", "transient:indicator-88ca4b94-b73e-50e7-9c2f-73b045f5ba05"},
		{"SANS ISC suspicious domains (high sensitivity)", "transient:indicator-5a4deda0-4022-5c53-a18e-ec2439277aa1"},
		{"EXAMPLE-EDGE-LIST", "transient:indicator-4738febc-cd5c-5bec-afa8-d984aba8e7ec"},
		{"Liste für Spam ✓", "transient:indicator-ec890e86-9f10-5a68-96b5-8ce16584a75b"},
		{"", "transient:indicator-b4bdf874-8c03-5bd8-8fd7-5e409dfd82c0"},
	}
	for _, tc := range tests {
		if got := IndicatorID(tc.name); got != tc.want {
			t.Errorf("IndicatorID(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
