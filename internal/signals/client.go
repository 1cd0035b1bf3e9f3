package signals

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/signals-relay/signals-relay/internal/bufpool"
)

// Limits on what the client reads from the API; real reports are a few KiB.
const (
	MaxReportBytes  = 2 << 20   // a report body
	MaxDetailsBytes = 256 << 10 // a list-details body
	maxErrorBytes   = 16 << 10  // what is read of an error body
	maxErrorText    = 300       // what is kept of it
	maxRedirects    = 3         // same-host redirects followed
)

// DefaultBaseURL is the address of the public Auth0 Signals API.
const DefaultBaseURL = "https://signals.api.auth0.com"

// Client calls the Auth0 Signals API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	prefix    string // base without a trailing slash, as endpoint extends it
	hc        *http.Client
	userAgent string
}

// New returns a client for the API at baseURL (scheme, host, optional path
// prefix). nil hc means a client with a 10 s timeout. Redirects to another
// host are refused, so the API key goes nowhere but baseURL's host.
func New(baseURL string, hc *http.Client, userAgent string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its URL may carry a password or a token
		}
		return nil, fmt.Errorf("signals base URL: %w", err)
	}
	// Messages leave out userinfo, query and fragment: a password or a
	// ?token= could stand there.
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("signals base URL %q: want http(s)://host[:port][/prefix]", shown)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("signals base URL %q: must not carry credentials, a query or a fragment", shown)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
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

// Report returns the full report of ip, or (nil, nil) when the API knows
// nothing about it (a 400 or 404 that is not a key problem). "", "." and
// ".." are no address, and as a path segment would name another resource
// (the caller's own report): they get (nil, nil) without a request.
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

// Ping checks that the API is reachable and accepts apiKey with the
// caller's own report (GET /v2.0/ip). As in the original relay, a 400 or
// 404 that is not a key problem counts as healthy.
func (c *Client) Ping(ctx context.Context, apiKey string) error {
	if err := c.get(ctx, "health check", apiKey, []string{"v2.0", "ip"}, MaxReportBytes, nil); !nothingKnown(err) {
		return err
	}
	return nil
}

// nothingKnown reports whether err is an APIError that means NoData.
func nothingKnown(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.NoData()
}

// dotSegment reports whether s, as a path segment, would be empty or a dot
// segment that servers and proxies resolve against the path before it.
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

// transportError classifies a failed round trip or body read as kind
// unless it was a timeout, a refused redirect or a certificate failure. The
// *url.Error wrapper is dropped: its URL adds nothing to op.
func (c *Client) transportError(ctx context.Context, op, apiKey string, kind Kind, err error) error {
	if tlsErr, ok := asTLSError(err); ok {
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
