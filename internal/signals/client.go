package signals

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/signals-relay/signals-relay/internal/bufpool"
	"github.com/signals-relay/signals-relay/internal/cache"
)

// Limits on what the client reads from the API; real reports are a few KiB.
const (
	MaxReportBytes  = 2 << 20   // a report body
	MaxDetailsBytes = 256 << 10 // a list-details body
	maxErrorBytes   = 16 << 10  // what is read of an error body
	maxErrorText    = 300       // what is kept of it
	maxRedirects    = 3         // requests of one same-host redirect chain: the first and two redirects
)

// DefaultBaseURL is the public Auth0 Signals API (SIGNALS_API_URL's default).
const DefaultBaseURL = "https://signals.api.auth0.com"

// Client calls the Auth0 Signals API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	prefix    string // base without a trailing slash, as endpoint extends it
	hc        *http.Client
	userAgent string
}

// New returns a client for the API at baseURL that calls through hc, whose
// Timeout bounds each call. It refuses redirects to another host, where the
// API key would go too.
func New(baseURL string, hc *http.Client, userAgent string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its URL may carry a password or a token
		}
		return nil, fmt.Errorf("signals base URL: %w", err)
	}
	// Messages leave out userinfo, query and fragment: secrets could stand there.
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("signals base URL %q: want http(s)://host[:port][/prefix]", shown)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("signals base URL %q: must not carry credentials, a query or a fragment", shown)
	}
	if hc == nil {
		return nil, errors.New("signals: an *http.Client is required")
	}
	own := *hc
	own.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return &redirectError{"too many redirects"}
		}
		if req.URL.Host != u.Host || req.URL.Scheme != u.Scheme {
			return &redirectError{fmt.Sprintf("refused redirect to another host (%s)", req.URL.Host)}
		}
		return nil
	}
	prefix := (&url.URL{Scheme: u.Scheme, Host: u.Host}).String() + strings.TrimRight(u.EscapedPath(), "/")
	return &Client{base: u, prefix: prefix, hc: &own, userAgent: userAgent}, nil
}

// redirectError is a redirect the client refused to follow.
type redirectError struct{ detail string }

func (e *redirectError) Error() string { return e.detail }

// BaseURL returns the API base URL the client calls.
func (c *Client) BaseURL() string { return c.base.String() }

// Report returns ip's full report, or (nil, nil) when the API knows nothing
// (NoData), as for "", "." and "..", which are no address and as a path
// segment would name another resource: those get no request.
func (c *Client) Report(ctx context.Context, apiKey, ip string) (*Report, error) {
	if dotSegment(ip) {
		return nil, nil
	}
	var r *Report
	err := c.get(ctx, "ip report", apiKey, []string{"v2.0", "ip", ip}, MaxReportBytes, func(body []byte) (err error) {
		r, err = decodeReport(body)
		return err
	})
	if nothingKnown(err) {
		return nil, nil
	}
	return r, err
}

// ListDetails returns the details of one blocklist.
func (c *Client) ListDetails(ctx context.Context, apiKey string, ref ListRef) (*ListDetails, error) {
	const op = "list details"
	if dotSegment(ref.ID) {
		return nil, &TransportError{Op: op, Kind: Unreadable, Err: errors.New("invalid list id")}
	}
	var d *ListDetails
	err := c.get(ctx, op, apiKey, []string{"metadata", string(ref.Kind), "lists", ref.ID}, MaxDetailsBytes, func(body []byte) (err error) {
		d, err = decodeListDetails(body)
		return err
	})
	return d, err
}

// Ping checks that the API answers and accepts apiKey, with the caller's
// own report; as in the original relay, NoData counts as healthy.
func (c *Client) Ping(ctx context.Context, apiKey string) error {
	if err := c.get(ctx, "health check", apiKey, []string{"v2.0", "ip"}, MaxReportBytes, nil); !nothingKnown(err) {
		return err
	}
	return nil
}

// nothingKnown reports whether err is an APIError that means NoData.
func nothingKnown(err error) bool {
	if err == nil {
		return false // before apiErr, which escapes: no allocation per report
	}
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.NoData()
}

// dotSegment reports whether s is empty or a dot segment, which servers
// resolve against the path before it.
func dotSegment(s string) bool { return s == "" || s == "." || s == ".." }

// endpoint builds the URL of the segments under the base URL; each is
// path-escaped, so a value can never add segments or a query.
func (c *Client) endpoint(segments []string) string {
	var b strings.Builder
	n := len(c.prefix)
	for _, s := range segments {
		n += 1 + len(s)
	}
	b.Grow(n + 8) // room for a few escapes
	b.WriteString(c.prefix)
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// get performs one GET and passes a 2xx body of at most limit bytes to
// decode (when not nil). The body is only valid during decode.
func (c *Client) get(ctx context.Context, op, apiKey string, segments []string, limit int64, decode func([]byte) error) error {
	if !httpguts.ValidHeaderFieldValue(apiKey) {
		return &TransportError{Op: op, Kind: KeyNotSendable, Err: errors.New("the API key is not a valid header value")}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(segments), nil)
	if err != nil {
		return &TransportError{Op: op, Err: err, secret: apiKey}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("X-Auth-Token", apiKey)

	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(ctx, op, apiKey, Unreachable, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		return &APIError{
			Op:           op,
			StatusCode:   resp.StatusCode,
			Body:         cleanBody(b, apiKey, maxErrorText),
			invalidToken: bytes.Contains(b, []byte(invalidTokenText)),
		}
	}
	buf := bufpool.Get()
	defer bufpool.Put(buf)
	if n := resp.ContentLength; n > 0 && n <= limit {
		buf.Grow(int(n) + bytes.MinRead) // room for the read that finds the end
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1)); err != nil {
		return c.transportError(ctx, op, apiKey, Unreadable, fmt.Errorf("read body: %w", err))
	}
	if int64(buf.Len()) > limit {
		return &TransportError{Op: op, Kind: Unreadable, Err: fmt.Errorf("body larger than %d bytes", limit)}
	}
	if decode == nil {
		return nil
	}
	if err := decode(buf.Bytes()); err != nil {
		return &TransportError{Op: op, Kind: Unreadable, Err: fmt.Errorf("decode body: %w", err), secret: apiKey}
	}
	return nil
}

// transportError classifies a failed round trip or read as kind unless it
// was a timeout, a refused redirect or a certificate failure.
func (c *Client) transportError(ctx context.Context, op, apiKey string, kind Kind, err error) error {
	if tlsErr, ok := asTLSError(op, err); ok {
		return tlsErr
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &TransportError{Op: op, Kind: TimedOut, Err: ctxErr, secret: apiKey}
	}
	var (
		uerr     *url.Error
		redirect *redirectError
		netErr   net.Error
	)
	switch {
	case errors.As(err, &redirect):
		kind = RedirectRefused
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		kind = TimedOut
	}
	if errors.As(err, &uerr) {
		err = uerr.Err
		if uerr.Timeout() {
			err = fmt.Errorf("no answer within %s: %w", c.hc.Timeout, context.DeadlineExceeded)
		}
	}
	return &TransportError{Op: op, Kind: kind, Err: err, secret: apiKey}
}

var errNotObject = errors.New("not a JSON object")

// invalidTokenText answers (400, sometimes 404) a key that is not a UUID.
const invalidTokenText = "Token must be a valid RFC4122 UUID"

// documentedMessages are the only upstream text a caller may see: another
// body can name internal hosts or echo request data.
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
	// Body is the body's start, folded and redacted, for logs only.
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

// Message is the body when documented, the invalid-token message when the
// body held it, else "".
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

// NoData reports whether the answer means "nothing known": a 400 (bad
// address) or 404 that is not a key problem.
func (e *APIError) NoData() bool {
	return (e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusNotFound) && !e.Unauthorized()
}

// CertReason says why the API's certificate failed verification, for the
// caller's message.
type CertReason int

// The reasons a certificate fails verification.
const (
	CertOther            CertReason = iota // any other failure
	CertUnknownAuthority                   // not signed by a trusted authority
	CertHostnameMismatch                   // not valid for the API's host name
	CertExpired                            // outside its validity period
)

// TLSError is a failure to verify the API's certificate. Its text is for
// the log; callers see a fixed message per Reason.
type TLSError struct {
	Op     string
	Reason CertReason
	Err    error
}

func (e *TLSError) Error() string {
	return fmt.Sprintf("auth0 signals %s: certificate not verified: %v", e.Op, e.Err)
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

// TransportError is any failure that prevented an answer. Its text is for
// the log; callers see a fixed message per Kind.
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
func asTLSError(op string, err error) (*TLSError, bool) {
	var (
		unknown   x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		hostname  x509.HostnameError
		verifyErr *tls.CertificateVerificationError
	)
	e := &TLSError{Op: op, Reason: CertOther}
	switch {
	case errors.As(err, &unknown):
		e.Reason, e.Err = CertUnknownAuthority, unknown
	case errors.As(err, &hostname):
		e.Reason, e.Err = CertHostnameMismatch, hostname
	case errors.As(err, &invalid):
		e.Err = invalid
		if invalid.Reason == x509.Expired {
			e.Reason = CertExpired
		}
	case errors.As(err, &verifyErr):
		e.Err = verifyErr.Err
	default:
		return nil, false
	}
	return e, true
}

// cleanBody folds whitespace and controls, redacts secret and caps length.
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

// redact replaces secret in s, in any case, percent-encoded, JSON-escaped
// or base64-encoded, without its dashes, or split across lines (an upstream
// may echo it from a URL, a header or inside JSON).
func redact(s, secret string) string { return redacter(secret)(s) }

// redacter returns redact for one secret, compiling its pattern once, and
// only for a text long enough to hold it: a short 404 body costs nothing.
func redacter(secret string) func(string) string {
	var re *regexp.Regexp
	n := utf8.RuneCountInString(secret) - strings.Count(secret, "-") // its shortest form
	return func(s string) string {
		if secret == "" || utf8.RuneCountInString(s) < n {
			return s
		}
		if re == nil {
			re = pattern(secret)
		}
		return re.ReplaceAllLiteralString(s, "[REDACTED]")
	}
}

// jsonShortEscapes are the two-character JSON escapes.
var jsonShortEscapes = map[rune]string{'"': `\"`, '\\': `\\`, '/': `\/`, '\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\t': `\t`}

// lineBreaks matches what may split a secret across lines: white space,
// its JSON escapes and its percent-encodings.
const lineBreaks = `(?:\s|\\[nrt]|%0[ad9])*`

// secretPattern matches secret in every form redact covers.
func secretPattern(secret string) *regexp.Regexp {
	var b strings.Builder
	for i, r := range []rune(secret) {
		if i > 0 {
			b.WriteString(lineBreaks)
		}
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
		if r == '-' { // a UUID key is also written without its dashes
			b.WriteString("?")
		}
	}
	forms := append([]string{b.String()}, base64Forms(secret)...)
	return regexp.MustCompile("(?i)(?:" + strings.Join(forms, "|") + ")")
}

// patterns keeps the compiled patterns of recent keys: a pattern takes a
// millisecond or two to build, and a key's failures come in runs.
var patterns = cache.New[string, *regexp.Regexp](cache.Config{Size: 64, TTL: 10 * time.Minute})

// pattern returns secret's pattern from patterns, building it once.
func pattern(secret string) *regexp.Regexp {
	re, _, _ := patterns.Get(context.Background(), secret, "", func(context.Context) (*regexp.Regexp, error) {
		return secretPattern(secret), nil
	})
	return re
}

// minBase64Form is the shortest base64 fragment redacted: a shorter one
// would match ordinary text.
const minBase64Form = 8

// base64Forms returns, as regexp literals, the base64 characters (standard
// and URL alphabets) that secret, its upper case and both without dashes
// give wherever they start in an encoded text (three alignments): an
// upstream may echo a Basic credential or an encoded token.
func base64Forms(secret string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range []string{secret, strings.ReplaceAll(secret, "-", "")} {
		for _, v := range []string{v, strings.ToUpper(v)} {
			for off := range 3 {
				enc := base64.StdEncoding.EncodeToString(append(make([]byte, off), v...))
				// Only the characters made of the secret's bits alone.
				frag := enc[(off*4+2)/3 : (off+len(v))*8/6]
				for _, f := range []string{frag, strings.NewReplacer("+", "-", "/", "_").Replace(frag)} {
					if len(f) >= minBase64Form && !seen[f] {
						seen[f] = true
						out = append(out, regexp.QuoteMeta(f))
					}
				}
			}
		}
	}
	return out
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
