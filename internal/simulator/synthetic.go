package simulator

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"
)

// List ids that synthetic reports draw from; each has an embedded metadata
// file of the matching type.
var (
	syntheticIPLists     = []string{"FAIL2BAN-SSH", "STOPFORUMSPAM-30", "NIXSPAM-IP", "UCEPROTECT-LEVEL1", "QUARANTINE-IP"}
	syntheticDomainLists = []string{"SBLACK-HOSTS-DOMAINS", "MALWAREDOMAINS-COM", "ISC-DOMAINS-HIGH"}
)

// egressIP is the relay's address as the service sees it
// (baddomain.source_ip.address), the same in every fixture.
const egressIP = "192.0.2.200"

// historyEpochMillis is the newest possible history timestamp of a synthetic
// report: 2020-09-29T09:00:00Z, when the service was live.
const historyEpochMillis int64 = 1601370000000

const (
	hourMillis = int64(3600 * 1000)
	dayMillis  = 24 * hourMillis
)

// Wire shapes of a full IP report, in the field order of the fixtures.
type (
	report struct {
		FullIP fullIP `json:"fullip"`
	}
	fullIP struct {
		Geo       geo       `json:"geo"`
		Hostname  string    `json:"hostname"`
		BadDomain badDomain `json:"baddomain"`
		BadIP     badIP     `json:"badip"`
		History   history   `json:"history"`
		Score     int       `json:"score"`
		Whois     any       `json:"whois"` // whois, {} or []
	}
	geo struct {
		Address            string            `json:"address"`
		Hostname           string            `json:"hostname"`
		Country            string            `json:"country"`
		CountryNames       map[string]string `json:"country_names"`
		CountryGeonameID   int               `json:"country_geoname_id"`
		Continent          string            `json:"continent"`
		ContinentNames     map[string]string `json:"continent_names"`
		ContinentGeonameID int               `json:"continent_geoname_id"`
		Latitude           any               `json:"latitude"` // float64, or int 0 as in the live capture
		Longitude          any               `json:"longitude"`
		TimeZone           string            `json:"time_zone"`
		Region             string            `json:"region"`
		RegionNames        map[string]string `json:"region_names"`
		RegionGeonameID    int               `json:"region_geoname_id"`
		City               string            `json:"city"`
		CityNames          map[string]string `json:"city_names"`
		CityGeonameID      int               `json:"city_geoname_id"`
		AccuracyRadius     int               `json:"accuracy_radius"`
		Postal             string            `json:"postal"`
		AS                 asv2              `json:"as"`
	}
	asv2 struct {
		Name           string `json:"name"`
		Country        string `json:"country"`
		ASNRegistry    string `json:"asn_registry"`
		ASNDate        string `json:"asn_date"`
		ASNCountryCode string `json:"asn_country_code"`
		ASNDescription string `json:"asn_description"`
		Networks       any    `json:"networks"`    // repr string or []string
		NetworksV6     any    `json:"networks_v6"` // repr string or []asNetwork
		NetworksV4     any    `json:"networks_v4"`
		ASN            string `json:"asn"`
	}
	asNetwork struct {
		CIDR        string  `json:"cidr"`
		Description string  `json:"description"`
		Maintainer  string  `json:"maintainer"`
		Updated     *string `json:"updated"`
	}
	badDomain struct {
		Domain   domainCheck `json:"domain"`
		IP       domainIP    `json:"ip"`
		SourceIP sourceIP    `json:"source_ip"`
		Score    int         `json:"score"`
	}
	domainCheck struct {
		Blacklist   []string `json:"blacklist"`
		BlacklistMX []string `json:"blacklist_mx"`
		BlacklistNS []string `json:"blacklist_ns"`
		MX          []string `json:"mx"`
		NS          []string `json:"ns"`
		Score       int      `json:"score"`
	}
	domainIP struct {
		Address   string `json:"address"`
		Blacklist string `json:"blacklist"` // a string, unlike source_ip.blacklist
		Score     int    `json:"score"`
	}
	sourceIP struct {
		Address   string   `json:"address"`
		Blacklist []string `json:"blacklist"`
		Score     int      `json:"score"`
	}
	badIP struct {
		Score      int      `json:"score"`
		Blacklists []string `json:"blacklists"`
	}
	history struct {
		Score    int        `json:"score"`
		Activity []activity `json:"activity"`
	}
	activity struct {
		IP              string `json:"ip"`
		Timestamp       int64  `json:"timestamp"` // milliseconds
		Command         string `json:"command"`   // "add" or "rem"
		Blacklists      string `json:"blacklists"`
		BlacklistChange string `json:"blacklist_change"`
	}
	whois struct {
		ASNRegistry    string                    `json:"asn_registry"`
		ASN            string                    `json:"asn"`
		ASNCIDR        string                    `json:"asn_cidr"`
		ASNCountryCode string                    `json:"asn_country_code"`
		ASNDate        string                    `json:"asn_date"`
		ASNDescription string                    `json:"asn_description"`
		Query          string                    `json:"query"`
		Network        whoisNetwork              `json:"network"`
		Entities       []string                  `json:"entities"`
		Objects        map[string]map[string]any `json:"objects"`
	}
	whoisNetwork struct {
		Handle       string              `json:"handle"`
		Remarks      []map[string]string `json:"remarks"`
		Notices      []map[string]string `json:"notices"`
		Links        []string            `json:"links"`
		Events       []map[string]string `json:"events"`
		StartAddress string              `json:"start_address"`
		EndAddress   string              `json:"end_address"`
		CIDR         string              `json:"cidr"`
		IPVersion    string              `json:"ip_version"`
		Type         string              `json:"type"`
		Name         string              `json:"name"`
		Country      string              `json:"country"`
		ParentHandle string              `json:"parent_handle"`
	}
)

// place is one geolocation a synthetic address can get.
type place struct {
	cc, country       string
	lang, localName   string // local language code and country name, "" if none
	countryID         int
	continent         string
	tz                string
	region            string
	regionID          int
	city              string
	cityID            int
	lat, lon          float64
	postal, registry  string
	rdapBase, asnDate string
}

var places = []place{
	{"NL", "Netherlands", "nl", "Nederland", 2750405, "EU", "Europe/Amsterdam", "North Holland", 2749879, "Amsterdam", 2759794, 52.3759, 4.8975, "1012", "ripencc", "https://rdap.db.ripe.net/ip/", "2004-03-15"},
	{"DE", "Germany", "de", "Deutschland", 2921044, "EU", "Europe/Berlin", "Land Berlin", 2950157, "Berlin", 2950159, 52.5244, 13.4105, "10117", "ripencc", "https://rdap.db.ripe.net/ip/", "2012-01-20"},
	{"US", "United States", "", "", 6252001, "NA", "America/New_York", "Virginia", 6254928, "Ashburn", 4744870, 39.0438, -77.4874, "20149", "arin", "https://rdap.arin.net/registry/ip/", "2010-02-11"},
	{"BR", "Brazil", "pt-BR", "Brasil", 3469034, "SA", "America/Sao_Paulo", "São Paulo", 3448433, "São Paulo", 3448439, -23.5475, -46.6361, "01000", "lacnic", "https://rdap.lacnic.net/rdap/ip/", "2011-06-01"},
	{"UA", "Ukraine", "uk", "Україна", 690791, "EU", "Europe/Kiev", "Kyiv City", 703447, "Kyiv", 703448, 50.4547, 30.5238, "01001", "ripencc", "https://rdap.db.ripe.net/ip/", "2002-05-22"},
	{"RU", "Russia", "ru", "Россия", 2017370, "EU", "Europe/Moscow", "Moscow", 524894, "Moscow", 524901, 55.7386, 37.6068, "101000", "ripencc", "https://rdap.db.ripe.net/ip/", "2009-10-08"},
	{"FR", "France", "fr", "France", 3017382, "EU", "Europe/Paris", "Île-de-France", 3012874, "Paris", 2988507, 48.8534, 2.3488, "75001", "ripencc", "https://rdap.db.ripe.net/ip/", "2001-09-03"},
	{"GB", "United Kingdom", "", "", 2635167, "EU", "Europe/London", "England", 6269131, "London", 2643743, 51.5085, -0.1257, "EC1A", "ripencc", "https://rdap.db.ripe.net/ip/", "2003-07-30"},
	{"JP", "Japan", "ja", "日本", 1861060, "AS", "Asia/Tokyo", "Tokyo", 1850144, "Tokyo", 1850147, 35.6895, 139.6917, "100-0001", "apnic", "https://rdap.apnic.net/ip/", "2006-11-14"},
	{"IN", "India", "hi", "भारत", 1269750, "AS", "Asia/Kolkata", "Maharashtra", 1264418, "Mumbai", 1275339, 19.0728, 72.8826, "400001", "apnic", "https://rdap.apnic.net/ip/", "2008-04-02"},
	{"CN", "China", "zh-CN", "中国", 1814991, "AS", "Asia/Shanghai", "Beijing", 2038349, "Beijing", 1816670, 39.9075, 116.3972, "100000", "apnic", "https://rdap.apnic.net/ip/", "2005-12-19"},
}

var continents = map[string]struct {
	name string
	id   int
}{
	"EU": {"Europe", 6255148},
	"NA": {"North America", 6255149},
	"SA": {"South America", 6255150},
	"AS": {"Asia", 6255147},
}

// provider is the kind of network a synthetic address belongs to.
type provider struct {
	label, org, host string
}

var providers = []provider{
	{"cable", "Example Cable", "cpe"},
	{"dsl", "Example Access", "dsl"},
	{"vps", "Example Hosting", "vps"},
	{"mobile", "Example Mobile", "mob"},
	{"fiber", "Example Fiber", "ftth"},
}

// syntheticJSON returns the encoded synthetic report of addr.
func syntheticJSON(addr netip.Addr) []byte {
	b, err := json.Marshal(synthesize(addr))
	if err != nil { // only plain values; cannot happen
		panic("simulator: encoding synthetic report: " + err.Error())
	}
	return b
}

// synthesize builds the deterministic report of addr; see the package
// documentation for the rules it follows.
func synthesize(addr netip.Addr) report {
	ip := addr.String()
	h := fnv.New64a()
	h.Write([]byte(ip))
	r := rng(h.Sum64())

	pl := places[r.intn(len(places))]
	pv := providers[r.intn(len(providers))]
	// IPv4-mapped IPv6 addresses belong to their IPv4 network.
	bits, version, hostPct := 24, "v4", 75
	if !addr.Unmap().Is4() {
		bits, version, hostPct = 48, "v6", 40
	}
	prefix := netip.PrefixFrom(addr.Unmap(), bits).Masked()
	cidr := prefix.String()
	asn := fmt.Sprint(64496 + r.intn(16))
	asTag := "EXAMPLE-" + strings.ToUpper(pv.label) + "-" + pl.cc
	maintainer := "EXAMPLE-" + pl.cc + "-MNT"

	// Hostname and its domain check.
	hostname := ""
	if r.percent(hostPct) {
		label := strings.ReplaceAll(addr.Unmap().String(), ".", "-")
		if version == "v6" {
			label = fmt.Sprintf("h%08x", uint32(r.next()))
		}
		hostname = pv.host + "-" + label + "." + pv.label + ".example.net"
	}
	dom := domainCheck{Blacklist: []string{}, BlacklistMX: []string{}, BlacklistNS: []string{}, MX: []string{}, NS: []string{}}
	if hostname != "" {
		dom.MX = []string{"mx1." + pv.label + ".example.net", "mx2." + pv.label + ".example.net"}
		dom.NS = []string{"ns1.example.net.", "ns2.example.net."}
		for _, id := range r.pick(syntheticDomainLists, r.weighted(72, 20, 8)) {
			switch r.intn(3) {
			case 0:
				dom.Blacklist = append(dom.Blacklist, id)
			case 1:
				dom.BlacklistMX = append(dom.BlacklistMX, id)
			default:
				dom.BlacklistNS = append(dom.BlacklistNS, id)
			}
		}
	}
	if len(dom.Blacklist)+len(dom.BlacklistMX)+len(dom.BlacklistNS) > 0 {
		dom.Score = -1
	}

	// Current IP lists and the history that led to them.
	lists := r.pick(syntheticIPLists, r.weighted(58, 22, 12, 8))
	act := r.history(ip, lists)
	bad := badIP{Blacklists: lists}
	if len(lists) > 0 {
		bad.Score = -1
	}
	hist := history{Activity: act}
	if len(act) > 0 {
		hist.Score = -1
	}

	g := geo{
		Address:            ip,
		Hostname:           hostname,
		Country:            pl.cc,
		CountryNames:       names(pl.country, pl.lang, pl.localName),
		CountryGeonameID:   pl.countryID,
		Continent:          pl.continent,
		ContinentNames:     map[string]string{"en": continents[pl.continent].name},
		ContinentGeonameID: continents[pl.continent].id,
		Latitude:           pl.lat,
		Longitude:          pl.lon,
		TimeZone:           pl.tz,
		Region:             pl.region,
		RegionNames:        map[string]string{"en": pl.region},
		RegionGeonameID:    pl.regionID,
		City:               pl.city,
		CityNames:          map[string]string{"en": pl.city},
		CityGeonameID:      pl.cityID,
		AccuracyRadius:     []int{5, 20, 50, 100, 500}[r.intn(5)],
		Postal:             pl.postal,
		AS: asv2{
			Name:           asTag + "-AS " + pv.org + " " + pl.cc,
			Country:        pl.cc,
			ASNRegistry:    pl.registry,
			ASNDate:        pl.asnDate,
			ASNCountryCode: pl.cc,
			ASNDescription: asTag + "-AS, " + pl.cc,
			ASN:            asn,
		},
	}
	if r.percent(15) { // country-level accuracy only
		g.Region, g.RegionNames, g.RegionGeonameID = "", map[string]string{}, -1
		g.City, g.CityNames, g.CityGeonameID = "", map[string]string{}, -1
		g.Postal, g.AccuracyRadius = "", 1000
	}
	if r.percent(15) { // integer zeros, as in the live capture
		g.Latitude, g.Longitude = 0, 0
	}
	network := asNetwork{CIDR: cidr, Description: pv.org + " " + pv.label + " pool", Maintainer: maintainer}
	v4, v6 := []asNetwork{}, []asNetwork{}
	if version == "v4" {
		v4 = append(v4, network)
	} else {
		v6 = append(v6, network)
	}
	if r.percent(80) { // Python-repr strings, as the live API sent them
		g.AS.Networks = "['" + cidr + "']"
		g.AS.NetworksV4 = reprNetworks(v4)
		g.AS.NetworksV6 = reprNetworks(v6)
	} else { // JSON arrays, as the documentation shows them
		g.AS.Networks = []string{cidr}
		g.AS.NetworksV4 = v4
		g.AS.NetworksV6 = v6
	}

	var who any
	switch n := r.intn(100); {
	case n < 30:
		who = map[string]any{}
	case n < 45:
		who = []any{}
	default:
		handle := prefix.Addr().String() + " - " + lastAddr(prefix).String()
		who = whois{
			ASNRegistry:    pl.registry,
			ASN:            asn,
			ASNCIDR:        cidr,
			ASNCountryCode: pl.cc,
			ASNDate:        pl.asnDate,
			ASNDescription: g.AS.ASNDescription,
			Query:          ip,
			Network: whoisNetwork{
				Handle:  handle,
				Remarks: []map[string]string{{"description": pv.org + " " + pv.label + " customers"}},
				Notices: []map[string]string{
					{"title": "Filtered", "description": "This output has been filtered."},
					{"title": "Source", "description": "Objects returned came from source\n" + strings.ToUpper(pl.registry)},
				},
				Links:        []string{pl.rdapBase + ip},
				Events:       []map[string]string{{"action": "last changed", "timestamp": "2019-11-04T09:12:44Z"}},
				StartAddress: prefix.Addr().String(),
				EndAddress:   lastAddr(prefix).String(),
				CIDR:         cidr,
				IPVersion:    version,
				Type:         "ASSIGNED PA",
				Name:         asTag + "-NET",
				Country:      pl.cc,
				ParentHandle: handle,
			},
			Entities: []string{"EXMPL-ABUSE", maintainer},
			Objects: map[string]map[string]any{
				"EXMPL-ABUSE": {
					"handle": "EXMPL-ABUSE",
					"roles":  []string{"abuse"},
					"contact": map[string]any{
						"name":  "Abuse-C Role",
						"kind":  "group",
						"email": []map[string]string{{"type": "abuse", "value": "abuse@example.net"}},
					},
					"entities": []string{maintainer},
				},
				maintainer: {"handle": maintainer},
			},
		}
	}

	return report{FullIP: fullIP{
		Geo:      g,
		Hostname: hostname,
		BadDomain: badDomain{
			Domain:   dom,
			IP:       domainIP{Address: "", Blacklist: "", Score: 0},
			SourceIP: sourceIP{Address: egressIP, Blacklist: []string{}},
			Score:    dom.Score,
		},
		BadIP:   bad,
		History: hist,
		Score:   bad.Score + dom.Score + hist.Score,
		Whois:   who,
	}}
}

// history returns the activity of ip, newest first: an "add" for each list in
// current, possibly preceded by an add/rem pair of another list.
func (r *rng) history(ip string, current []string) []activity {
	type change struct{ command, list string }
	var changes []change // oldest first
	if len(current) == 0 {
		if r.percent(25) {
			id := syntheticIPLists[r.intn(len(syntheticIPLists))]
			changes = append(changes, change{"add", id}, change{"rem", id})
		}
	} else {
		if r.percent(30) {
			others := slices.DeleteFunc(slices.Clone(syntheticIPLists), func(id string) bool {
				return slices.Contains(current, id)
			})
			id := others[r.intn(len(others))]
			changes = append(changes, change{"add", id}, change{"rem", id})
		}
		for _, id := range current {
			changes = append(changes, change{"add", id})
		}
	}

	// Timestamps, from the newest backwards.
	stamps := make([]int64, len(changes))
	t := historyEpochMillis - r.int64n(3*dayMillis)
	for i := len(changes) - 1; i >= 0; i-- {
		stamps[i] = t
		t -= hourMillis + r.int64n(5*dayMillis)
	}

	out := make([]activity, len(changes))
	var set []string
	for i, c := range changes {
		if c.command == "add" {
			set = append(set, c.list)
		} else {
			set = slices.DeleteFunc(set, func(id string) bool { return id == c.list })
		}
		out[len(changes)-1-i] = activity{
			IP:              ip,
			Timestamp:       stamps[i],
			Command:         c.command,
			Blacklists:      strings.Join(set, ","),
			BlacklistChange: c.list,
		}
	}
	return out
}

// reprNetworks renders networks the way the live API did: as the Python repr
// of a list of dicts.
func reprNetworks(nets []asNetwork) string {
	parts := make([]string, len(nets))
	for i, n := range nets {
		parts[i] = fmt.Sprintf("{'cidr': '%s', 'description': '%s', 'maintainer': '%s', 'updated': None}",
			n.CIDR, n.Description, n.Maintainer)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// names returns a GeoNames-style map of language code to name.
func names(en, lang, local string) map[string]string {
	m := map[string]string{"en": en}
	if lang != "" {
		m[lang] = local
	}
	return m
}

// lastAddr returns the highest address in p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
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

// int64n returns a number in [0, n).
func (r *rng) int64n(n int64) int64 { return int64(r.next() % uint64(n)) }

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
