package auth_test

import (
	"encoding/base64"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signals-relay/signals-relay/internal/auth"
)

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
