package relay_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// echoingUpstream is an Auth0 Signals stand-in that quotes the caller's API
// key back in its error bodies, as a careless upstream might: as sent, in
// upper case, percent-encoded and JSON-escaped.
func echoingUpstream() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("X-Auth-Token")
		switch {
		case strings.HasSuffix(r.URL.Path, "/192.0.2.10"):
			http.Error(w, "Unauthorized. API Key "+key+" not found.", http.StatusUnauthorized)
		case strings.HasSuffix(r.URL.Path, "/192.0.2.11"):
			http.Error(w, "quota of "+strings.ToUpper(key)+" exceeded", http.StatusTooManyRequests)
		case strings.HasSuffix(r.URL.Path, "/192.0.2.12"):
			http.Error(w, "<html>internal error for token="+percentEncoded(key)+"</html>", http.StatusInternalServerError)
		case strings.HasSuffix(r.URL.Path, "/192.0.2.13"):
			http.Error(w, `{"key":"`+jsonEscaped(key)+`","error":"Token must be a valid RFC4122 UUID"}`, http.StatusBadRequest)
		case strings.HasSuffix(r.URL.Path, "/192.0.2.14"):
			half := len(key) / 2
			http.Error(w, "key "+strings.ToLower(percentEncoded(key[:half]))+jsonEscaped(strings.ToUpper(key[half:]))+" refused", http.StatusUnauthorized)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"fullip":{"score":-1,"badip":{"score":-1,"blacklists":["L1"]}}}`)
		}
	})
}

// percentEncoded encodes every byte of s as %XX.
func percentEncoded(s string) string {
	var b strings.Builder
	for i := range len(s) {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// jsonEscaped writes every character of s as a JSON \uXXXX escape.
func jsonEscaped(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	return b.String()
}

// panickyVerifier fails in the worst way, quoting the secret in its panic.
type panickyVerifier struct{ secret string }

func (p panickyVerifier) Verify(*http.Request) (auth.Credentials, error) {
	panic("verifier exploded with " + p.secret)
}

// TestSecretsNeverLeak sends requests down every success and failure path
// and checks that neither the logs nor any answer contains the API key, the
// JWT (or its payload segment) or SECRET_KEY.
func TestSecretsNeverLeak(t *testing.T) {
	const apiKey = "9b2e4c1a-7d3f-4a5b-8c6d-0e1f2a3b4c5d"
	logs := &testsupport.LockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := setup(t, stack{upstream: echoingUpstream(), Options: relay.Options{Logger: logger}})
	panicky := setup(t, stack{upstream: echoingUpstream(), Options: relay.Options{Logger: logger, Verifier: panickyVerifier{secret: testSecret}}})

	jwtToken := token(t, map[string]any{"key": apiKey}, testSecret)
	forged := token(t, map[string]any{"key": apiKey}, "wrong-secret")
	secrets := map[string]string{
		"API key":                               apiKey,
		"JWT":                                   jwtToken,
		"JWT payload":                           strings.Split(jwtToken, ".")[1],
		"forged JWT":                            forged,
		"SECRET_KEY":                            testSecret,
		"API key (upper)":                       strings.ToUpper(apiKey),
		"API key (percent-encoded)":             percentEncoded(apiKey),
		"API key (JSON-escaped)":                jsonEscaped(apiKey),
		"API key (JSON-escaped, upper)":         strings.ToUpper(jsonEscaped(apiKey)),
		"API key (first half, percent-encoded)": strings.ToLower(percentEncoded(apiKey[:len(apiKey)/2])),
	}
	var answers []string
	send := func(h http.Handler, path, authz, body string) {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		r.Header.Set("Authorization", authz)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		answers = append(answers, fmt.Sprintf("%d %v %s", w.Code, w.Header(), w.Body.String()))
	}
	for _, ip := range []string{"192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14", "198.51.100.1"} {
		body := obsJSON("ip", ip)
		send(h, "/observe/observables", "Bearer "+jwtToken, body)
		send(h, "/deliberate/observables", "Bearer "+jwtToken, body)
	}
	send(h, "/health", "Bearer "+jwtToken, "")
	send(h, "/health", "Bearer "+forged, "")
	send(h, "/health", "Basic "+jwtToken, "")
	send(h, "/observe/observables", "Bearer "+jwtToken+" "+apiKey, "[]")
	send(h, "/observe/observables", "Bearer "+jwtToken, `[{"type":"ip","value":"`+apiKey+`"}]`)
	send(h, "/refer/observables", "Bearer "+forged, "[]")
	send(panicky, "/observe/observables", "Bearer "+jwtToken, "[]")

	if !strings.Contains(logs.String(), `"msg":"panic serving request"`) {
		t.Fatalf("the panic path did not run; logs:\n%s", logs)
	}
	// Each echo reaches the log, redacted, and no answer: they are not
	// documented upstream messages.
	if n := strings.Count(logs.String(), "[REDACTED]"); n < 5 {
		t.Fatalf("the log quotes %d redacted echoes, want one per echoing answer (5):\n%s", n, logs)
	}
	if strings.Contains(strings.Join(answers, "\n"), "[REDACTED]") {
		t.Errorf("an answer quotes an upstream body:\n%s", strings.Join(answers, "\n"))
	}
	for what, secret := range secrets {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain the %s:\n%s", what, logs)
		}
		for _, a := range answers {
			if strings.Contains(a, secret) {
				t.Errorf("an answer contains the %s: %s", what, a)
			}
		}
	}
}

// TestCredentialsRedacted checks that Credentials never format their key.
func TestCredentialsRedacted(t *testing.T) {
	c := auth.Credentials{APIKey: simulator.DemoKey, EntitiesLimit: 3}
	logs := &testsupport.LockedBuffer{}
	slog.New(slog.NewJSONHandler(logs, nil)).Info("creds", "c", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), logs.String()} {
		if strings.Contains(s, simulator.DemoKey) {
			t.Errorf("formatted credentials contain the key: %s", s)
		}
	}
}

// failingVerifier rejects every call with a reason and a cause.
type failingVerifier struct{ err error }

func (f failingVerifier) Verify(*http.Request) (auth.Credentials, error) {
	return auth.Credentials{}, f.err
}

// TestAuthCauseIsLoggedNotAnswered checks that the cause behind an
// authorization failure reaches the request log, for the operator, while
// the caller sees only the contract's reason.
func TestAuthCauseIsLoggedNotAnswered(t *testing.T) {
	logs := &testsupport.LockedBuffer{}
	cause := "key set of visibility.amp.cisco.com: connection refused"
	h := setup(t, stack{upstream: http.NotFoundHandler(), Options: relay.Options{
		Logger:   slog.New(slog.NewJSONHandler(logs, nil)),
		Verifier: failingVerifier{err: &auth.Error{Reason: auth.ReasonWrongJWKSHost, Err: errors.New(cause)}},
	}})
	r := httptest.NewRequest(http.MethodPost, "/health", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if strings.Contains(w.Body.String(), cause) {
		t.Errorf("the answer shows the cause: %s", w.Body)
	}
	var env struct {
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || len(env.Errors) != 1 ||
		env.Errors[0].Message != "Authorization failed: "+auth.ReasonWrongJWKSHost {
		t.Errorf("the answer lacks the reason (%v): %s", err, w.Body)
	}
	if !strings.Contains(logs.String(), `"auth_causes":["`+cause+`"]`) {
		t.Errorf("the request log lacks the cause:\n%s", logs)
	}
}
