package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
)

func TestParseJWKS(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	n := base64.RawURLEncoding.EncodeToString(key.N.Bytes())
	e := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())
	rsaJWK := func(mod func(map[string]any)) map[string]any {
		k := map[string]any{"kty": "RSA", "kid": "a", "use": "sig", "alg": "RS256", "n": n, "e": e}
		if mod != nil {
			mod(k)
		}
		return k
	}
	set := func(keys ...map[string]any) []byte {
		b, err := json.Marshal(map[string]any{"keys": keys})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	tests := []struct {
		name     string
		body     []byte
		wantKids []string // nil means an error is expected
	}{
		{name: "one key", body: set(rsaJWK(nil)), wantKids: []string{"a"}},
		{name: "use and alg optional", body: set(rsaJWK(func(k map[string]any) { delete(k, "use"); delete(k, "alg") })), wantKids: []string{"a"}},
		{name: "padded base64", body: set(rsaJWK(func(k map[string]any) { k["e"] = "AQAB" + "==" })), wantKids: []string{"a"}},
		{name: "unusable keys skipped", body: set(
			rsaJWK(nil),
			rsaJWK(func(k map[string]any) { k["kid"] = "ec"; k["kty"] = "EC" }),
			rsaJWK(func(k map[string]any) { k["kid"] = "enc"; k["use"] = "enc" }),
			rsaJWK(func(k map[string]any) { k["kid"] = "ps"; k["alg"] = "PS256" }),
			rsaJWK(func(k map[string]any) { k["kid"] = "" }),
			rsaJWK(func(k map[string]any) { k["kid"] = "small"; k["n"] = "AQAB" }),
			rsaJWK(func(k map[string]any) { k["kid"] = "even"; k["e"] = "AQAA" }),
			rsaJWK(func(k map[string]any) { k["kid"] = "huge-e"; k["e"] = "AQABAQAB" }),
			rsaJWK(func(k map[string]any) { k["kid"] = "bad-n"; k["n"] = "%%%" }),
			rsaJWK(func(k map[string]any) { k["kid"] = "b"; k["n"] = 12 }),
			rsaJWK(func(k map[string]any) { k["kid"] = "key-ops"; k["key_ops"] = []string{"launch"} }),
			rsaJWK(func(k map[string]any) { k["kid"] = "x5c"; k["x5c"] = []string{"AA"} }),
			rsaJWK(func(k map[string]any) { k["kid"] = "x5u"; k["x5u"] = "http://keys.example/x5u" }),
		), wantKids: []string{"a"}},
		{name: "exponent with leading zero bytes", body: set(rsaJWK(func(k map[string]any) { k["e"] = "AAAAAAEAAQ" })), wantKids: []string{"a"}},
		{name: "duplicate kid trusted in neither", body: set(rsaJWK(nil), rsaJWK(nil), rsaJWK(nil), rsaJWK(func(k map[string]any) { k["kid"] = "b" })), wantKids: []string{"b"}},
		{name: "only duplicates", body: set(rsaJWK(nil), rsaJWK(nil))},
		{name: "duplicate kid whose first copy does not decode", body: set(
			rsaJWK(func(k map[string]any) { k["n"] = "%%%" }), rsaJWK(nil), rsaJWK(func(k map[string]any) { k["kid"] = "b" })),
			wantKids: []string{"b"}},
		{name: "duplicate kid whose first copy is another key type", body: set(
			rsaJWK(func(k map[string]any) { k["kty"] = "EC" }), rsaJWK(nil), rsaJWK(func(k map[string]any) { k["kid"] = "b" })),
			wantKids: []string{"b"}},
		{name: "no usable key", body: set(rsaJWK(func(k map[string]any) { k["kty"] = "oct" }))},
		{name: "empty set", body: []byte(`{"keys":[]}`)},
		{name: "keys not an array", body: []byte(`{"keys":{}}`)},
		{name: "not JSON", body: []byte(`<html>`)},
		{name: "JSON null", body: []byte(`null`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseJWKS(tc.body)
			if tc.wantKids == nil {
				if err == nil {
					t.Fatalf("parseJWKS = %d keys, want an error", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("parseJWKS: %v", err)
			}
			if len(got) != len(tc.wantKids) {
				t.Errorf("parseJWKS = %d keys, want %v", len(got), tc.wantKids)
			}
			for _, kid := range tc.wantKids {
				k, ok := got[kid]
				if !ok {
					t.Errorf("kid %q missing", kid)
					continue
				}
				if !k.Equal(&key.PublicKey) {
					t.Errorf("kid %q: key differs from the published one", kid)
				}
			}
		})
	}
}

func TestEntitiesLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		claim any
		want  int
	}{
		{nil, 0},
		{float64(1), 1},
		{float64(100), 100},
		{float64(1000), 1000},
		{float64(1500), 1500}, // CTR_ENTITIES_LIMIT_MAX, in the relay, caps it
		{float64(math.MaxInt32 + 1), math.MaxInt32},
		{1e300, math.MaxInt32},
		{float64(0), 0},
		{float64(-1), 0},
		{-1e300, 0},
		{0.5, 0},
		{10.25, 0},
		{"7", 7},
		{" 7 ", 7},
		{"+7", 7},
		{"007", 7},
		{"1001", 1001},
		{"123456789012345678901234567890", math.MaxInt32},
		{"-123456789012345678901234567890", 0},
		{"0", 0},
		{"-1", 0},
		{"7.5", 0},
		{"1e3", 0},
		{"seven", 0},
		{"", 0},
		{true, 0},
		{[]any{float64(5)}, 0},
		{map[string]any{}, 0},
	}
	for _, tc := range tests {
		if got := entitiesLimit(tc.claim); got != tc.want {
			t.Errorf("entitiesLimit(%#v) = %d, want %d", tc.claim, got, tc.want)
		}
	}
}

func TestASCIILower(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"visibility.amp.cisco.com", "visibility.amp.cisco.com", true},
		{"VISIBILITY.Eu.AMP.cisco.COM:443", "visibility.eu.amp.cisco.com:443", true},
		{"", "", true},
		{"vİsİbİlİty.amp.cİsco.com", "", false}, // U+0130 lower-cases to "i" in Unicode
		{"\u212Aeys.example.com", "", false},    // Kelvin sign lower-cases to "k"
		{"visibility.amp.cisco.com\xff", "", false},
	}
	for _, tc := range tests {
		got, ok := asciiLower(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("asciiLower(%q) = %q, %t; want %q, %t", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestParseJWKSNeverFetchesX5U checks that a key naming a certificate URL
// (x5u) makes the parser contact nothing: the library fetches x5u only when
// asked to, and keys come from allowlisted hosts alone.
func TestParseJWKSNeverFetchesX5U(t *testing.T) {
	t.Parallel()
	var dials atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			_ = c.Close()
		}
	}()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": "a", "x5u": "https://" + ln.Addr().String() + "/certs.pem",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := parseJWKS(body)
	if err != nil || !keys["a"].Equal(&key.PublicKey) {
		t.Errorf("parseJWKS = %v, %v; want key a", keys, err)
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("x5u host accepted %d connections, want 0", n)
	}
}
