package simulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/simulator"
)

// syntheticReport is the part of a synthetic report the checks read. Fields
// that the service sends with unstable types stay raw.
type syntheticReport struct {
	FullIP struct {
		Score    int    `json:"score"`
		Hostname string `json:"hostname"`
		Geo      struct {
			Address  string `json:"address"`
			Hostname string `json:"hostname"`
			AS       struct {
				ASN        string          `json:"asn"`
				Networks   json.RawMessage `json:"networks"`
				NetworksV4 json.RawMessage `json:"networks_v4"`
				NetworksV6 json.RawMessage `json:"networks_v6"`
			} `json:"as"`
		} `json:"geo"`
		BadIP struct {
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
			IP struct {
				Blacklist json.RawMessage `json:"blacklist"`
			} `json:"ip"`
			SourceIP struct {
				Blacklist json.RawMessage `json:"blacklist"`
			} `json:"source_ip"`
		} `json:"baddomain"`
		History struct {
			Score    int `json:"score"`
			Activity []struct {
				IP              string `json:"ip"`
				Timestamp       int64  `json:"timestamp"`
				Command         string `json:"command"`
				Blacklists      string `json:"blacklists"`
				BlacklistChange string `json:"blacklist_change"`
			} `json:"activity"`
		} `json:"history"`
		Whois json.RawMessage `json:"whois"`
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
	var withHostname, withDomainLists, reprNetworks, arrayNetworks int
	whoisKinds := map[string]int{}
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

		r := decode[syntheticReport](t, a).FullIP
		canon := netip.MustParseAddr(ip).String()
		if r.Geo.Address != canon {
			t.Errorf("%s: geo.address %q", ip, r.Geo.Address)
		}

		// Sub-scores are -1 exactly when their part has lists.
		bad, dom, hist := r.BadIP, r.BadDomain, r.History
		domainIDs := slices.Concat(dom.Domain.Blacklist, dom.Domain.BlacklistMX, dom.Domain.BlacklistNS)
		checkSubScore(t, ip, "badip", bad.Score, len(bad.Blacklists))
		checkSubScore(t, ip, "baddomain", dom.Score, len(domainIDs))
		checkSubScore(t, ip, "baddomain.domain", dom.Domain.Score, len(domainIDs))
		checkSubScore(t, ip, "history", hist.Score, len(hist.Activity))
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
		if r.Hostname != r.Geo.Hostname {
			t.Errorf("%s: hostname %q, geo.hostname %q", ip, r.Hostname, r.Geo.Hostname)
		}
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

		// History: newest first, ms timestamps, every current list added.
		added := map[string]bool{}
		for i, e := range hist.Activity {
			if e.IP != canon || (e.Command != "add" && e.Command != "rem") {
				t.Errorf("%s: activity %+v", ip, e)
			}
			if e.Timestamp < 1e12 || e.Timestamp >= 1e13 {
				t.Errorf("%s: timestamp %d is not in milliseconds", ip, e.Timestamp)
			}
			if i > 0 && e.Timestamp >= hist.Activity[i-1].Timestamp {
				t.Errorf("%s: activity not newest first", ip)
			}
			if !hasMeta("badip", e.BlacklistChange) {
				t.Errorf("%s: history list %s has no metadata", ip, e.BlacklistChange)
			}
			after := strings.Split(e.Blacklists, ",")
			if e.Blacklists == "" {
				after = nil
			}
			if slices.Contains(after, e.BlacklistChange) != (e.Command == "add") {
				t.Errorf("%s: blacklists %q after %s of %s", ip, e.Blacklists, e.Command, e.BlacklistChange)
			}
			if e.Command == "add" {
				added[e.BlacklistChange] = true
			}
		}
		if len(hist.Activity) > 0 {
			newest := strings.Split(hist.Activity[0].Blacklists, ",")
			if hist.Activity[0].Blacklists == "" {
				newest = nil
			}
			if !slices.Equal(newest, bad.Blacklists) && !(len(newest) == 0 && len(bad.Blacklists) == 0) {
				t.Errorf("%s: newest history set %v, badip lists %v", ip, newest, bad.Blacklists)
			}
		}
		for _, id := range bad.Blacklists {
			if !added[id] {
				t.Errorf("%s: list %s has no add entry", ip, id)
			}
		}

		// Quirks kept from the live API.
		if string(dom.IP.Blacklist) != `""` || string(dom.SourceIP.Blacklist) != `[]` {
			t.Errorf("%s: baddomain ip/source_ip blacklist %s / %s", ip, dom.IP.Blacklist, dom.SourceIP.Blacklist)
		}
		switch r.Geo.AS.Networks[0] {
		case '"':
			reprNetworks++
			var s string
			if err := json.Unmarshal(r.Geo.AS.NetworksV4, &s); err != nil {
				t.Errorf("%s: networks_v4 is not a string: %v", ip, err)
			}
			if !strings.HasPrefix(s, "[") || strings.Contains(s, `"`) {
				t.Errorf("%s: networks_v4 repr %q", ip, s)
			}
		case '[':
			arrayNetworks++
		default:
			t.Errorf("%s: networks %s", ip, r.Geo.AS.Networks)
		}
		switch w := string(r.Whois); {
		case w == "{}" || w == "[]":
			whoisKinds[w]++
		case strings.HasPrefix(w, "{"):
			whoisKinds["object"]++
		default:
			t.Errorf("%s: whois %s", ip, w)
		}
		if asn := r.Geo.AS.ASN; asn < "64496" || asn > "64511" {
			t.Errorf("%s: ASN %s outside the documentation range", ip, asn)
		}
	}

	// A realistic mix for benchmarks.
	for _, s := range []int{0, -1, -2, -3} {
		if scores[s] < 5 {
			t.Errorf("score %d occurs %d times; distribution %v", s, scores[s], scores)
		}
	}
	if withHostname == 0 || withDomainLists == 0 || reprNetworks == 0 || arrayNetworks == 0 || len(whoisKinds) != 3 {
		t.Errorf("hostname %d, domain lists %d, repr %d, arrays %d, whois %v",
			withHostname, withDomainLists, reprNetworks, arrayNetworks, whoisKinds)
	}
	t.Logf("scores %v; hostnames %d; domain lists %d; whois %v", scores, withHostname, withDomainLists, whoisKinds)
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
