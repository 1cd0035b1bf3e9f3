package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/signals-relay/signals-relay/internal/metrics"
	"github.com/signals-relay/signals-relay/internal/relay"
)

// serveMetrics serves Prometheus metrics on METRICS_ADDR, a listener of
// their own, until ctx ends, and instruments the upstream client. It
// returns the relay's observer and the wrapper that counts requests in
// flight; with METRICS_ADDR unset it does nothing and returns nil and the
// identity.
func serveMetrics(ctx context.Context, cfg config, logger *slog.Logger, upstream *http.Client) (func(relay.RequestRecord), func(http.Handler) http.Handler, error) {
	if cfg.MetricsAddr == "" {
		return nil, func(h http.Handler) http.Handler { return h }, nil
	}
	ln, err := metrics.Listen(ctx, cfg.MetricsAddr, cfg.ListenAddr)
	if err != nil {
		return nil, nil, err
	}
	m := metrics.New()
	upstream.Transport = m.Transport(upstream.Transport)
	logger.Info("metrics listening", "addr", ln.Addr().String(), "path", "/metrics")
	go func() {
		if err := m.Serve(ctx, ln, logger); err != nil {
			logger.Error("metrics listener stopped", "err", err)
		}
	}()
	return m.Observe, m.InFlight, nil
}
