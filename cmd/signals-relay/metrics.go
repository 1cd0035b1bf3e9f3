package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/signals-relay/signals-relay/internal/metrics"
	"github.com/signals-relay/signals-relay/internal/relay"
)

// serveMetrics serves metrics on METRICS_ADDR until ctx ends, instruments
// upstream, and returns the relay's observer and in-flight counter (nil and
// the identity when METRICS_ADDR is unset). The admin listener also serves
// GET /watchdog, for probes that the public port's callers cannot starve.
func serveMetrics(ctx context.Context, cfg config, logger *slog.Logger, upstream *http.Client) (func(relay.RequestRecord), func(http.Handler) http.Handler, error) {
	if cfg.MetricsAddr == "" {
		return nil, func(h http.Handler) http.Handler { return h }, nil
	}
	ln, err := metrics.Listen(ctx, cfg.MetricsAddr, cfg.ListenAddr)
	if err != nil {
		return nil, nil, err
	}
	m := metrics.New(metrics.CurrentBuild())
	upstream.Transport = m.Transport(upstream.Transport)
	logger.Info("metrics listening", "addr", ln.Addr().String(), "path", "/metrics", "probe", "/watchdog")
	admin := map[string]http.Handler{"GET /watchdog": relay.Watchdog(logger)}
	go func() {
		if err := m.Serve(ctx, ln, logger, admin); err != nil {
			logger.Error("metrics listener stopped", "err", err)
		}
	}()
	return m.Observe, m.InFlight, nil
}
