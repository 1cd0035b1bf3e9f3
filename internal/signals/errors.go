package signals

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

var errNotObject = errors.New("not a JSON object")

// invalidTokenText is the API's answer (400, sometimes 404) to a key that
// is not a UUID.
const invalidTokenText = "Token must be a valid RFC4122 UUID"

// documentedMessages are the error bodies the API is documented to send
// (docs/auth0-signals-api.md §6): the only upstream text a caller may see.
// Any other body can name internal hosts or echo request data.
var documentedMessages = map[string]bool{
	"Unauthorized. API Key not found.": true,
	"Unauthorized":                     true,
	invalidTokenText:                   true,
	"Resource not found":               true,
	"429: Too Many Requests":           true,
}

// APIError is a non-2xx answer from the API.
type APIError struct {
	Op         string // "ip report", "list details" or "health check"
	StatusCode int
	// Body is the start of the body, whitespace-folded, with the API key
	// redacted: for logs only (Message is for the caller).
	Body string
	// invalidToken: the body as received said the key is not a UUID, which
	// Body may no longer show (redaction, length cap).
	invalidToken bool
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("auth0 signals %s: status %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Message is the body when it is a documented message, the invalid-token
// message when the body held it, else "".
func (e *APIError) Message() string {
	switch {
	case documentedMessages[e.Body]:
		return e.Body
	case e.invalidToken || strings.Contains(e.Body, invalidTokenText):
		return invalidTokenText
	}
	return ""
}

// Unauthorized reports whether the API rejected the key: a 401, or a 400/404
// saying the token is not a UUID.
func (e *APIError) Unauthorized() bool {
	return e.StatusCode == http.StatusUnauthorized ||
		((e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusNotFound) &&
			(e.invalidToken || strings.Contains(e.Body, invalidTokenText)))
}

// RateLimited reports whether the key's quota is used up (429).
func (e *APIError) RateLimited() bool { return e.StatusCode == http.StatusTooManyRequests }

// NoData reports whether the answer means "nothing known about this
// resource": a 400 (bad address) or 404 that is not a key problem.
func (e *APIError) NoData() bool {
	return (e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusNotFound) && !e.Unauthorized()
}

// TLSError is a failure to verify the API's certificate.
type TLSError struct {
	Err error
}

func (e *TLSError) Error() string {
	reason := "unknown reason"
	if e.Err != nil {
		reason = e.Err.Error()
	}
	return "Unable to verify SSL certificate: " + capitalize(reason)
}

func (e *TLSError) Unwrap() error { return e.Err }

// Kind says what went wrong in a TransportError, for the caller's message.
type Kind int

// The kinds of transport failure.
const (
	Unreachable     Kind = iota // no answer: refused, reset, DNS, closed early
	TimedOut                    // no complete answer within the timeout or deadline
	Unreadable                  // cut off, too large, or not the JSON expected
	RedirectRefused             // to another host, or too many
	KeyNotSendable              // the key is no valid header value; nothing was sent
)

// TransportError is any failure that prevented an answer. Its Error text
// (addresses, Go error text) is for the log; callers see a fixed message
// per Kind.
type TransportError struct {
	Op     string
	Kind   Kind
	Err    error
	secret string // the API key, redacted from Error
}

func (e *TransportError) Error() string {
	return redact("auth0 signals "+e.Op+": "+e.Err.Error(), e.secret)
}

func (e *TransportError) Unwrap() error { return e.Err }

// asTLSError returns a *TLSError when err is a certificate failure.
func asTLSError(err error) (*TLSError, bool) {
	var (
		unknown   x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		hostname  x509.HostnameError
		verifyErr *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &verifyErr):
		return &TLSError{Err: verifyErr.Err}, true
	case errors.As(err, &unknown):
		return &TLSError{Err: unknown}, true
	case errors.As(err, &invalid):
		return &TLSError{Err: invalid}, true
	case errors.As(err, &hostname):
		return &TLSError{Err: hostname}, true
	}
	return nil, false
}

func capitalize(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}

// cleanBody folds whitespace in an error body, drops control characters,
// redacts secret, and caps the length.
func cleanBody(b []byte, secret string, max int) string {
	redact := redacter(secret)
	s := redact(strings.ToValidUTF8(string(b), "\uFFFD"))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	s = redact(s) // the fold may have joined a key split by whitespace
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}

// redact replaces secret in s with [REDACTED] in any letter case and with
// any character percent-encoded ('+' for a space) or JSON-escaped, as an
// upstream may echo the key from a URL or inside JSON.
func redact(s, secret string) string { return redacter(secret)(s) }

// redacter returns redact for one secret, compiling its pattern at most
// once and only for a text long enough to hold the secret (every form of a
// character is at least one character), so a short 404 body costs nothing.
func redacter(secret string) func(string) string {
	var re *regexp.Regexp
	n := utf8.RuneCountInString(secret)
	return func(s string) string {
		if secret == "" || utf8.RuneCountInString(s) < n {
			return s
		}
		if re == nil {
			re = secretPattern(secret)
		}
		return re.ReplaceAllLiteralString(s, "[REDACTED]")
	}
}

// jsonShortEscapes are the two-character JSON escapes.
var jsonShortEscapes = map[rune]string{'"': `\"`, '\\': `\\`, '/': `\/`, '\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\t': `\t`}

// secretPattern matches secret in every form redact covers.
func secretPattern(secret string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?i)")
	for _, r := range secret {
		alts := []string{regexp.QuoteMeta(string(r))}
		// Every letter case of r, each percent-encoded and JSON-escaped.
		for f := r; ; {
			alts = append(alts, encodedForms(f)...)
			if f = unicode.SimpleFold(f); f == r {
				break
			}
		}
		if r == ' ' {
			alts = append(alts, `\+`)
		}
		if esc, ok := jsonShortEscapes[r]; ok {
			alts = append(alts, regexp.QuoteMeta(esc))
		}
		b.WriteString("(?:" + strings.Join(alts, "|") + ")")
	}
	return regexp.MustCompile(b.String())
}

// encodedForms returns r percent-encoded and \uXXXX-escaped as regexp
// literals (the pattern ignores case, so either hex case matches).
func encodedForms(r rune) []string {
	var enc [utf8.UTFMax]byte
	n := utf8.EncodeRune(enc[:], r)
	var pct strings.Builder
	for _, c := range enc[:n] {
		fmt.Fprintf(&pct, "%%%02X", c)
	}
	esc := fmt.Sprintf(`\u%04X`, r)
	if r > 0xFFFF {
		hi, lo := utf16.EncodeRune(r)
		esc = fmt.Sprintf(`\u%04X\u%04X`, hi, lo)
	}
	return []string{regexp.QuoteMeta(pct.String()), regexp.QuoteMeta(esc)}
}
