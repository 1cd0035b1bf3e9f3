package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/signals-relay/signals-relay/internal/metrics"
	"github.com/signals-relay/signals-relay/internal/relay"
)

// serveMetrics serves metrics on METRICS_ADDR until ctx ends and returns
// them (nil when METRICS_ADDR is unset: a nil *metrics.Metrics observes
// nothing). The admin listener also serves GET /watchdog, for probes that
// the public port's callers cannot starve.
func serveMetrics(ctx context.Context, cfg config, logger *slog.Logger) (*metrics.Metrics, error) {
	if cfg.MetricsAddr == "" {
		return nil, nil
	}
	ln, err := metrics.Listen(ctx, cfg.MetricsAddr, cfg.ListenAddr)
	if err != nil {
		return nil, err
	}
	m := metrics.New(metrics.CurrentBuild())
	logger.Info("metrics listening", "addr", ln.Addr().String(), "path", "/metrics", "probe", "/watchdog")
	admin := map[string]http.Handler{"GET /watchdog": relay.Watchdog(logger)}
	go func() {
		if err := m.Serve(ctx, ln, logger, admin); err != nil {
			logger.Error("metrics listener stopped", "err", err)
		}
	}()
	return m, nil
}
