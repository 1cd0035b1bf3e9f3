package simulator

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
)

//go:embed data
var files embed.FS

// Edge-case addresses and what they answer.
const (
	IPPositiveScore  = "192.0.2.1" // fullip.score +2
	IPScoreMinus7    = "192.0.2.2" // fullip.score -7
	IPEdgeLists      = "192.0.2.3" // EXAMPLE-EDGE-LIST and RetiredListID
	IPQuirkyTypes    = "192.0.2.4" // string scores, comma-joined badip.blacklists
	IPServerError    = "192.0.2.5" // 500 with an HTML body
	IPNotFound       = "192.0.2.6" // 404 "Resource not found"
	IPDuplicateLists = "192.0.2.7" // list ids that appear twice
	IPSparse         = "192.0.2.8" // missing and null parts

	// RetiredListID is listed by IPEdgeLists; its metadata answers 404.
	RetiredListID = "EXAMPLE-RETIRED-LIST"
)

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

// serverErrorPage is IPServerError's body, as a reverse proxy sends it.
const serverErrorPage = "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n" +
	"<body>\r\n<center><h1>500 Internal Server Error</h1></center>\r\n" +
	"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

var listTypes = []string{"badip", "baddomain"}

// dataset is the parsed, immutable content of the embedded files.
type dataset struct {
	health  []byte                                // GET /v2.0/ip
	reports map[string][]byte                     // canonical IP → compact report
	lists   map[string]map[string]json.RawMessage // type → id → compact list object
	index   map[string][]byte                     // type → object keyed by id
}

// fixtures parses the embedded files once, on first use.
var fixtures = sync.OnceValues(func() (*dataset, error) { return load(files) })

func load(fsys fs.FS) (*dataset, error) {
	d := &dataset{
		reports: make(map[string][]byte, len(reportFiles)),
		lists:   make(map[string]map[string]json.RawMessage, len(listTypes)),
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
		byID := make(map[string]json.RawMessage, len(entries))
		for _, e := range entries {
			if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
				if byID[id], err = readCompact(fsys, path.Join(dir, e.Name())); err != nil {
					return nil, err
				}
			}
		}
		d.lists[typ] = byID
		if d.index[typ], err = json.Marshal(byID); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// readCompact reads a JSON file without insignificant whitespace.
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
