package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

// randomIPs returns n addresses the simulator reports on synthetically,
// from the whole IPv4 space so that report caches keep meeting new ones.
func randomIPs(rng *rand.Rand, n int) []string {
	ips := make([]string, n)
	for i := range ips {
		ips[i] = fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(222), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
	}
	return ips
}

// observables renders (type, value) pairs as a request body.
func observables(pairs ...string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":%q,"value":%q}`, pairs[i], pairs[i+1])
	}
	b.WriteByte(']')
	return b.String()
}

func ipPairs(ips ...string) []string {
	var pairs []string
	for _, ip := range ips {
		pairs = append(pairs, "ip", ip)
	}
	return pairs
}

// fixed returns a body maker for a constant body.
func fixed(s string) func(*rand.Rand) string { return func(*rand.Rand) string { return s } }

// Request bodies the mix reuses.
var (
	thousandDuplicates = "[" + strings.TrimSuffix(strings.Repeat(`{"type":"ip","value":"192.0.2.44"},`, 1001), ",") + "]"
	overTheCap         = `[{"type":"domain","value":"` + strings.Repeat("x", 1<<20) + `"}]`
	deepNesting        = strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
)

// mix is the rotation every worker goes through, starting at its own
// offset: about two thirds valid lookups (some hitting the simulator's
// faults), one third invalid requests of every kind. base is the relay's
// URL, good and forged are Authorization values.
func mix(base, good, forged string) []weighted {
	const post, observe, deliberate = http.MethodPost, "/observe/observables", "/deliberate/observables"
	g, f := http.Header{"Authorization": {good}}, http.Header{"Authorization": {forged}}
	one := fixed(observables("ip", "198.51.100.7"))
	return []weighted{
		{6, kind{name: "observe synthetic", want: `"verdicts"`, method: post, url: base + observe, header: g, status: 200,
			body: func(rng *rand.Rand) string { return observables(ipPairs(randomIPs(rng, 3)...)...) }}},
		{3, kind{name: "observe with faults", want: `Unexpected response from Auth0 Signals: HTTP 500 Internal Server Error`, method: post, url: base + observe, header: g, status: 200,
			body: func(rng *rand.Rand) string {
				return observables(append(ipPairs(randomIPs(rng, 1)[0], "192.0.2.5", "192.0.2.6", "192.0.2.3", "192.0.2.4",
					"192.0.2.7", "203.0.113.66"), "ipv6", "2001:db8::5", "domain", "example.net")...)
			}}},
		{4, kind{name: "deliberate synthetic", want: `"verdicts"`, method: post, url: base + deliberate, header: g, status: 200,
			body: func(rng *rand.Rand) string { return observables(ipPairs(randomIPs(rng, 5)...)...) }}},
		{1, kind{name: "deliberate 500 upstream", want: `"code":"internal server error"`, method: post, url: base + deliberate, header: g, status: 200,
			body: fixed(observables("ip", "192.0.2.5", "ip", "198.51.100.7"))}},
		{1, kind{name: "refer", want: `https://auth0.com/signals/ip/`, method: post, url: base + "/refer/observables", header: g, status: 200,
			body: func(rng *rand.Rand) string { return observables(ipPairs(randomIPs(rng, 4)...)...) }}},
		{1, kind{name: "health", want: `{"data":{"status":"ok"}}`, method: post, url: base + "/health", header: g, status: 200, body: fixed("")}},
		{1, kind{name: "respond", want: `{"data":[]}`, method: post, url: base + "/respond/observables", header: g, status: 200, body: one}},
		{1, kind{name: "version", want: `"version"`, method: post, url: base + "/version", status: 200, body: fixed("")}},
		{1, kind{name: "watchdog", want: `{"data":"soak"}`, method: http.MethodGet, url: base + "/watchdog", header: http.Header{"Health-Check": {"soak"}},
			status: 200, body: fixed("")}},

		{1, kind{name: "no token", want: `Authorization failed: Authorization header is missing`, method: post, url: base + observe, status: 200, body: one}},
		{1, kind{name: "forged token", want: `Authorization failed: Failed to decode JWT with provided key`, method: post, url: base + deliberate, header: f, status: 200, body: one}},
		{1, kind{name: "empty body", want: `The request body is empty`, method: post, url: base + observe, header: g, status: 200, body: fixed("")}},
		{1, kind{name: "null body", want: `got null`, method: post, url: base + observe, header: g, status: 200, body: fixed("null")}},
		{1, kind{name: "truncated JSON", want: `is not valid JSON`, method: post, url: base + deliberate, header: g, status: 200,
			body: fixed(`[{"type":"ip","value":"198.51.`)}},
		{1, kind{name: "duplicate keys", want: `appears more than once`, method: post, url: base + observe, header: g, status: 200,
			body: fixed(`[{"type":"ip","value":"198.51.100.7","value":"192.0.2.5"}]`)}},
		{1, kind{name: "invalid UTF-8", want: `not valid UTF-8`, method: post, url: base + observe, header: g, status: 200,
			body: fixed("[{\"type\":\"ip\",\"value\":\"\xff\xfe\"}]")}},
		{1, kind{name: "hostile values", want: `{"data":{}}`, method: post, url: base + observe, header: g, status: 200,
			body: fixed(observables("ip", "192.0.2.44\r\nX-Injected: 1", "ip", "../../metadata/badip/lists/X", "ipv6", "fe80::1%eth0",
				"ip", "192.0.2.044", "ip", "192.0.2.44:80"))}},
		{1, kind{name: "1,001 duplicates", want: `{"data":{"verdicts":{"count":1,`, method: post, url: base + deliberate, header: g, status: 200,
			body: fixed(thousandDuplicates)}},
		{1, kind{name: "deep nesting", want: `nests deeper than 32 levels`, method: post, url: base + observe, header: g, status: 200, body: fixed(deepNesting)}},
		{1, kind{name: "body over the cap", want: `larger than 1048576 bytes`, method: post, url: base + "/refer/observables", header: g, status: 200,
			body: fixed(overTheCap)}},
		{1, kind{name: "unknown path", method: post, url: base + "/etc/passwd", header: g, status: 404, body: fixed("")}},
		{1, kind{name: "wrong method", method: http.MethodGet, url: base + observe, header: g, status: 405, body: fixed("")}},
	}
}

// weighted is a kind and how many times it appears in one rotation.
type weighted struct {
	n int
	kind
}

// rotation expands the mix by weight into the order workers follow.
func rotation(base, good, forged string) []kind {
	var r []kind
	for _, w := range mix(base, good, forged) {
		for range w.n {
			r = append(r, w.kind)
		}
	}
	return r
}

// TestMixIsValidAndInvalid checks that the rotation holds valid lookups,
// the simulator's fault addresses and invalid requests, and that every body
// maker works.
func TestMixIsValidAndInvalid(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	var bodies strings.Builder
	var non200, withWant, kinds int
	for _, k := range rotation("http://relay", "Bearer good", "Bearer forged") {
		bodies.WriteString(k.body(rng))
		if k.status != 200 {
			non200++
		}
		if k.want != "" {
			withWant++
		}
		kinds++
	}
	all := bodies.String()
	for _, want := range []string{"192.0.2.5", "192.0.2.6", `"value":"198.51.100.7","value"`, "\xff"} {
		if !strings.Contains(all, want) {
			t.Errorf("the mix never sends %q", want)
		}
	}
	if non200 == 0 || withWant < kinds/2 {
		t.Errorf("mix: %d requests not answered 200, %d of %d checking their answer", non200, withWant, kinds)
	}
}
