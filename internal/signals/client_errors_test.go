package signals

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// The classification rules of the original relay (API docs §9): 400 and
// 404 mean no data unless the body says the token is malformed; 401 is a
// key problem; 429 is the quota.
func TestAPIErrorPredicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status                            int
		body                              string
		unauthorized, rateLimited, noData bool
	}{
		{400, "Bad IP format:192.0.2.999", false, false, true},
		{400, "", false, false, true},
		{404, "Resource not found", false, false, true},
		{400, "Token must be a valid RFC4122 UUID", true, false, false},
		{404, "Token must be a valid RFC4122 UUID", true, false, false},
		{400, "token must be a valid rfc4122 uuid", false, false, true},
		{401, "Unauthorized. API Key not found.", true, false, false},
		{401, "", true, false, false},
		{401, "Token must be a valid RFC4122 UUID", true, false, false},
		{429, "429: Too Many Requests", false, true, false},
		{429, "Token must be a valid RFC4122 UUID", false, true, false},
		{403, "Forbidden", false, false, false},
		{500, "Token must be a valid RFC4122 UUID", false, false, false},
		{502, "<html>Bad Gateway</html>", false, false, false},
		{503, "", false, false, false},
		{302, "", false, false, false},
	}
	for _, tc := range tests {
		e := &APIError{Op: "ip report", StatusCode: tc.status, Body: tc.body}
		if got := e.Unauthorized(); got != tc.unauthorized {
			t.Errorf("%d %q: Unauthorized() = %v, want %v", tc.status, tc.body, got, tc.unauthorized)
		}
		if got := e.RateLimited(); got != tc.rateLimited {
			t.Errorf("%d %q: RateLimited() = %v, want %v", tc.status, tc.body, got, tc.rateLimited)
		}
		if got := e.NoData(); got != tc.noData {
			t.Errorf("%d %q: NoData() = %v, want %v", tc.status, tc.body, got, tc.noData)
		}
	}
}

func TestAPIErrorMessage(t *testing.T) {
	t.Parallel()
	e := &APIError{Op: "ip report", StatusCode: 401, Body: "Unauthorized. API Key not found."}
	msg := e.Error()
	for _, want := range []string{"ip report", "401", "Unauthorized. API Key not found."} {
		if !strings.Contains(msg, want) {
			t.Errorf("Error() = %q, want it to contain %q", msg, want)
		}
	}
}

// TestTLSError checks that a certificate failure gets its reason, and that
// its text, for the log, names the call and Go's cause.
func TestTLSError(t *testing.T) {
	t.Parallel()
	var (
		unknown  = x509.UnknownAuthorityError{}
		hostname = x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"example.com"}}, Host: "signals.example.org"}
		expired  = x509.CertificateInvalidError{Reason: x509.Expired, Cert: &x509.Certificate{}}
		usage    = x509.CertificateInvalidError{Reason: x509.IncompatibleUsage}
		plain    = errors.New("plain failure")
	)
	tests := []struct {
		name       string
		err, cause error // cause: what the TLSError wraps; nil: no TLSError
		want       CertReason
	}{
		{"unknown authority", unknown, unknown, CertUnknownAuthority},
		{"host name", hostname, hostname, CertHostnameMismatch},
		{"expired", expired, expired, CertExpired},
		{"otherwise invalid", usage, usage, CertOther},
		{"wrapped by the handshake", &url.Error{Op: "Get", URL: "https://signals.example.org/v2.0/ip/192.0.2.1",
			Err: &tls.CertificateVerificationError{Err: unknown}}, unknown, CertUnknownAuthority},
		{"other verification failure", &tls.CertificateVerificationError{Err: plain}, plain, CertOther},
		{"not a certificate failure", plain, nil, 0},
	}
	for _, tc := range tests {
		got, ok := asTLSError("ip report", tc.err)
		if tc.cause == nil {
			if ok {
				t.Errorf("%s: asTLSError = %v, want none", tc.name, got)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: no TLSError", tc.name)
			continue
		}
		if got.Reason != tc.want {
			t.Errorf("%s: Reason = %d, want %d", tc.name, got.Reason, tc.want)
		}
		if want := "auth0 signals ip report: certificate not verified: " + tc.cause.Error(); got.Error() != want {
			t.Errorf("%s: Error() = %q, want %q", tc.name, got.Error(), want)
		}
		if !errors.Is(got, tc.cause) {
			t.Errorf("%s: TLSError does not unwrap to its cause", tc.name)
		}
	}
}

func TestTransportErrorUnwraps(t *testing.T) {
	t.Parallel()
	e := &TransportError{Op: "list details", Err: context.DeadlineExceeded}
	if !errors.Is(e, context.DeadlineExceeded) {
		t.Error("TransportError does not unwrap to its cause")
	}
	if msg := e.Error(); !strings.Contains(msg, "list details") || !strings.Contains(msg, context.DeadlineExceeded.Error()) {
		t.Errorf("Error() = %q, want the call and the cause", msg)
	}
}

func TestCleanBody(t *testing.T) {
	t.Parallel()
	const key = "6f1c9a2e-3b7d-4c58-9e21-0a4b8c7d5e3f"
	tests := []struct {
		name   string
		body   string
		secret string
		want   string
	}{
		{"plain", "Resource not found", key, "Resource not found"},
		{"empty", "", key, ""},
		{"whitespace folded", "  a\r\n\tb   c \n", key, "a b c"},
		{"control characters", "a\x00b\x1bc\x7fd", key, "a b c d"},
		{"unicode spaces", "a\u00a0b\u2028c", key, "a b c"},
		{"key redacted", "key " + key + " unknown", key, "key [REDACTED] unknown"},
		{"key redacted twice", key + key, key, "[REDACTED][REDACTED]"},
		{"key with a space, split by a tab", "x a\tb y", "a b", "x [REDACTED] y"},
		{"no secret", "Unauthorized", "", "Unauthorized"},
		{"unicode kept", "Zugriff verweigert – 401", key, "Zugriff verweigert – 401"},
		{"key in upper case", "key " + strings.ToUpper(key) + "!", key, "key [REDACTED]!"},
		{"key percent-encoded", "token=%36%66%31%63%39%61%32%65%2D%33%62%37%64%2d%34%63%35%38%2D%39%65%32%31%2D%30%61%34%62%38%63%37%64%35%65%33%66&x", key, "token=[REDACTED]&x"},
		{"key JSON-escaped", `{"k":"\u0036\u0066\u0031\u0063\u0039\u0061\u0032\u0065\u002d\u0033\u0062\u0037\u0064\u002D\u0034\u0063\u0035\u0038\u002d\u0039\u0065\u0032\u0031\u002d\u0030\u0061\u0034\u0062\u0038\u0063\u0037\u0064\u0035\u0065\u0033\u0066"}`, key, `{"k":"[REDACTED]"}`},
		{"key with upper-case letters JSON-escaped", `k=\u0036\u0046` + key[2:], key, "k=[REDACTED]"},
		{"key mixing forms", `6F%31\u0063` + key[4:], key, "[REDACTED]"},
		{"special characters escaped", `{"k":"a\"b\\c\/d"} q=a%22b%5Cc%2Fd e+f`, `a"b\c/d`, `{"k":"[REDACTED]"} q=[REDACTED] e+f`},
		{"space as plus", "q=e+f", "e f", "q=[REDACTED]"},
		{"case-folded non-ASCII", "KEY-ÄÖ", "key-äö", "[REDACTED]"},
		{"key without dashes", "k=" + strings.ReplaceAll(key, "-", "") + ";", key, "k=[REDACTED];"},
		{"key without dashes, upper case", "k=" + strings.ToUpper(strings.ReplaceAll(key, "-", "")), key, "k=[REDACTED]"},
		{"key split across lines", "k=" + key[:10] + "\r\n" + key[10:20] + "\n" + key[20:] + " end", key, "k=[REDACTED] end"},
		{"key split by a JSON-escaped newline", `{"k":"` + key[:13] + `\n` + key[13:] + `"}`, key, `{"k":"[REDACTED]"}`},
		{"key split by a percent-encoded newline", "k=" + key[:13] + "%0A" + key[13:], key, "k=[REDACTED]"},
		{"key base64-encoded", "t=" + base64.StdEncoding.EncodeToString([]byte(key)), key, "t=[REDACTED]"},
		{"key base64url-encoded without dashes", "t=" + base64.RawURLEncoding.EncodeToString([]byte(strings.ReplaceAll(key, "-", ""))), key, "t=[REDACTED]Y"},
		{"key in a Basic credential", "Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+key)), key, "Basic dXNlcjo[REDACTED]Y="},
		{"key base64-encoded at every alignment", base64.StdEncoding.EncodeToString([]byte("ab:" + key + "!")), key, "YWI6[REDACTED]IQ=="},
	}
	// A base64 character made of the key's bits and its neighbour's stays.
	for _, tc := range tests {
		if got := cleanBody([]byte(tc.body), tc.secret, 300); got != tc.want {
			t.Errorf("%s: cleanBody(%q) = %q, want %q", tc.name, tc.body, got, tc.want)
		}
	}
}

func TestCleanBodyInvalidUTF8AndLength(t *testing.T) {
	t.Parallel()
	got := cleanBody([]byte("ok \xff\xfe then "+strings.Repeat("€", 1000)), "", 50)
	if !utf8.ValidString(got) {
		t.Errorf("cleanBody kept invalid UTF-8: %q", got)
	}
	if !strings.HasPrefix(got, "ok ") {
		t.Errorf("cleanBody = %q, want the start of the body", got)
	}
	if n := utf8.RuneCountInString(got); n > 51 {
		t.Errorf("cleanBody returned %d characters for a cap of 50", n)
	}
}

// TestAPIErrorCallerMessage checks that only the API's documented messages reach
// a caller; any other body stays in Error (for the log).
func TestAPIErrorCallerMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{401, "Unauthorized. API Key not found.", "Unauthorized. API Key not found."},
		{401, "Unauthorized", "Unauthorized"},
		{400, "Token must be a valid RFC4122 UUID", "Token must be a valid RFC4122 UUID"},
		{404, "Resource not found", "Resource not found"},
		{429, "429: Too Many Requests", "429: Too Many Requests"},
		{400, "proxy 10.0.0.7: Token must be a valid RFC4122 UUID", "Token must be a valid RFC4122 UUID"},
		{401, "Unauthorized by auth-backend.internal:8443", ""},
		{429, "quota of tenant 42 used up", ""},
		{500, "<html>stack trace</html>", ""},
		{401, "", ""},
	} {
		e := &APIError{Op: "ip report", StatusCode: tc.status, Body: tc.body}
		if got := e.Message(); got != tc.want {
			t.Errorf("Message() of %d %q = %q, want %q", tc.status, tc.body, got, tc.want)
		}
		if !strings.Contains(e.Error(), tc.body) {
			t.Errorf("Error() = %q, want it to keep the body for the log", e.Error())
		}
	}
}

// BenchmarkCleanBody is the cost of the body of an upstream error: the
// usual short 404 body, and a long body that echoes the key.
func BenchmarkCleanBody(b *testing.B) {
	const key = "6f1c2a8e-3b4d-4e5f-9a6b-7c8d9e0f1a2b"
	for _, body := range []string{"Resource not found", `{"error": "bad key ` + key + `", "detail": "see the documentation"}`} {
		b.Run(fmt.Sprintf("len=%d", len(body)), func(b *testing.B) {
			for b.Loop() {
				cleanBody([]byte(body), key, maxErrorText)
			}
		})
	}
}

// TestTransportErrorRedacted checks that a TransportError's text, which the
// relay logs in upstream_causes, never shows the API key, whatever form the
// underlying error quotes it in.
func TestTransportErrorRedacted(t *testing.T) {
	t.Parallel()
	const key = "6f1c9a2e-3b7d-4c58-9e21-0a4b8c7d5e3f"
	for _, quoted := range []string{key, strings.ToUpper(key), strings.ReplaceAll(key, "-", ""),
		base64.StdEncoding.EncodeToString([]byte(key))} {
		err := &TransportError{Op: "ip report", Kind: Unreachable, Err: fmt.Errorf("dial proxy for %s: refused", quoted), secret: key}
		if got := err.Error(); strings.Contains(got, quoted) || !strings.Contains(got, "[REDACTED]") {
			t.Errorf("TransportError.Error() = %q", got)
		}
	}
}
