package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/cmdflag"
	"github.com/signals-relay/signals-relay/internal/connlimit"
	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/lambdaedge"
	"github.com/signals-relay/signals-relay/internal/metrics"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/signals"
	"github.com/signals-relay/signals-relay/internal/version"
)

// shutdownMargin is what in-flight requests get beyond REQUEST_TIMEOUT at shutdown.
const shutdownMargin = 5 * time.Second

func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "listen address (default $LISTEN_ADDR or :9090)")
	if help, err := cmdflag.Parse(fs, args); help || err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.ListenAddr = *addr
	}
	logger := newLogger(stderr, cfg.LogLevel)
	m, err := serveMetrics(ctx, cfg, logger)
	if err != nil {
		return err
	}
	h, err := newRelay(cfg, logger, upstreamHTTPClient(cfg, m), m.Observe)
	if err != nil {
		return err
	}
	ln, err := listen(ctx, cfg.ListenAddr)
	if err != nil {
		return err
	}
	// At most MaxConns client connections are served at once, ConnsPerClient
	// of one address; at the cap the oldest idle one is closed, else new
	// ones wait until one closes.
	limited := connlimit.New(ln, connlimit.Config{Max: cfg.MaxConns, PerClient: cfg.ConnsPerClient, Logger: logger})
	srv := newServer(withBodyDeadline(cfg.BodyTimeout, readTimeout, m.InFlight(h)), logger)
	srv.IdleTimeout = cfg.IdleTimeout
	srv.ConnState = limited.ConnState
	ln = limited
	logger.Info("relay listening", "addr", ln.Addr().String(), "signals_api", cfg.SignalsURL, "version", version.Version)
	return serveUntilDone(ctx, srv, ln, logger, cfg.Limits.RequestTimeout+shutdownMargin)
}

// runLambda serves the same handler as an AWS Lambda function.
func runLambda(getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	h, err := newRelay(cfg, logger, upstreamHTTPClient(cfg, nil), nil)
	if err != nil {
		return err
	}
	logger.Info("relay starting on AWS Lambda", "signals_api", cfg.SignalsURL, "version", version.Version)
	return lambdaedge.Serve(getenv, h)
}

func listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", addr)
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// newRelay builds the relay's handler; observe, when set, receives each
// request's record. Its caches live as long as the process (or warm Lambda).
func newRelay(cfg config, logger *slog.Logger, upstream *http.Client, observe func(relay.RequestRecord)) (http.Handler, error) {
	client, err := signals.New(cfg.SignalsURL, upstream, version.UserAgent())
	if err != nil {
		return nil, err
	}
	verifier, err := newVerifier(cfg, logger)
	if err != nil {
		return nil, err
	}
	warnOldToolchain(logger, runtime.Version())
	lookup, err := enrich.New(client, cfg.Lookup)
	if err != nil {
		return nil, err
	}
	return relay.New(relay.Options{
		Logger: logger, Verifier: verifier, Lookup: lookup, Limits: cfg.Limits,
		Version: version.Version, Observe: observe,
	})
}

// warnOldToolchain warns when the binary was built with a Go older than
// go.mod's toolchain (GOTOOLCHAIN=local), which lacks standard-library fixes.
func warnOldToolchain(logger *slog.Logger, goVersion string) {
	if version.OldToolchain(goVersion) {
		logger.Warn("built with a Go release that lacks standard-library security fixes; rebuild with "+
			version.Toolchain+" (GOTOOLCHAIN=auto lets the go command fetch it)", "go_version", goVersion)
	}
}

// newVerifier is auth.New(cfg.Auth), warning when no credentials are set
// and logging the mode selected.
func newVerifier(cfg config, logger *slog.Logger) (auth.Verifier, error) {
	if cfg.Auth.Unconfigured() {
		logger.Warn("neither SECRET_KEY nor RELAY_URL is set: authenticated calls fail until one is")
	}
	v, err := auth.New(cfg.Auth)
	if err == nil {
		logger.Info("authentication", "auth_mode", auth.Mode(v))
	}
	return v, err
}

// upstreamHTTPClient is the client for Auth0 Signals: SIGNALS_TIMEOUT per call,
// UPSTREAM_MAX_CONNS shared connections kept for reuse, waited for when busy,
// each call counted in m (when not nil).
func upstreamHTTPClient(cfg config, m *metrics.Metrics) *http.Client {
	n := cfg.UpstreamConns
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost, t.MaxIdleConnsPerHost, t.MaxIdleConns = n, n, n
	t.ResponseHeaderTimeout = cfg.SignalsTimeout
	return &http.Client{Timeout: cfg.SignalsTimeout, Transport: m.Transport(t)}
}

// Bounds of a client's request on the public listener.
const (
	// headerTimeout is what a client gets to send its request line and
	// headers once it connects or starts a request.
	headerTimeout = 5 * time.Second
	// maxHeaderBytes fits a token of auth.MaxTokenBytes and the usual
	// headers; net/http answers 431 to more.
	maxHeaderBytes = auth.MaxTokenBytes + 8<<10
)

// readTimeout bounds a request as a whole, above the longest one: when it
// passes, net/http cancels the request's context even after its body was
// read. withBodyDeadline bounds the body.
const readTimeout = maxRequestTimeout + shutdownMargin

// newServer returns an http.Server with every timeout set.
func newServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: headerTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       defaultIdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// withBodyDeadline gives each request's body d to arrive: a read after
// that fails, so a body that trickles in ends there. The body's deadline
// replaces the server's ReadTimeout; once the body is read, the request is
// bounded again by total from its start.
func withBodyDeadline(d, total time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		start := time.Now()
		if r.Body != nil && r.Body != http.NoBody && rc.SetReadDeadline(start.Add(d)) == nil {
			r.Body = &deadlineBody{ReadCloser: r.Body, restore: func() { _ = rc.SetReadDeadline(start.Add(total)) }}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody restores the request's read bound at the body's end.
type deadlineBody struct {
	io.ReadCloser
	restore func()
	done    bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		b.restore()
	}
	return n, err
}

// serveUntilDone serves on ln until ctx ends, then lets in-flight requests
// finish within grace and closes what is left.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close() // the grace is over: drop what is left
		if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
			logger.Warn("serve after close", "err", serr)
		}
		return fmt.Errorf("shutdown: requests still running after %s: %w", grace, err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
