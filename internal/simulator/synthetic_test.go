package simulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/simulator"
)

// syntheticReport is a synthetic report: exactly the parts the relay reads.
type syntheticReport struct {
	FullIP struct {
		Score    int    `json:"score"`
		Hostname string `json:"hostname"`
		BadIP    struct {
			Score      int      `json:"score"`
			Blacklists []string `json:"blacklists"`
		} `json:"badip"`
		BadDomain struct {
			Score  int `json:"score"`
			Domain struct {
				Score       int      `json:"score"`
				Blacklist   []string `json:"blacklist"`
				BlacklistMX []string `json:"blacklist_mx"`
				BlacklistNS []string `json:"blacklist_ns"`
			} `json:"domain"`
		} `json:"baddomain"`
		History struct {
			Score int `json:"score"`
		} `json:"history"`
	} `json:"fullip"`
}

func syntheticAddrs() []string {
	var ips []string
	for i := range 300 {
		ips = append(ips, fmt.Sprintf("10.%d.%d.%d", i%7, i/7, (i*37)%256))
	}
	for i := range 60 {
		ips = append(ips, fmt.Sprintf("2001:db8:%x::%x", 0x100+i, i*13+1))
	}
	return append(ips, "0.0.0.0", "255.255.255.255", "::", "::ffff:10.9.8.7", "192.0.2.200", "203.0.113.1")
}

func TestSyntheticReports(t *testing.T) {
	_, srv := newServer(t, simulator.Options{})
	_, other := newServer(t, simulator.Options{})

	metadata := map[string]map[string]map[string]string{}
	for _, typ := range []string{"badip", "baddomain"} {
		metadata[typ] = decode[map[string]map[string]string](t, get(t, srv, "/metadata/"+typ+"/lists", ""))
	}
	hasMeta := func(typ, id string) bool {
		_, ok := metadata[typ][id]
		return ok
	}

	scores := map[int]int{}
	var withHostname, withDomainLists, historyOnly int
	for _, ip := range syntheticAddrs() {
		a := get(t, srv, "/v2.0/ip/"+ip, simulator.DemoKey)
		if a.status != 200 || a.ctype != appJSON {
			t.Fatalf("%s: status %d %q %s", ip, a.status, a.ctype, a.body)
		}
		// Deterministic: the same bytes again, and from another Simulator.
		if b := get(t, other, "/v2.0/ip/"+ip, simulator.DemoKey); !bytes.Equal(a.body, b.body) {
			t.Errorf("%s: reports differ between simulators", ip)
		}
		if b := get(t, srv, "/v2.0/ip/"+ip+"?items=100", simulator.DemoKey); !bytes.Equal(a.body, b.body) {
			t.Errorf("%s: reports differ between calls", ip)
		}

		dec := json.NewDecoder(bytes.NewReader(a.body))
		dec.DisallowUnknownFields() // nothing the relay does not read
		var rep syntheticReport
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("%s: %v in %s", ip, err, a.body)
		}
		r := rep.FullIP

		// Sub-scores are -1 exactly when their part has lists.
		bad, dom, hist := r.BadIP, r.BadDomain, r.History
		domainIDs := slices.Concat(dom.Domain.Blacklist, dom.Domain.BlacklistMX, dom.Domain.BlacklistNS)
		checkSubScore(t, ip, "badip", bad.Score, len(bad.Blacklists))
		checkSubScore(t, ip, "baddomain", dom.Score, len(domainIDs))
		checkSubScore(t, ip, "baddomain.domain", dom.Domain.Score, len(domainIDs))
		// History: -1 for every address on a list now, and for some that were.
		if hist.Score != -1 && (len(bad.Blacklists) > 0 || hist.Score != 0) {
			t.Errorf("%s: history score %d with %d badip lists", ip, hist.Score, len(bad.Blacklists))
		}
		if hist.Score == -1 && len(bad.Blacklists) == 0 {
			historyOnly++
		}
		if sum := bad.Score + dom.Score + hist.Score; r.Score != sum {
			t.Errorf("%s: score %d, sub-scores sum to %d", ip, r.Score, sum)
		}
		scores[r.Score]++

		// Lists: 0–3 distinct ids, each with metadata of the right type.
		if len(bad.Blacklists) > 3 || len(domainIDs) > 3 {
			t.Errorf("%s: %d IP lists, %d domain lists", ip, len(bad.Blacklists), len(domainIDs))
		}
		if bad.Blacklists == nil || dom.Domain.Blacklist == nil || dom.Domain.BlacklistMX == nil || dom.Domain.BlacklistNS == nil {
			t.Errorf("%s: a list array is null", ip)
		}
		if hasDuplicates(bad.Blacklists) || hasDuplicates(domainIDs) {
			t.Errorf("%s: repeated list ids %v %v", ip, bad.Blacklists, domainIDs)
		}
		for _, id := range bad.Blacklists {
			if !hasMeta("badip", id) {
				t.Errorf("%s: badip list %s has no metadata", ip, id)
			}
		}
		for _, id := range domainIDs {
			if !hasMeta("baddomain", id) {
				t.Errorf("%s: domain list %s has no metadata", ip, id)
			}
		}

		// Hostname under example.net; domain lists only with a hostname.
		if r.Hostname != "" {
			withHostname++
			if !strings.HasSuffix(r.Hostname, ".example.net") || strings.Trim(r.Hostname, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
				t.Errorf("%s: hostname %q is not a name under example.net", ip, r.Hostname)
			}
		} else if len(domainIDs) > 0 {
			t.Errorf("%s: domain lists without a hostname", ip)
		}
		if len(domainIDs) > 0 {
			withDomainLists++
		}
	}

	// A realistic mix for benchmarks.
	for _, s := range []int{0, -1, -2, -3} {
		if scores[s] < 5 {
			t.Errorf("score %d occurs %d times; distribution %v", s, scores[s], scores)
		}
	}
	if withHostname == 0 || withDomainLists == 0 || historyOnly == 0 {
		t.Errorf("hostname %d, domain lists %d, history only %d", withHostname, withDomainLists, historyOnly)
	}
	t.Logf("scores %v; hostnames %d; domain lists %d; history only %d", scores, withHostname, withDomainLists, historyOnly)
}

func checkSubScore(t *testing.T, ip, part string, score, lists int) {
	t.Helper()
	if want := map[bool]int{true: -1, false: 0}[lists > 0]; score != want {
		t.Errorf("%s: %s score %d with %d lists, want %d", ip, part, score, lists, want)
	}
}

func hasDuplicates(ids []string) bool {
	s := slices.Clone(ids)
	slices.Sort(s)
	return len(slices.Compact(s)) != len(ids)
}
