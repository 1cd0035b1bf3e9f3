package simulator

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"
)

// List ids that synthetic reports draw from; each has embedded metadata.
var (
	syntheticIPLists     = []string{"FAIL2BAN-SSH", "STOPFORUMSPAM-30", "NIXSPAM-IP", "UCEPROTECT-LEVEL1", "QUARANTINE-IP"}
	syntheticDomainLists = []string{"SBLACK-HOSTS-DOMAINS", "MALWAREDOMAINS-COM", "ISC-DOMAINS-HIGH"}
)

// providers are the kinds of network a synthetic hostname names.
var providers = []struct{ label, host string }{
	{"cable", "cpe"}, {"dsl", "dsl"}, {"vps", "vps"}, {"mobile", "mob"}, {"fiber", "ftth"},
}

// syntheticJSON returns the deterministic report of addr; the package
// documentation gives its rules.
func syntheticJSON(addr netip.Addr) []byte {
	ip := addr.String()
	h := fnv.New64a()
	h.Write([]byte(ip))
	r := rng(h.Sum64())

	// The first and third draws once chose the location and the AS number,
	// which reports no longer carry; they are still made so that every
	// address keeps the hostname and lists it always had.
	r.next()
	pv := providers[r.intn(len(providers))]
	r.next()
	// IPv4-mapped IPv6 addresses count as IPv4.
	v6, hostPct := false, 75
	if !addr.Unmap().Is4() {
		v6, hostPct = true, 40
	}

	// The parts of a full IP report that the relay reads, in the fixtures' order.
	var rep struct {
		FullIP struct {
			Hostname  string `json:"hostname"`
			BadDomain struct {
				Domain struct {
					Blacklist   []string `json:"blacklist"`
					BlacklistMX []string `json:"blacklist_mx"`
					BlacklistNS []string `json:"blacklist_ns"`
					Score       int      `json:"score"`
				} `json:"domain"`
				Score int `json:"score"`
			} `json:"baddomain"`
			BadIP struct {
				Score      int      `json:"score"`
				Blacklists []string `json:"blacklists"`
			} `json:"badip"`
			History struct {
				Score int `json:"score"`
			} `json:"history"`
			Score int `json:"score"`
		} `json:"fullip"`
	}
	f := &rep.FullIP

	// Hostname and its domain lists.
	if r.percent(hostPct) {
		label := strings.ReplaceAll(addr.Unmap().String(), ".", "-")
		if v6 {
			label = fmt.Sprintf("h%08x", uint32(r.next()))
		}
		f.Hostname = pv.host + "-" + label + "." + pv.label + ".example.net"
	}
	dom := &f.BadDomain.Domain
	dom.Blacklist, dom.BlacklistMX, dom.BlacklistNS = []string{}, []string{}, []string{}
	if f.Hostname != "" {
		for _, id := range r.pick(syntheticDomainLists, r.weighted(72, 20, 8)) {
			where := []*[]string{&dom.Blacklist, &dom.BlacklistMX, &dom.BlacklistNS}[r.intn(3)]
			*where = append(*where, id)
		}
	}
	if len(dom.Blacklist)+len(dom.BlacklistMX)+len(dom.BlacklistNS) > 0 {
		dom.Score, f.BadDomain.Score = -1, -1
	}

	// Current IP lists; the history score counts them, or an older entry.
	f.BadIP.Blacklists = r.pick(syntheticIPLists, r.weighted(58, 22, 12, 8))
	if len(f.BadIP.Blacklists) > 0 {
		f.BadIP.Score = -1
	}
	if len(f.BadIP.Blacklists) > 0 || r.percent(25) {
		f.History.Score = -1
	}
	f.Score = f.BadIP.Score + dom.Score + f.History.Score
	b, _ := json.Marshal(rep) // plain values: cannot fail
	return b
}

// rng is a SplitMix64 generator: small, fast and stable across Go releases,
// so synthetic reports never change between builds.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// percent reports true with probability p/100.
func (r *rng) percent(p int) bool { return r.intn(100) < p }

// weighted returns i with probability weights[i]/sum(weights).
func (r *rng) weighted(weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.intn(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// pick returns n distinct elements of pool in random order (never nil).
func (r *rng) pick(pool []string, n int) []string {
	p := slices.Clone(pool)
	n = min(n, len(p))
	for i := range n {
		j := i + r.intn(len(p)-i)
		p[i], p[j] = p[j], p[i]
	}
	return p[:n:n]
}
