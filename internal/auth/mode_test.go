package auth_test

import (
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

const testSecret = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01"

func TestNew(t *testing.T) {
	t.Parallel()
	secret := []byte(testSecret)
	tests := []struct {
		name     string
		cfg      auth.Config
		wantType string // "hs256", "xdr", "both" or "none" (HS256 without a key); "" when an error is expected
		wantErr  []string
	}{
		{name: "auto with secret", cfg: auth.Config{SecretKey: secret}, wantType: "hs256"},
		{name: "auto with relay URL", cfg: auth.Config{RelayURL: testRelayURL}, wantType: "xdr"},
		{name: "auto with secret and relay URL", cfg: auth.Config{SecretKey: secret, RelayURL: testRelayURL}, wantType: "hs256"},
		{name: "auto with nothing", cfg: auth.Config{}, wantType: "none"},
		{name: "auto with only JWKS hosts", cfg: auth.Config{JWKSHosts: []string{"keys.example"}}, wantType: "none"},
		{name: "auto with audience from request", cfg: auth.Config{AudienceFromRequest: true}, wantType: "xdr"},
		{name: "hs256", cfg: auth.Config{Mode: "hs256", SecretKey: secret}, wantType: "hs256"},
		{name: "hs256 without secret", cfg: auth.Config{Mode: "hs256", RelayURL: testRelayURL}, wantErr: []string{"AUTH_MODE=hs256", "SECRET_KEY"}},
		{name: "xdr", cfg: auth.Config{Mode: "xdr", RelayURL: testRelayURL}, wantType: "xdr"},
		{name: "xdr ignores a secret", cfg: auth.Config{Mode: "xdr", SecretKey: secret, RelayURL: testRelayURL}, wantType: "xdr"},
		{name: "xdr with audience from request", cfg: auth.Config{Mode: "xdr", AudienceFromRequest: true}, wantType: "xdr"},
		{name: "xdr spelled loosely", cfg: auth.Config{Mode: " XDR ", RelayURL: testRelayURL}, wantType: "xdr"},
		{name: "xdr without audience", cfg: auth.Config{Mode: "xdr", SecretKey: secret}, wantErr: []string{"AUTH_MODE=xdr", "RELAY_URL"}},
		{name: "xdr with both audiences", cfg: auth.Config{Mode: "xdr", RelayURL: testRelayURL, AudienceFromRequest: true}, wantErr: []string{"RELAY_URL", "not both"}},
		{name: "xdr with bad relay URL", cfg: auth.Config{Mode: "xdr", RelayURL: "relay.example"}, wantErr: []string{"relay URL"}},
		{name: "xdr with bad host", cfg: auth.Config{Mode: "xdr", RelayURL: testRelayURL, JWKSHosts: []string{"a/b"}}, wantErr: []string{"JWKS host"}},
		{name: "both", cfg: auth.Config{Mode: "both", SecretKey: secret, RelayURL: testRelayURL}, wantType: "both"},
		{name: "both without secret", cfg: auth.Config{Mode: "both", RelayURL: testRelayURL}, wantErr: []string{"AUTH_MODE=both", "SECRET_KEY"}},
		{name: "both without audience", cfg: auth.Config{Mode: "both", SecretKey: secret}, wantErr: []string{"AUTH_MODE=both", "RELAY_URL"}},
		{name: "unknown mode", cfg: auth.Config{Mode: "rs256", SecretKey: secret}, wantErr: []string{`"rs256"`, "hs256", "xdr", "both"}},
		{name: "secret of 32 bytes", cfg: auth.Config{SecretKey: secret[:32]}, wantType: "hs256"},
		{name: "secret of 31 bytes", cfg: auth.Config{SecretKey: secret[:31]}, wantErr: []string{"SECRET_KEY", "at least 32 bytes", "relayctl jwt"}},
		{name: "one-byte secret", cfg: auth.Config{SecretKey: []byte("a")}, wantErr: []string{"SECRET_KEY", "at least 32 bytes", "relayctl jwt"}},
		{name: "short secret in both mode", cfg: auth.Config{Mode: "both", SecretKey: secret[:16], RelayURL: testRelayURL}, wantErr: []string{"SECRET_KEY", "32"}},
		{name: "short secret in xdr mode", cfg: auth.Config{Mode: "xdr", SecretKey: secret[:16], RelayURL: testRelayURL}, wantErr: []string{"SECRET_KEY", "32"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := auth.New(tc.cfg)
			if tc.wantType == "" {
				if err == nil {
					t.Fatalf("New succeeded with %T, want an error", v)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				if strings.Contains(err.Error(), testSecret[:16]) {
					t.Errorf("error %q contains the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			var got string
			switch v := v.(type) {
			case auth.HS256:
				got = "hs256"
				if len(v.Secret) == 0 {
					got = "none"
				}
			case *auth.XDR:
				got = "xdr"
			case auth.Both:
				got = "both"
			}
			if got != tc.wantType {
				t.Errorf("New returned %T, want the %s verifier", v, tc.wantType)
			}
		})
	}
}

// TestBothModeRouting checks that each verifier accepts only its own kind
// of token, and that the combined one routes each kind correctly without
// letting one pass as the other.
func TestBothModeRouting(t *testing.T) {
	t.Parallel()
	secret := []byte(testSecret)
	jwks := newJWKSServer(t, map[string]*rsa.PublicKey{"k1": &rsaKey(t, 0).PublicKey})
	clock := testsupport.NewClock()
	cfg := func(mode string) auth.Config {
		return auth.Config{
			Mode:       mode,
			SecretKey:  secret,
			JWKSHosts:  []string{jwks.host()},
			RelayURL:   testRelayURL,
			HTTPClient: trustingClient(t, nil, jwks.srv),
			Now:        clock.Now,
		}
	}
	verifiers := map[string]auth.Verifier{}
	for _, mode := range []string{auth.ModeHS256, auth.ModeXDR, auth.ModeBoth} {
		v, err := auth.New(cfg(mode))
		if err != nil {
			t.Fatalf("New(%s): %v", mode, err)
		}
		verifiers[mode] = v
	}

	xdrClaimsWith := func(key string) jwt.MapClaims {
		c := xdrClaims(jwks.host(), clock.Now())
		c["key"] = key
		c["CTR_ENTITIES_LIMIT"] = 7
		return c
	}
	pubPEM := publicKeyPEM(t, &rsaKey(t, 0).PublicKey)
	tokens := map[string]string{
		"hs256":           signHS256(t, secret, "", jwt.MapClaims{"key": "hs-key"}),
		"xdr":             signRS256(t, rsaKey(t, 0), "k1", xdrClaimsWith("xdr-key")),
		"hs256 by pubkey": signHS256(t, pubPEM, "k1", xdrClaimsWith("forged-key")),
		"hs256 by other":  signHS256(t, []byte("not the secret"), "", jwt.MapClaims{"key": "forged-key"}),
		"none":            unsignedToken(t, "k1", xdrClaimsWith("forged-key")),
		"rs256 no kid":    signRS256(t, rsaKey(t, 0), "", jwt.MapClaims{"key": "forged-key"}),
	}

	ok := func(key string, limit int) auth.Credentials {
		return auth.Credentials{APIKey: key, EntitiesLimit: limit}
	}
	tests := []struct {
		mode, token string
		want        auth.Credentials
		wantErr     string
	}{
		{mode: "hs256", token: "hs256", want: ok("hs-key", 0)},
		{mode: "hs256", token: "xdr", wantErr: auth.ReasonBadSignature},
		{mode: "hs256", token: "hs256 by pubkey", wantErr: auth.ReasonBadSignature},
		{mode: "hs256", token: "none", wantErr: auth.ReasonBadSignature},

		{mode: "xdr", token: "xdr", want: ok("xdr-key", 7)},
		{mode: "xdr", token: "hs256", wantErr: auth.ReasonRS256BadSignature},
		{mode: "xdr", token: "hs256 by pubkey", wantErr: auth.ReasonRS256BadSignature},
		{mode: "xdr", token: "none", wantErr: auth.ReasonRS256BadSignature},

		{mode: "both", token: "hs256", want: ok("hs-key", 0)},
		{mode: "both", token: "xdr", want: ok("xdr-key", 7)},
		{mode: "both", token: "hs256 by pubkey", wantErr: auth.ReasonBadSignature},
		{mode: "both", token: "hs256 by other", wantErr: auth.ReasonBadSignature},
		{mode: "both", token: "none", wantErr: auth.ReasonBadSignature},
		{mode: "both", token: "rs256 no kid", wantErr: auth.ReasonWrongStructure},
	}
	for _, tc := range tests {
		t.Run(tc.mode+"/"+tc.token, func(t *testing.T) {
			t.Parallel()
			raw := tokens[tc.token]
			got, err := verifiers[tc.mode].Verify(request(raw))
			if tc.wantErr != "" {
				wantReason(t, err, tc.wantErr, raw, testSecret, "forged-key")
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.APIKey != tc.want.APIKey || got.EntitiesLimit != tc.want.EntitiesLimit {
				t.Errorf("credentials = {%q %d}, want {%q %d}", got.APIKey, got.EntitiesLimit, tc.want.APIKey, tc.want.EntitiesLimit)
			}
		})
	}

	t.Run("malformed header", func(t *testing.T) {
		t.Parallel()
		for _, raw := range []string{"nodots", "!!!.e30.sig", "e30.e30.sig", "bm90IGpzb24.e30.sig"} {
			_, err := verifiers["both"].Verify(request(raw))
			if raw == "e30.e30.sig" { // {} has no alg
				wantReason(t, err, auth.ReasonBadSignature)
				continue
			}
			wantReason(t, err, auth.ReasonWrongStructure)
		}
	})
}

// TestHS256Unchanged pins the self-hosted mode's behaviour.
func TestHS256Unchanged(t *testing.T) {
	t.Parallel()
	secret := []byte(testSecret)
	tests := []struct {
		name    string
		v       auth.HS256
		token   string
		want    string
		wantErr string
	}{
		{name: "valid", v: auth.NewHS256(secret, nil), token: signHS256(t, secret, "", jwt.MapClaims{"key": "k"}), want: "k"},
		{name: "no secret", v: auth.HS256{}, token: signHS256(t, secret, "", jwt.MapClaims{"key": "k"}), wantErr: auth.ReasonSecretKeyMissing},
		{name: "wrong secret", v: auth.NewHS256([]byte("other"), nil), token: signHS256(t, secret, "", jwt.MapClaims{"key": "k"}), wantErr: auth.ReasonBadSignature},
		{name: "no key claim", v: auth.NewHS256(secret, nil), token: signHS256(t, secret, "", jwt.MapClaims{"sub": "x"}), wantErr: auth.ReasonWrongPayload},
		{name: "malformed", v: auth.NewHS256(secret, nil), token: "a.b", wantErr: auth.ReasonWrongStructure},
		{name: "expired", v: auth.NewHS256(secret, nil),
			token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "exp": time.Now().Add(-time.Hour).Unix()}), wantErr: auth.ReasonExpired},
		{name: "not yet valid", v: auth.NewHS256(secret, nil),
			token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "nbf": time.Now().Add(time.Hour).Unix()}), wantErr: auth.ReasonExpired},
		{name: "valid until later", v: auth.NewHS256(secret, nil),
			token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "exp": time.Now().Add(time.Hour).Unix()}), want: "k"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.v.Verify(request(tc.token))
			if tc.wantErr != "" {
				wantReason(t, err, tc.wantErr, tc.token, testSecret)
				return
			}
			if err != nil || got.APIKey != tc.want {
				t.Errorf("Verify = %v, %v; want key %q", got, err, tc.want)
			}
		})
	}
}

// TestBothWithoutXDRRefusesRS256: a Both built without an XDR verifier
// refuses RS256 tokens with the authorization error instead of panicking.
func TestBothWithoutXDRRefusesRS256(t *testing.T) {
	t.Parallel()
	b := auth.Both{HS256: auth.NewHS256([]byte(testSecret), nil)}
	tok := signRS256(t, rsaKey(t, 0), "k1", xdrClaims("visibility.amp.cisco.com", time.Now()))
	_, err := b.Verify(request(tok))
	wantReason(t, err, auth.ReasonRS256BadSignature)
}
