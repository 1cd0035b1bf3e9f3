package simulator

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

// files holds the fixture responses served by the simulator.
//
//go:embed data
var files embed.FS

// Edge-case addresses with hand-made behaviour; see the package documentation.
const (
	// IPPositiveScore answers a report whose fullip.score is +2.
	IPPositiveScore = "192.0.2.1"
	// IPScoreMinus7 answers a report whose fullip.score is -7.
	IPScoreMinus7 = "192.0.2.2"
	// IPEdgeLists answers a report listing EXAMPLE-EDGE-LIST and
	// EXAMPLE-RETIRED-LIST; the latter has no metadata (404).
	IPEdgeLists = "192.0.2.3"
	// IPQuirkyTypes answers a report with string scores and a comma-joined
	// string in place of the badip.blacklists array.
	IPQuirkyTypes = "192.0.2.4"
	// IPServerError answers 500 with an HTML body.
	IPServerError = "192.0.2.5"
	// IPNotFound answers 404 "Resource not found".
	IPNotFound = "192.0.2.6"
	// IPDuplicateLists answers a report in which list ids appear twice.
	IPDuplicateLists = "192.0.2.7"
	// IPSparse answers a report with missing and null parts.
	IPSparse = "192.0.2.8"
)

// RetiredListID is the list id that IPEdgeLists reports and whose metadata
// answers 404.
const RetiredListID = "EXAMPLE-RETIRED-LIST"

// reportFiles maps the canonical form of each fixed address to its report.
var reportFiles = map[string]string{
	"198.51.100.7":   "data/reports/ip-report_clean_198.51.100.7_score0.json",
	"192.0.2.44":     "data/reports/ip-report_suspicious_192.0.2.44_score-1.json",
	"198.51.100.23":  "data/reports/ip-report_suspicious_198.51.100.23_score-2.json",
	"203.0.113.66":   "data/reports/ip-report_malicious_203.0.113.66_score-3.json",
	"2001:db8::5":    "data/reports/ip-report_clean_2001-db8--5_ipv6_UNVERIFIED.json",
	IPPositiveScore:  "data/special/192.0.2.1_positive-score.json",
	IPScoreMinus7:    "data/special/192.0.2.2_score-7.json",
	IPEdgeLists:      "data/special/192.0.2.3_edge-and-unknown-list.json",
	IPQuirkyTypes:    "data/special/192.0.2.4_quirky-types.json",
	IPDuplicateLists: "data/special/192.0.2.7_overlapping-list-ids.json",
	IPSparse:         "data/special/192.0.2.8_sparse.json",
}

// serverErrorPage is the body IPServerError answers with, in the style of a
// reverse proxy in front of a failing back end.
const serverErrorPage = "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n" +
	"<body>\r\n<center><h1>500 Internal Server Error</h1></center>\r\n" +
	"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// listTypes are the metadata list types the simulator knows.
var listTypes = []string{"badip", "baddomain"}

// dataset is the parsed, immutable content of the embedded files.
type dataset struct {
	health  []byte                       // GET /v2.0/ip
	reports map[string][]byte            // canonical IP → compact report
	lists   map[string]map[string][]byte // type → id → compact list object
	index   map[string][]byte            // type → object keyed by id
}

// fixtures parses the embedded files on first use, once per process, so that
// importing the package costs nothing until a request needs them.
var fixtures = sync.OnceValues(func() (*dataset, error) { return load(files) })

func load(fsys fs.FS) (*dataset, error) {
	d := &dataset{
		reports: make(map[string][]byte, len(reportFiles)),
		lists:   make(map[string]map[string][]byte, len(listTypes)),
		index:   make(map[string][]byte, len(listTypes)),
	}
	var err error
	if d.health, err = readCompact(fsys, "data/health.json"); err != nil {
		return nil, err
	}
	for ip, name := range reportFiles {
		if d.reports[ip], err = readCompact(fsys, name); err != nil {
			return nil, err
		}
	}
	for _, typ := range listTypes {
		dir := "data/metadata/" + typ
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return nil, err
		}
		byID := make(map[string][]byte, len(entries))
		all := make(map[string]json.RawMessage, len(entries))
		for _, e := range entries {
			id, ok := strings.CutSuffix(e.Name(), ".json")
			if !ok || e.IsDir() {
				continue
			}
			b, err := readCompact(fsys, path.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			var obj map[string]string
			if err := json.Unmarshal(b, &obj); err != nil {
				return nil, fmt.Errorf("%s/%s: list values must be strings: %w", dir, e.Name(), err)
			}
			if obj["type"] != typ {
				return nil, fmt.Errorf("%s/%s: type %q, want %q", dir, e.Name(), obj["type"], typ)
			}
			byID[id] = b
			all[id] = b
		}
		d.lists[typ] = byID
		if d.index[typ], err = json.Marshal(all); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// readCompact reads a JSON file and returns it without insignificant
// whitespace, failing if it is not valid JSON.
func readCompact(fsys fs.FS, name string) ([]byte, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// KnownIPs returns the addresses that answer with a hand-made report (status
// 200), in string order. It leaves out IPServerError and IPNotFound, which
// answer with errors instead of reports.
func KnownIPs() []string {
	ips := make([]string, 0, len(reportFiles))
	for ip := range reportFiles {
		ips = append(ips, ip)
	}
	slices.Sort(ips)
	return ips
}
