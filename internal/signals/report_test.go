package signals

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// simulatorData holds the report and metadata bodies: the simulator serves
// them, and the tests here read the same files.
var simulatorData = filepath.Join("..", "simulator", "data")

// fixturePath returns where a fixture named as in testdata/README.md lives.
func fixturePath(name string) string {
	switch {
	case name == "ip-report_bare-v2.0-ip_health-check.json":
		return filepath.Join(simulatorData, "health.json")
	case strings.HasPrefix(name, "ip-report_"):
		return filepath.Join(simulatorData, "reports", name)
	case strings.HasPrefix(name, "metadata/") && path.Base(name) != "_lists.json":
		return filepath.Join(simulatorData, filepath.FromSlash(name))
	}
	return filepath.Join("testdata", filepath.FromSlash(name))
}

// readTestdata returns the contents of a fixture.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixturePath(name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reportSummary is what the relay reads from a report.
type reportSummary struct {
	Score                      Int
	Hostname                   String
	BadIP, BadDomain, History  int
	DomainScore                int
	Blacklist, BlacklistMX, NS Strings
	BadIPLists                 Strings
	Total                      int
	Lists                      []ListRef
}

func summarize(r *Report) reportSummary {
	return reportSummary{
		Score:       r.Score,
		Hostname:    r.Hostname,
		BadIP:       r.BadIP.Score.Value,
		BadDomain:   r.BadDomain.Score.Value,
		History:     r.History.Score.Value,
		DomainScore: r.BadDomain.Domain.Score.Value,
		Blacklist:   r.BadDomain.Domain.Blacklist,
		BlacklistMX: r.BadDomain.Domain.BlacklistMX,
		NS:          r.BadDomain.Domain.BlacklistNS,
		BadIPLists:  r.BadIP.Blacklists,
		Total:       r.TotalScore(),
		Lists:       r.Lists(),
	}
}

// The expectations follow the fixtures' README: scores, sub-scores and the
// metadata calls the original relay made, in its order.
func TestDecodeReportFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want reportSummary
	}{
		{
			file: "ip-report_clean_198.51.100.7_score0.json",
			want: reportSummary{
				Score:    Int{0, true},
				Hostname: "cpe-7.cable.example.net",
				Total:    0,
			},
		},
		{
			file: "ip-report_suspicious_192.0.2.44_score-1.json",
			want: reportSummary{
				Score:   Int{-1, true},
				History: -1,
				Total:   -1,
			},
		},
		{
			file: "ip-report_suspicious_198.51.100.23_score-2.json",
			want: reportSummary{
				Score:      Int{-2, true},
				Hostname:   "dsl-23.access.example.org",
				BadIP:      -1,
				History:    -1,
				BadIPLists: Strings{"FAIL2BAN-SSH", "STOPFORUMSPAM-30", "QUARANTINE-IP"},
				Total:      -2,
				Lists: []ListRef{
					{BadIP, "FAIL2BAN-SSH"},
					{BadIP, "STOPFORUMSPAM-30"},
					{BadIP, "QUARANTINE-IP"},
				},
			},
		},
		{
			file: "ip-report_malicious_203.0.113.66_score-3.json",
			want: reportSummary{
				Score:       Int{-3, true},
				Hostname:    "mail.phish-kit.example",
				BadIP:       -1,
				BadDomain:   -1,
				History:     -1,
				DomainScore: -1,
				Blacklist:   Strings{"SBLACK-HOSTS-DOMAINS"},
				BlacklistMX: Strings{"MALWAREDOMAINS-COM"},
				NS:          Strings{"ISC-DOMAINS-HIGH"},
				BadIPLists:  Strings{"NIXSPAM-IP", "UCEPROTECT-LEVEL1"},
				Total:       -3,
				Lists: []ListRef{
					{BadIP, "NIXSPAM-IP"},
					{BadIP, "UCEPROTECT-LEVEL1"},
					{BadDomain, "SBLACK-HOSTS-DOMAINS"},
					{BadDomain, "MALWAREDOMAINS-COM"},
					{BadDomain, "ISC-DOMAINS-HIGH"},
				},
			},
		},
		{
			file: "ip-report_clean_2001-db8--5_ipv6_UNVERIFIED.json",
			want: reportSummary{Score: Int{0, true}, Total: 0},
		},
		{
			// Only fullip.geo: no score anywhere, so nothing is known.
			file: "ip-report_bare-v2.0-ip_health-check.json",
			want: reportSummary{Score: Int{}, Total: 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			r, err := decodeReport(readTestdata(t, tc.file))
			if err != nil {
				t.Fatalf("decodeReport: %v", err)
			}
			if diff := cmp.Diff(tc.want, summarize(r)); diff != "" {
				t.Errorf("report mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeReportBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantErr bool
		want    reportSummary
	}{
		{name: "no fullip", body: `{"other":1}`},
		{name: "fullip null", body: `{"fullip":null}`},
		{name: "fullip array", body: `{"fullip":[]}`},
		{name: "fullip string", body: `{"fullip":""}`},
		{name: "body null", body: `null`},
		{name: "empty", body: ``, wantErr: true},
		{name: "truncated", body: `{"fullip":{"score":-3,"badip":{`, wantErr: true},
		{name: "trailing garbage", body: `{"fullip":{}} x`, wantErr: true},
		{name: "plain text", body: `200: OK`, wantErr: true},
		{name: "html", body: `<html><body>maintenance</body></html>`, wantErr: true},
		{name: "top-level array", body: `[{"fullip":{}}]`, wantErr: true},
		{name: "top-level string", body: `"fullip"`, wantErr: true},
		{name: "top-level number", body: `-3`, wantErr: true},
		{name: "top-level bool", body: `true`, wantErr: true},
		{
			name: "whitespace around",
			body: " \n{\"fullip\": {\"score\": \"-1\", \"history\": {\"score\": -1}}}\n ",
			want: reportSummary{Score: Int{-1, true}, History: -1, Total: -1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := decodeReport([]byte(tc.body))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("decodeReport(%q) = %+v, want an error", tc.body, summarize(r))
				}
				// The text ends up in the relay's error message.
				if msg := err.Error(); strings.Contains(msg, "signals.") || strings.Contains(msg, "Go ") {
					t.Errorf("decodeReport(%q) error %q names a Go type", tc.body, msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeReport(%q): %v", tc.body, err)
			}
			if diff := cmp.Diff(tc.want, summarize(r)); diff != "" {
				t.Errorf("report mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTotalScore(t *testing.T) {
	t.Parallel()
	// fullip.score is the sum of the three sub-scores (API docs §5); when
	// it is missing or not a number the sum stands in for it.
	subs := `"badip":{"score":-1},"baddomain":{"score":-1},"history":{"score":0}`
	tests := []struct {
		name  string
		score string // raw JSON, "" leaves it out
		want  int
	}{
		{"given", `-2`, -2},
		{"given as string", `"-2"`, -2},
		{"given zero wins over sub-scores", `0`, 0},
		{"given disagrees with sub-scores", `-3`, -3},
		{"missing", ``, -2},
		{"null", `null`, -2},
		{"empty string", `""`, -2},
		{"garbage string", `"n/a"`, -2},
		{"object", `{"value":-3}`, -2},
		{"array", `[-3]`, -2},
		{"bool", `true`, -2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := `{"fullip":{` + subs
			if tc.score != "" {
				body += `,"score":` + tc.score
			}
			body += `}}`
			r, err := decodeReport([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.TotalScore(); got != tc.want {
				t.Errorf("TotalScore() of %s = %d, want %d", body, got, tc.want)
			}
		})
	}
}

func TestTotalScoreSubScoresAsStrings(t *testing.T) {
	t.Parallel()
	r, err := decodeReport([]byte(`{"fullip":{"badip":{"score":"-1"},"baddomain":{"score":"x"},"history":{"score":"-1"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.TotalScore(); got != -2 {
		t.Errorf("TotalScore() = %d, want -2", got)
	}
}

func TestListsOrderAndDeduplication(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want []ListRef
	}{
		{
			name: "badip before domain lists whatever the key order",
			body: `{"fullip":{
				"baddomain":{"domain":{"blacklist_ns":["NS-1"],"blacklist_mx":["MX-1"],"blacklist":["D-1"]}},
				"badip":{"blacklists":["IP-1","IP-2"]}}}`,
			want: []ListRef{{BadIP, "IP-1"}, {BadIP, "IP-2"}, {BadDomain, "D-1"}, {BadDomain, "MX-1"}, {BadDomain, "NS-1"}},
		},
		{
			name: "a domain list in blacklist and blacklist_mx is looked up once",
			body: `{"fullip":{"baddomain":{"domain":{
				"blacklist":["SBLACK-HOSTS-DOMAINS"],
				"blacklist_mx":["MALWAREDOMAINS-COM","SBLACK-HOSTS-DOMAINS"],
				"blacklist_ns":["SBLACK-HOSTS-DOMAINS","ISC-DOMAINS-HIGH","MALWAREDOMAINS-COM"]}}}}`,
			want: []ListRef{{BadDomain, "SBLACK-HOSTS-DOMAINS"}, {BadDomain, "MALWAREDOMAINS-COM"}, {BadDomain, "ISC-DOMAINS-HIGH"}},
		},
		{
			name: "a repeated badip list is looked up once",
			body: `{"fullip":{"badip":{"blacklists":["A","B","A"," B "]}}}`,
			want: []ListRef{{BadIP, "A"}, {BadIP, "B"}},
		},
		{
			name: "the same id as badip and baddomain is two different lists",
			body: `{"fullip":{"badip":{"blacklists":["SAME"]},"baddomain":{"domain":{"blacklist":["SAME"]}}}}`,
			want: []ListRef{{BadIP, "SAME"}, {BadDomain, "SAME"}},
		},
		{
			name: "lists given as strings",
			body: `{"fullip":{"badip":{"blacklists":"FAIL2BAN-SSH,NIXSPAM-IP"},
				"baddomain":{"domain":{"blacklist":"","blacklist_mx":null,"blacklist_ns":"['ISC-DOMAINS-HIGH']"}}}}`,
			want: []ListRef{{BadIP, "FAIL2BAN-SSH"}, {BadIP, "NIXSPAM-IP"}, {BadDomain, "ISC-DOMAINS-HIGH"}},
		},
		{
			name: "history lists are never looked up",
			body: `{"fullip":{"history":{"score":-1,"activity":[{"command":"add","blacklists":"FAIL2BAN-SSH","blacklist_change":"FAIL2BAN-SSH"}]}}}`,
			want: nil,
		},
		{
			name: "baddomain.ip and source_ip lists are not domain lists",
			body: `{"fullip":{"baddomain":{"ip":{"blacklist":["X"]},"source_ip":{"blacklist":["Y"]},"domain":{"blacklist":[]}}}}`,
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := decodeReport([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, r.Lists()); diff != "" {
				t.Errorf("Lists() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// wrongTypes are JSON values of every type, none of them what any field
// expects everywhere.
var wrongTypes = []string{`"x"`, `""`, `"-1,-2"`, `7.5`, `-1e400`, `true`, `false`, `null`, `[]`, `[1,"A",{}]`, `{}`, `{"score":-1}`}

// setPath sets the value at a dotted path in a decoded JSON document.
func setPath(t *testing.T, doc map[string]any, path string, value any) {
	t.Helper()
	keys := strings.Split(path, ".")
	m := doc
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			t.Fatalf("path %s: %s is not an object", path, k)
		}
		m = next
	}
	m[keys[len(keys)-1]] = value
}

func TestDecodeReportToleratesWrongTypes(t *testing.T) {
	t.Parallel()
	// Every field the mapping reads, and every object on the way to one.
	paths := []string{
		"fullip",
		"fullip.score",
		"fullip.hostname",
		"fullip.badip",
		"fullip.badip.score",
		"fullip.badip.blacklists",
		"fullip.baddomain",
		"fullip.baddomain.score",
		"fullip.baddomain.domain",
		"fullip.baddomain.domain.score",
		"fullip.baddomain.domain.blacklist",
		"fullip.baddomain.domain.blacklist_mx",
		"fullip.baddomain.domain.blacklist_ns",
		"fullip.baddomain.ip",
		"fullip.baddomain.ip.blacklist",
		"fullip.baddomain.source_ip",
		"fullip.history",
		"fullip.history.score",
		"fullip.history.activity",
		"fullip.geo",
		"fullip.geo.as.networks",
		"fullip.whois",
	}
	base := readTestdata(t, "ip-report_malicious_203.0.113.66_score-3.json")
	for _, path := range paths {
		for _, raw := range wrongTypes {
			t.Run(path+"="+raw, func(t *testing.T) {
				t.Parallel()
				var doc map[string]any
				if err := json.Unmarshal(base, &doc); err != nil {
					t.Fatal(err)
				}
				var value any
				if err := json.Unmarshal([]byte(raw), &value); err != nil {
					// -1e400 does not fit a float64; splice it in as raw JSON.
					value = json.RawMessage(raw)
				}
				setPath(t, doc, path, value)
				body, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				r, err := decodeReport(body)
				if err != nil {
					t.Fatalf("decodeReport with %s = %s: %v", path, raw, err)
				}
				// A part of the report away from the broken field is intact.
				if !strings.HasPrefix(path, "fullip.history") && path != "fullip" {
					if r.History.Score != (Int{-1, true}) {
						t.Errorf("history.score = %+v, want -1", r.History.Score)
					}
				} else if path != "fullip" {
					if got := r.Lists(); len(got) != 5 {
						t.Errorf("Lists() = %v, want the 5 lists of the fixture", got)
					}
				}
			})
		}
	}
}

// metadataOracle decodes a metadata fixture with plain encoding/json (every
// value is a string there) and derives what the relay should read.
func metadataOracle(t *testing.T, body []byte) *ListDetails {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("fixture is not an object of strings: %v", err)
	}
	d := &ListDetails{
		Name:        String(m["name"]),
		Source:      String(m["source"]),
		Site:        String(m["site"]),
		Description: String(m["description"]),
		Visibility:  String(m["visibility"]),
	}
	if m["tags"] != "" {
		d.Tags = Strings(strings.Split(m["tags"], ","))
	}
	if n, err := strconv.Atoi(m["sensitivity"]); err == nil {
		d.Sensitivity = Int{n, true}
	}
	return d
}

func TestDecodeListDetailsFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(simulatorData, "metadata", "*", "[A-Z]*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 11 {
		t.Fatalf("found %d metadata fixtures, want 11", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := metadataOracle(t, body)
			got, err := decodeListDetails(body)
			if err != nil {
				t.Fatalf("decodeListDetails: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("details mismatch (-want +got):\n%s", diff)
			}
			// The documented alternative shape: a one-element array.
			got, err = decodeListDetails([]byte("[\n" + string(body) + "\n]"))
			if err != nil {
				t.Fatalf("decodeListDetails of a one-element array: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("details from a one-element array mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeListDetailsLiteral(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want ListDetails
	}{
		{
			file: "metadata/badip/FAIL2BAN-SSH.json",
			want: ListDetails{
				Name:        "FAIL2BAN-SSH Blocklist.de",
				Source:      "Fail2Ban and Blocklist.de services",
				Site:        "http://www.blocklist.de",
				Description: "Hosts reported to the blocklist.de network by fail2ban installations after repeated failed SSH logins against member servers.",
				Tags:        Strings{"reputation", "abuse", "bruteforce"},
				Sensitivity: Int{1, true},
				Visibility:  "Public",
			},
		},
		{
			file: "metadata/badip/QUARANTINE-IP.json",
			want: ListDetails{
				Name:        "QUARANTINE-IP",
				Source:      "Private quarantine list of the API key owner",
				Description: "Addresses the account owner placed in quarantine through the quarantine API; each entry expires after its TTL.",
				Tags:        Strings{"quarantine", "private"},
				Sensitivity: Int{1, true},
				Visibility:  "Private",
			},
		},
		{
			file: "metadata/badip/EXAMPLE-EDGE-LIST.json",
			want: ListDetails{
				Name:        "EXAMPLE-EDGE-LIST",
				Source:      "Synthetic edge case (no live evidence)",
				Description: "Synthetic list used only to test defensive decoding: unmapped sensitivity and empty tags.",
				Sensitivity: Int{3, true},
				Visibility:  "Public",
			},
		},
		{
			file: "metadata/badip/UCEPROTECT-LEVEL1.json",
			want: ListDetails{
				Name:        "UCEPROTECT Level 1",
				Source:      "UCEPROTECT-Network DNSBL",
				Site:        "http://www.uceprotect.net",
				Description: "Individual addresses caught sending to UCEPROTECT spam traps (level 1 lists single IPs, not whole ranges).",
				Tags:        Strings{"reputation", "spam"},
				Sensitivity: Int{10, true},
				Visibility:  "Public",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			got, err := decodeListDetails(readTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tc.want, got); diff != "" {
				t.Errorf("details mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeListDetailsRejectsOtherShapes(t *testing.T) {
	t.Parallel()
	one := `{"name":"A","source":"S"}`
	tests := []struct {
		name string
		body string
	}{
		{"empty", ``},
		{"blank", " \n "},
		{"null", `null`},
		{"string", `"FAIL2BAN-SSH"`},
		{"number", `42`},
		{"bool", `true`},
		{"empty array", `[]`},
		{"two-element array", `[` + one + `,` + one + `]`},
		{"array of a string", `["FAIL2BAN-SSH"]`},
		{"array of null", `[null]`},
		{"array of an array", `[[` + one + `]]`},
		{"truncated object", `{"name":"A","source":`},
		{"truncated array", `[` + one},
		{"trailing garbage", one + ` x`},
		{"plain text", `Resource not found`},
		{"html", `<html><body>502 Bad Gateway</body></html>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if d, err := decodeListDetails([]byte(tc.body)); err == nil {
				t.Errorf("decodeListDetails(%q) = %+v, want an error", tc.body, d)
			}
		})
	}
}

func TestDecodeListDetailsToleratesWrongTypes(t *testing.T) {
	t.Parallel()
	fields := []string{"name", "source", "site", "description", "tags", "sensitivity", "visibility"}
	base := readTestdata(t, "metadata/badip/FAIL2BAN-SSH.json")
	for _, field := range fields {
		for _, raw := range wrongTypes {
			t.Run(field+"="+raw, func(t *testing.T) {
				t.Parallel()
				var doc map[string]json.RawMessage
				if err := json.Unmarshal(base, &doc); err != nil {
					t.Fatal(err)
				}
				doc[field] = json.RawMessage(raw)
				body, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				d, err := decodeListDetails(body)
				if err != nil {
					t.Fatalf("decodeListDetails with %s = %s: %v", field, raw, err)
				}
				witness, want := d.Name, String("FAIL2BAN-SSH Blocklist.de")
				if field == "name" {
					witness, want = d.Source, "Fail2Ban and Blocklist.de services"
				}
				if witness != want {
					t.Errorf("untouched field = %q, want %q", witness, want)
				}
			})
		}
	}
}
