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
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
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
// HMAC-SHA256 by the secret and a non-blank "key", and that every refusal
// is a contract reason that quotes nothing of the token.
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
		if strings.TrimSpace(creds.APIKey) == "" || creds.EntitiesLimit < 0 || creds.EntitiesLimit > MaxEntitiesLimit {
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

// FuzzParseJWKS checks that any key-set document parses without a panic and
// that every key it yields is a usable RS256 key.
func FuzzParseJWKS(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, err := parseJWKS(body)
		if err != nil {
			if keys != nil {
				t.Errorf("parseJWKS returned keys with error %v", err)
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
	})
}
