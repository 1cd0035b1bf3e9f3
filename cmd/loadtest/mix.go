package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
)

// kind is one sort of request, with the answer the relay must give.
type kind struct {
	name   string
	method string
	path   string
	// authz is "good", "forged" or "" (no Authorization header).
	authz string
	// body makes the request body; rng is the worker's own.
	body func(rng *rand.Rand) string
	// status is the HTTP status the relay must answer, want a text its
	// answer must contain and forbid one it must not (if any).
	status int
	want   string
	forbid string
	// weight is how many times the kind appears in one rotation.
	weight int
}

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
// faults), one third invalid requests of every kind.
var mix = []kind{
	{name: "observe synthetic", want: `"verdicts"`, method: http.MethodPost, path: "/observe/observables", authz: "good", status: 200, weight: 6,
		body: func(rng *rand.Rand) string { return observables(ipPairs(randomIPs(rng, 3)...)...) }},
	{name: "observe with faults", want: `Unexpected response from Auth0 Signals: HTTP 500 Internal Server Error`, method: http.MethodPost, path: "/observe/observables", authz: "good", status: 200, weight: 3,
		body: func(rng *rand.Rand) string {
			return observables(append(ipPairs(randomIPs(rng, 1)[0], "192.0.2.5", "192.0.2.6", "192.0.2.3", "192.0.2.4",
				"192.0.2.7", "203.0.113.66"), "ipv6", "2001:db8::5", "domain", "example.net")...)
		}},
	{name: "deliberate synthetic", want: `"verdicts"`, method: http.MethodPost, path: "/deliberate/observables", authz: "good", status: 200, weight: 4,
		body: func(rng *rand.Rand) string { return observables(ipPairs(randomIPs(rng, 5)...)...) }},
	{name: "deliberate 500 upstream", want: `"code":"internal server error"`, method: http.MethodPost, path: "/deliberate/observables", authz: "good", status: 200, weight: 1,
		body: fixed(observables("ip", "192.0.2.5", "ip", "198.51.100.7"))},
	{name: "refer", want: `https://auth0.com/signals/ip/`, method: http.MethodPost, path: "/refer/observables", authz: "good", status: 200, weight: 1,
		body: func(rng *rand.Rand) string { return observables(ipPairs(randomIPs(rng, 4)...)...) }},
	{name: "health", want: `{"data":{"status":"ok"}}`, method: http.MethodPost, path: "/health", authz: "good", status: 200, weight: 1, body: fixed("")},
	{name: "respond", want: `{"data":[]}`, method: http.MethodPost, path: "/respond/observables", authz: "good", status: 200, weight: 1,
		body: fixed(observables("ip", "198.51.100.7"))},
	{name: "version", want: `"version"`, method: http.MethodPost, path: "/version", status: 200, weight: 1, body: fixed("")},
	{name: "watchdog", want: `{"data":"soak"}`, method: http.MethodGet, path: "/watchdog", status: 200, weight: 1, body: fixed("")},

	{name: "no token", want: `Authorization failed: Authorization header is missing`, method: http.MethodPost, path: "/observe/observables", status: 200, weight: 1,
		body: fixed(observables("ip", "198.51.100.7"))},
	{name: "forged token", want: `Authorization failed: Failed to decode JWT with provided key`, method: http.MethodPost, path: "/deliberate/observables", authz: "forged", status: 200, weight: 1,
		body: fixed(observables("ip", "198.51.100.7"))},
	{name: "empty body", want: `The request body is empty`, method: http.MethodPost, path: "/observe/observables", authz: "good", status: 200, weight: 1, body: fixed("")},
	{name: "null body", want: `got null`, method: http.MethodPost, path: "/observe/observables", authz: "good", status: 200, weight: 1, body: fixed("null")},
	{name: "truncated JSON", want: `is not valid JSON`, method: http.MethodPost, path: "/deliberate/observables", authz: "good", status: 200, weight: 1,
		body: fixed(`[{"type":"ip","value":"198.51.`)},
	{name: "duplicate keys", want: `appears more than once`, method: http.MethodPost, path: "/observe/observables", authz: "good", status: 200, weight: 1,
		body: fixed(`[{"type":"ip","value":"198.51.100.7","value":"192.0.2.5"}]`)},
	{name: "invalid UTF-8", want: `not valid UTF-8`, method: http.MethodPost, path: "/observe/observables", authz: "good", status: 200, weight: 1,
		body: fixed("[{\"type\":\"ip\",\"value\":\"\xff\xfe\"}]")},
	{name: "hostile values", want: `{"data":{}}`, method: http.MethodPost, path: "/observe/observables", authz: "good", status: 200, weight: 1,
		body: fixed(observables("ip", "192.0.2.44\r\nX-Injected: 1", "ip", "../../metadata/badip/lists/X", "ipv6", "fe80::1%eth0",
			"ip", "192.0.2.044", "ip", "192.0.2.44:80"))},
	{name: "1,001 duplicates", want: `{"data":{"verdicts":{"count":1,`, method: http.MethodPost, path: "/deliberate/observables", authz: "good", status: 200, weight: 1,
		body: fixed(thousandDuplicates)},
	{name: "deep nesting", want: `nests deeper than 32 levels`, method: http.MethodPost, path: "/observe/observables", authz: "good", status: 200, weight: 1,
		body: fixed(deepNesting)},
	{name: "body over the cap", want: `larger than 1048576 bytes`, method: http.MethodPost, path: "/refer/observables", authz: "good", status: 200, weight: 1,
		body: fixed(overTheCap)},
	{name: "unknown path", method: http.MethodPost, path: "/etc/passwd", authz: "good", status: 404, weight: 1, body: fixed("")},
	{name: "wrong method", method: http.MethodGet, path: "/observe/observables", authz: "good", status: 405, weight: 1, body: fixed("")},
}

// rotation expands mix by weight into the order workers follow.
func rotation() []kind {
	var r []kind
	for _, k := range mix {
		for range k.weight {
			r = append(r, k)
		}
	}
	return r
}
