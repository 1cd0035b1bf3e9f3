package auth

// Fuzz targets for everything the relay reads from a caller before it trusts
// it: the Authorization header, HS256 and XDR (RS256) tokens, and the JWKS
// documents a key host publishes. Seed corpora live in
// testdata/fuzz/<target>/; run one target longer with
//
//	go test ./internal/auth -run '^$' -fuzz '^FuzzVerify$' -fuzztime 60s

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Fixed parameters of the fuzzed verifiers.
const (
	fuzzSecret   = "fuzz-secret-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR"
	fuzzJWKSHost = "jwks.example.com" // the test certificate holds *.example.com
	fuzzAudience = "https://relay.example.com"
	fuzzKid      = "fuzz-kid"
)

// fuzzNow is the verifiers' clock.
var fuzzNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// reasonsOf are the reasons each verifier may give; nothing else may reach
// the caller.
var (
	bearerReasons = []string{ReasonHeaderMissing, ReasonWrongType, ReasonWrongStructure}
	hs256Reasons  = append(bearerReasons[:3:3], ReasonSecretKeyMissing, ReasonWrongPayload, ReasonBadSignature, ReasonExpired)
	verifyReasons = append(hs256Reasons[:7:7], ReasonRS256BadSignature, ReasonJWKSHostMissing, ReasonWrongJWKSHost,
		ReasonWrongAudience, ReasonKidNotFound)
)

// checkReason fails unless err is an *Error with one of reasons and its
// message quotes nothing of the token.
func checkReason(t *testing.T, err error, reasons []string, token string) {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *auth.Error", err, err)
	}
	known := false
	for _, r := range reasons {
		known = known || ae.Reason == r
	}
	if !known {
		t.Errorf("reason %q is not one of %q", ae.Reason, reasons)
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 16 && strings.Contains(err.Error(), part) {
			t.Errorf("error %q quotes the token", err)
		}
	}
}

// FuzzBearerToken checks that any Authorization header yields either a
// token without blanks or one of the header reasons.
func FuzzBearerToken(f *testing.F) {
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodPost, "/health", nil)
		r.Header["Authorization"] = []string{header}
		tok, err := BearerToken(r)
		if err != nil {
			checkReason(t, err, bearerReasons, header)
			return
		}
		scheme, _, _ := strings.Cut(strings.TrimSpace(header), " ")
		if tok == "" || strings.ContainsAny(tok, " \t") || !strings.Contains(header, tok) || !strings.EqualFold(scheme, "bearer") {
			t.Errorf("BearerToken(%q) = %q", header, tok)
		}
	})
}

// segments splits a compact JWS and decodes its parts, as an independent
// reading of what a verifier saw.
func segments(token string) (header map[string]any, claims map[string]any, signed, sig []byte, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, nil, nil, false
	}
	dec := base64.RawURLEncoding
	h, err1 := dec.DecodeString(parts[0])
	c, err2 := dec.DecodeString(parts[1])
	s, err3 := dec.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(h, &header) != nil || json.Unmarshal(c, &claims) != nil {
		return nil, nil, nil, nil, false
	}
	return header, claims, []byte(parts[0] + "." + parts[1]), s, true
}

// validHS256 reports whether token carries a correct HMAC-SHA256 under
// secret, computed without the JWT library.
func validHS256(token string, secret []byte) bool {
	header, _, signed, sig, ok := segments(token)
	if !ok || header["alg"] != "HS256" {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(signed)
	return hmac.Equal(m.Sum(nil), sig)
}

// validRS256 reports whether token carries a correct RSA PKCS #1 v1.5
// SHA-256 signature by pub, computed without the JWT library.
func validRS256(token string, pub *rsa.PublicKey) bool {
	header, _, signed, sig, ok := segments(token)
	if !ok || header["alg"] != "RS256" {
		return false
	}
	sum := sha256.Sum256(signed)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
}

// FuzzParseHS256 checks that a token is accepted only with a correct
// HMAC-SHA256 by the secret, a non-blank "key", no numeric exp in the past
// and no numeric nbf in the future, and that every refusal is a contract
// reason that quotes nothing of the token.
func FuzzParseHS256(f *testing.F) {
	sign := func(claims jwt.MapClaims, secret string) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	good := sign(jwt.MapClaims{"key": "6f1c2a8e-3b4d-4e5f-9a6b-7c8d9e0f1a2b"}, fuzzSecret)
	if _, err := ParseHS256(good, []byte(fuzzSecret)); err != nil {
		f.Fatalf("a good HS256 token is refused: %v", err)
	}
	f.Add(good)
	f.Add(sign(jwt.MapClaims{"key": "k", "exp": 1}, fuzzSecret))
	f.Add(sign(jwt.MapClaims{"key": "k", "exp": fuzzNow.Add(-time.Minute).Unix()}, fuzzSecret))
	f.Add(sign(jwt.MapClaims{"key": "k", "nbf": 4102444800}, fuzzSecret)) // 2100-01-01
	f.Add(sign(jwt.MapClaims{"key": " "}, fuzzSecret))
	f.Add(sign(jwt.MapClaims{"key": 7, "CTR_ENTITIES_LIMIT": "5"}, fuzzSecret))
	f.Fuzz(func(t *testing.T, token string) {
		creds, err := ParseHS256(token, []byte(fuzzSecret))
		if err != nil {
			checkReason(t, err, hs256Reasons, token)
			return
		}
		_, claims, _, _, _ := segments(token)
		if !validHS256(token, []byte(fuzzSecret)) {
			t.Fatalf("ParseHS256 accepted %q without a valid HS256 signature", token)
		}
		if key, _ := claims["key"].(string); key != creds.APIKey || strings.TrimSpace(key) == "" {
			t.Errorf("credentials key %q, claims %v", creds.APIKey, claims)
		}
		// A second of margin either side: the parser read the clock just before.
		now := float64(time.Now().Unix())
		if exp, ok := claims["exp"].(float64); ok && exp < now-1 {
			t.Errorf("ParseHS256 accepted a token that expired at %v", exp)
		}
		if nbf, ok := claims["nbf"].(float64); ok && nbf > now+1 {
			t.Errorf("ParseHS256 accepted a token not valid before %v", nbf)
		}
	})
}

// fuzzVerifier returns a verifier for both token kinds whose only JWKS host
// is a local server publishing pub as fuzzKid.
func fuzzVerifier(f *testing.F, pub *rsa.PublicKey) Verifier {
	body, err := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": fuzzKid, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
	if err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != jwksPath || r.Host != fuzzJWKSHost {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	f.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		// Every allowlisted name leads to the local server.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}
	f.Cleanup(tr.CloseIdleConnections)
	v, err := New(Config{
		Mode:       ModeBoth,
		SecretKey:  []byte(fuzzSecret),
		JWKSHosts:  []string{fuzzJWKSHost},
		RelayURL:   fuzzAudience,
		HTTPClient: &http.Client{Transport: tr, Timeout: 5 * time.Second},
		Now:        func() time.Time { return fuzzNow },
	})
	if err != nil {
		f.Fatal(err)
	}
	return v
}

// FuzzVerify sends any token through the verifier of AUTH_MODE=both. A token
// is accepted only with a correct signature for its algorithm (HMAC by
// SECRET_KEY, or RSA by the allowlisted host's key), and an RS256 token also
// needs the relay as its audience and the allowlisted jwks_host; every
// refusal is a contract reason that quotes nothing of the token.
func FuzzVerify(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	v := fuzzVerifier(f, &key.PublicKey)
	rs := func(claims jwt.MapClaims, kid string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	good := jwt.MapClaims{"key": "k", "jwks_host": fuzzJWKSHost, "aud": fuzzAudience, "exp": fuzzNow.Add(time.Minute).Unix()}
	// The verifier must accept a good token, or the target proves nothing.
	r := httptest.NewRequest(http.MethodPost, fuzzAudience+"/health", nil)
	r.Header.Set("Authorization", "Bearer "+rs(good, fuzzKid))
	if _, err := v.Verify(r); err != nil {
		f.Fatalf("a good RS256 token is refused: %v", err)
	}
	f.Add(rs(good, fuzzKid))
	f.Add(rs(jwt.MapClaims{"key": "k", "jwks_host": "JWKS.example.com", "aud": []string{"x", fuzzAudience + "/"}, "CTR_ENTITIES_LIMIT": "7"}, fuzzKid))
	f.Add(rs(jwt.MapClaims{"key": "k", "jwks_host": fuzzJWKSHost, "aud": "https://other.example.com"}, fuzzKid))
	f.Add(rs(jwt.MapClaims{"key": "k", "jwks_host": fuzzJWKSHost, "aud": fuzzAudience, "exp": 1}, fuzzKid))
	f.Add(rs(good, "other-kid"))
	f.Add(rs(jwt.MapClaims{"key": "k", "jwks_host": "evil.example.com", "aud": fuzzAudience}, fuzzKid))

	f.Fuzz(func(t *testing.T, token string) {
		r := httptest.NewRequest(http.MethodPost, fuzzAudience+"/health", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		creds, err := v.Verify(r)
		if err != nil {
			checkReason(t, err, verifyReasons, token)
			return
		}
		header, claims, _, _, _ := segments(token)
		switch {
		case validHS256(token, []byte(fuzzSecret)):
		case validRS256(token, &key.PublicKey):
			if host, _ := claims["jwks_host"].(string); header["kid"] != fuzzKid || !strings.EqualFold(host, fuzzJWKSHost) {
				t.Errorf("accepted RS256 token with kid %v, jwks_host %v", header["kid"], claims["jwks_host"])
			}
			if !audienceIn(claims["aud"], fuzzAudience) {
				t.Errorf("accepted RS256 token with aud %v", claims["aud"])
			}
		default:
			t.Fatalf("Verify accepted %q without a valid signature", token)
		}
		if strings.TrimSpace(creds.APIKey) == "" || creds.EntitiesLimit < 0 || creds.EntitiesLimit > math.MaxInt32 {
			t.Errorf("credentials %+v", creds)
		}
	})
}

// audienceIn reports whether aud (a string or an array) names want, with or
// without a trailing slash.
func audienceIn(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return strings.TrimRight(a, "/") == want
	case []any:
		for _, e := range a {
			if s, ok := e.(string); ok && strings.TrimRight(s, "/") == want {
				return true
			}
		}
	}
	return false
}

// FuzzParseJWKS checks that any key-set document parses without a panic,
// that every key it yields is a usable RS256 key, and that it yields
// exactly the keys an independent reading of the document finds. The keys
// are decoded by jwkset through parseJWKS: the target exercises the library
// on hostile input as well as the relay's own filter.
func FuzzParseJWKS(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	n := base64.RawURLEncoding.EncodeToString(key.N.Bytes())
	for _, doc := range []string{
		`{"keys":[{"kty":"RSA","kid":"a","use":"sig","alg":"RS256","n":"` + n + `","e":"AQAB"}]}`,
		`{"keys":[{"kty":"RSA","kid":"a","n":"` + n + `","e":"AQAB"},{"kty":"RSA","kid":"b","n":"` + n + `","e":"Aw"},{"kty":"EC","kid":"c"}]}`,
		`{"keys":[{"kty":"RSA","kid":"a","n":"` + n + `","e":"AQAB"},{"kty":"RSA","kid":"a","n":"` + n + `","e":"AQAB"}]}`,
		`{"keys":[{"kty":"RSA","kid":"a","n":"` + n + `","e":"AAAAAAEAAQ"},{"kty":"RSA","kid":"b","n":"` + n + `","e":"AQABAQAB"}]}`,
		`{"keys":[{"kty":"RSA","kid":"a","n":"` + n + `","e":"AQAB","key_ops":["x"]},{"kty":"RSA","kid":"b","n":"` + n + `","e":"AQAB","x5c":["AA"]}]}`,
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, err := parseJWKS(body)
		want, exact := readJWKS(body)
		if err != nil {
			if keys != nil {
				t.Errorf("parseJWKS returned keys with error %v", err)
			}
			if exact && len(want) > 0 {
				t.Errorf("parseJWKS: %v; the document has usable keys %v", err, slices.Sorted(maps.Keys(want)))
			}
			return
		}
		if len(keys) == 0 || len(keys) > maxJWKSKeyCount {
			t.Errorf("parseJWKS returned %d keys", len(keys))
		}
		for kid, k := range keys {
			if kid == "" || k.N.BitLen() < minRSAKeyBits || k.E < 3 || k.E%2 == 0 {
				t.Errorf("key %q: %d bits, exponent %d", kid, k.N.BitLen(), k.E)
			}
		}
		if !exact {
			return
		}
		if len(keys) != len(want) {
			t.Errorf("parseJWKS kids %v, the document's usable kids %v", slices.Sorted(maps.Keys(keys)), slices.Sorted(maps.Keys(want)))
		}
		for kid, w := range want {
			if k, ok := keys[kid]; !ok || !k.Equal(w) {
				t.Errorf("kid %q: parseJWKS key %v, want the published one", kid, k)
			}
		}
	})
}

// readJWKS reads a JWK Set the plain way, decoding it with encoding/json
// into maps (numbers kept as text), and returns the keys parseJWKS should
// yield: RSA keys for signing with RS256 (use and alg optional), with a kid,
// a modulus of at least 2048 bits and an odd exponent from 3 to 2^31-1
// (leading zero bytes allowed), in document order; a kid that appears in
// more than one entry (whose kty, kid, use and alg are strings) is taken
// from none of them, and the first 100 keys are kept. exact is
// false when a key has a member other than kty, kid, use, alg, n and e: the
// library also reads x5c, key_ops, x5u and others under rules of its own,
// and its struct decoding may take a case variant of a name for that name.
func readJWKS(body []byte) (want map[string]*rsa.PublicKey, exact bool) {
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if dec.Decode(&doc) != nil || dec.Decode(new(any)) != io.EOF {
		return nil, true
	}
	if caseVariant(doc, "keys") {
		return nil, false
	}
	want = map[string]*rsa.PublicKey{}
	seen := map[string]bool{}
	list, _ := doc["keys"].([]any)
	for _, entry := range list {
		m, _ := entry.(map[string]any)
		for member := range m {
			if !slices.Contains([]string{"kty", "kid", "use", "alg", "n", "e"}, member) {
				return nil, false
			}
		}
		str := func(name string) (string, bool) {
			switch v := m[name].(type) {
			case string:
				return v, true
			case nil:
				return "", true
			}
			return "", false
		}
		kty, ok1 := str("kty")
		kid, ok2 := str("kid")
		use, ok3 := str("use")
		alg, ok4 := str("alg")
		if !(ok1 && ok2 && ok3 && ok4) || kid == "" {
			continue
		}
		if seen[kid] {
			delete(want, kid)
			continue
		}
		seen[kid] = true
		nText, ok5 := str("n")
		eText, ok6 := str("e")
		if !ok5 || !ok6 || kty != "RSA" || (use != "" && use != "sig") || (alg != "" && alg != "RS256") {
			continue
		}
		nb, errN := base64.RawURLEncoding.DecodeString(strings.TrimRight(nText, "="))
		eb, errE := base64.RawURLEncoding.DecodeString(strings.TrimRight(eText, "="))
		if errN != nil || errE != nil || len(eb) == 0 {
			continue
		}
		mod, exp := new(big.Int).SetBytes(nb), new(big.Int).SetBytes(eb)
		if mod.BitLen() < 2048 || exp.Cmp(big.NewInt(3)) < 0 || exp.Bit(0) == 0 || exp.Cmp(big.NewInt(1<<31-1)) > 0 {
			continue
		}
		want[kid] = &rsa.PublicKey{N: mod, E: int(exp.Int64())}
		if len(want) == 100 {
			break
		}
	}
	return want, true
}

// caseVariant reports whether m has a member whose name matches one of
// names case-insensitively but not exactly.
func caseVariant(m map[string]any, names ...string) bool {
	for member := range m {
		for _, name := range names {
			if member != name && strings.EqualFold(member, name) {
				return true
			}
		}
	}
	return false
}
