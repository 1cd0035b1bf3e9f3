package auth_test

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
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
		wantType string // auth.Mode of the verifier; "" when an error is expected
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
		{name: "xdr with relay URL without host", cfg: auth.Config{Mode: "xdr", RelayURL: "https://:443/"}, wantErr: []string{"relay URL", "no host"}},
		{name: "xdr with relay URL with empty query", cfg: auth.Config{Mode: "xdr", RelayURL: "https://relay.example/?"}, wantErr: []string{"relay URL", "query"}},
		{name: "xdr with relay URL with credentials", cfg: auth.Config{Mode: "xdr", RelayURL: "https://u:hunter2@relay.example"}, wantErr: []string{"relay URL", "credentials"}},
		{name: "xdr with relay URL not parsed", cfg: auth.Config{Mode: "xdr", RelayURL: "https://u:hunter2@relay example"}, wantErr: []string{"relay URL"}},
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
				if strings.Contains(err.Error(), testSecret[:16]) || strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q contains a secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := auth.Mode(v); got != tc.wantType {
				t.Errorf("New returned %T (mode %q), want the %s verifier", v, got, tc.wantType)
			}
		})
	}
}

// TestMode names each verifier New makes, and no other.
func TestMode(t *testing.T) {
	t.Parallel()
	hs := auth.NewHS256([]byte(testSecret), nil)
	xdr, err := auth.NewXDR(auth.XDROptions{Audience: testRelayURL})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		v    auth.Verifier
		want string
	}{
		{"hs256", hs, "hs256"},
		{"hs256 without a key", auth.NewHS256(nil, nil), "none"},
		{"unconfigured", auth.HS256{}, "none"},
		{"xdr", xdr, "xdr"},
		{"both", auth.Both{HS256: hs, XDR: xdr}, "both"},
		{"nil", nil, ""},
		{"another verifier", otherVerifier{}, ""},
	} {
		if got := auth.Mode(tc.v); got != tc.want {
			t.Errorf("%s: Mode = %q, want %q", tc.name, got, tc.want)
		}
	}
}

type otherVerifier struct{}

func (otherVerifier) Verify(*http.Request) (auth.Credentials, error) { return auth.Credentials{}, nil }

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

// TestBothWithoutXDRRefusesRS256: a Both built without an XDR verifier
// refuses RS256 tokens with the authorization error instead of panicking.
func TestBothWithoutXDRRefusesRS256(t *testing.T) {
	t.Parallel()
	b := auth.Both{HS256: auth.NewHS256([]byte(testSecret), nil)}
	tok := signRS256(t, rsaKey(t, 0), "k1", xdrClaims("visibility.amp.cisco.com", time.Now()))
	_, err := b.Verify(request(tok))
	wantReason(t, err, auth.ReasonRS256BadSignature)
}

// TestSecretRedacted checks that a Secret shows neither its bytes nor their
// encodings however it is printed, logged or marshalled, alone or inside a
// struct, and says when it is unset.
func TestSecretRedacted(t *testing.T) {
	t.Parallel()
	const value = "secret-value-0123456789abcdefghij"
	holder := struct {
		Key  auth.Secret
		Name string
	}{Key: auth.Secret(value), Name: "n"}
	cfg := auth.Config{SecretKey: auth.Secret(value)}
	var text, js strings.Builder
	slog.New(slog.NewTextHandler(&text, nil)).Info("m", "key", holder.Key, "holder", holder, "cfg", cfg)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "key", holder.Key, "holder", holder, "cfg", cfg)
	marshalled, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{text.String(), js.String(), string(marshalled), holder.Key.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, holder.Key), fmt.Sprintf(verb, holder), fmt.Sprintf(verb, cfg))
	}
	hexValue := fmt.Sprintf("%x", value)
	for _, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(strings.ToLower(out), hexValue[:16]) || strings.Contains(out, "115 101 99") {
			t.Errorf("output shows the secret: %s", out)
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("output does not say the secret is redacted: %s", out)
		}
	}
	if got := fmt.Sprint(auth.Secret(nil)); got != "[unset]" {
		t.Errorf("empty secret prints %q, want [unset]", got)
	}
}

// TestCredentialsRedacted checks that Credentials show no API key however
// they are printed, logged or marshalled, and keep the entities limit.
func TestCredentialsRedacted(t *testing.T) {
	t.Parallel()
	const key = "6f1c2a8e-3b4d-4e5f-9a6b-7c8d9e0f1a2b"
	c := auth.Credentials{APIKey: key, EntitiesLimit: 7}
	holder := struct{ Creds auth.Credentials }{c}
	var text, js strings.Builder
	slog.New(slog.NewTextHandler(&text, nil)).Info("m", "creds", c)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "creds", c)
	marshalled, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{text.String(), js.String(), string(marshalled)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, holder))
	}
	for _, out := range outputs {
		if strings.Contains(out, key) || strings.Contains(out, key[:8]) {
			t.Errorf("output shows the API key: %s", out)
		}
		if !strings.Contains(out, "[REDACTED]") || !strings.Contains(out, "7") {
			t.Errorf("output does not say the key is redacted or lacks the limit: %s", out)
		}
	}
}

// maxForgedTokenBytes is what a rejected forged token may cost, in bytes
// allocated: its claims are never decoded before the signature is checked.
const maxForgedTokenBytes = 16 << 10

// forgedToken is a token of about size bytes that claims alg (and a kid
// and jwks_host), whose payload is costly to decode (nested empty
// objects) and whose signature is garbage.
func forgedToken(alg, host string, size int) string {
	enc := base64.RawURLEncoding.EncodeToString
	head := enc([]byte(`{"alg":"` + alg + `","typ":"JWT","kid":"k1"}`))
	filler := strings.Repeat(`{},`, max(size*3/4/3, 1))
	payload := enc([]byte(`{"key":"k","jwks_host":"` + host + `","x":[` + filler + `{}]}`))
	return head + "." + payload + "." + enc([]byte(strings.Repeat("s", 256)))
}

// forgedCases are the verifiers and forged tokens of the tests below: one
// far over the token cap and one just under it, in both modes.
func forgedCases(t testing.TB) []struct {
	name  string
	v     auth.Verifier
	token string
} {
	secret := []byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEF")
	f := newXDRFixture(t, auth.XDROptions{})
	// Cache k1, so the forged tokens reach the signature check.
	if _, err := f.v.Verify(request(signRS256(t, rsaKey(t, 0), "k1", xdrClaims(f.jwks.host(), f.clock.Now())))); err != nil {
		t.Fatal(err)
	}
	under := auth.MaxTokenBytes - 600
	return []struct {
		name  string
		v     auth.Verifier
		token string
	}{
		{"hs256 60 KB", auth.NewHS256(secret, nil), forgedToken("HS256", "", 60<<10)},
		{"hs256 under the cap", auth.NewHS256(secret, nil), forgedToken("HS256", "", under)},
		{"xdr 60 KB", f.v, forgedToken("RS256", f.jwks.host(), 60<<10)},
		{"xdr under the cap", f.v, forgedToken("RS256", f.jwks.host(), under)},
	}
}

// TestForgedTokensCostLittle checks that a forged token, whatever its size,
// is rejected for at most maxForgedTokenBytes of allocation: the token cap,
// the HMAC or RSA signature checked before the claims are decoded, and for
// XDR only the header and jwks_host read before it.
func TestForgedTokensCostLittle(t *testing.T) {
	for _, c := range forgedCases(t) {
		if over := strings.Contains(c.name, "60 KB"); len(c.token) < auth.MaxTokenBytes-1000 || over != (len(c.token) > auth.MaxTokenBytes) {
			t.Fatalf("%s: the token is %d bytes", c.name, len(c.token))
		}
		r := request(c.token)
		if _, err := c.v.Verify(r); err == nil {
			t.Fatalf("%s: a forged token was accepted", c.name)
		}
		const n = 20
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range n {
			_, _ = c.v.Verify(r)
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / n; per > maxForgedTokenBytes {
			t.Errorf("%s (%d bytes): %d bytes allocated per rejection, want at most %d", c.name, len(c.token), per, maxForgedTokenBytes)
		}
	}
}

// BenchmarkForgedToken measures what rejecting a forged token costs (run
// with -benchmem; the target is at most 16 KB allocated for a 60 KB token).
func BenchmarkForgedToken(b *testing.B) {
	for _, c := range forgedCases(b) {
		b.Run(c.name, func(b *testing.B) {
			r := request(c.token)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.v.Verify(r); err == nil {
					b.Fatal("a forged token was accepted")
				}
			}
		})
	}
}

// TestBearerSchemeAnyCase checks that the scheme is matched whatever its
// case, as the original relay does.
func TestBearerSchemeAnyCase(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEF")
	tok, err := auth.SignHS256(jwt.MapClaims{"key": "k"}, secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		r, _ := http.NewRequest(http.MethodPost, testRelayURL+"/health", nil)
		r.Header.Set("Authorization", scheme+" "+tok)
		if _, err := auth.NewHS256(secret, nil).Verify(r); err != nil {
			t.Errorf("%q scheme: %v", scheme, err)
		}
	}
}

// TestTokenLengthCap checks that a correctly signed token longer than
// MaxTokenBytes is refused before anything else is looked at.
func TestTokenLengthCap(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEF")
	v := auth.NewHS256(secret, nil)
	for _, tc := range []struct {
		pad  int
		want string
	}{{auth.MaxTokenBytes - 200, ""}, {auth.MaxTokenBytes, auth.ReasonWrongStructure}} {
		tok, err := auth.SignHS256(jwt.MapClaims{"key": "k", "pad": strings.Repeat("p", tc.pad*3/4)}, secret)
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(request(tok))
		if tc.want == "" {
			if err != nil {
				t.Errorf("a %d-byte token: %v", len(tok), err)
			}
			continue
		}
		wantReason(t, err, tc.want)
		_, err = auth.BearerToken(request(tok)) // every verifier's first step
		wantReason(t, err, tc.want)
	}
}
