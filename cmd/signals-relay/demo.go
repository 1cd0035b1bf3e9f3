//go:build !release

package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	signalsrelay "github.com/signals-relay/signals-relay"
	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/cmdflag"
	"github.com/signals-relay/signals-relay/internal/ctim"
	"github.com/signals-relay/signals-relay/internal/jwtgen"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "relay listen address")
	once := fs.Bool("once", false, "print the summary and exit instead of serving until interrupted")
	file := fs.String("observables", "", "observables file to look up (default: the repository's observables.json)")
	latency := fs.Duration("latency", 0, "simulated upstream latency, e.g. 30ms")
	if help, err := cmdflag.Parse(fs, args); help || err != nil {
		return err
	}
	body := signalsrelay.DemoObservables
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		body = b
	}

	// The simulator, on a loopback port of its own.
	simLn, err := listen(ctx, "127.0.0.1:0")
	if err != nil {
		return err
	}
	cfgLogger := newLogger(stderr, slog.LevelWarn)
	simSrv := newServer(simulator.New(simulator.Options{Latency: *latency}), cfgLogger)
	simDone := make(chan error, 1)
	simCtx, stopSim := context.WithCancel(context.Background())
	defer func() {
		stopSim()
		if err := <-simDone; err != nil {
			cfgLogger.Warn("simulator shutdown", "err", err)
		}
	}()
	go func() { simDone <- serveUntilDone(simCtx, simSrv, simLn, cfgLogger, shutdownGrace) }()

	// The relay, with a fresh SECRET_KEY, against the simulator.
	secret, err := jwtgen.NewSecret(nil)
	if err != nil {
		return err
	}
	env := map[string]string{
		"SECRET_KEY":      secret,
		"SIGNALS_API_URL": "http://" + simLn.Addr().String(),
		"LOG_LEVEL":       cmp.Or(getenv("LOG_LEVEL"), "warn"),
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	upstream := upstreamHTTPClient(cfg, nil)
	defer upstream.CloseIdleConnections() // before the simulator shuts down (deferred earlier)
	h, err := newRelay(cfg, logger, upstream, nil)
	if err != nil {
		return err
	}
	ln, err := listen(ctx, *addr)
	if err != nil {
		return fmt.Errorf("relay address: %w (choose another with --addr)", err)
	}
	relayCtx, stopRelay := context.WithCancel(ctx)
	defer stopRelay()
	relayDone := make(chan error, 1)
	go func() { relayDone <- serveUntilDone(relayCtx, newServer(h, logger), ln, logger, shutdownGrace) }()

	jwt, err := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte(secret))
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "signals-relay demo: relay on %s, built-in Auth0 Signals simulator on %s\n\n", base, env["SIGNALS_API_URL"])
	fmt.Fprintf(stdout, "JWT (HS256, payload {\"key\": <simulator API key>}, signed with a fresh SECRET_KEY):\n  %s\n\n", jwt)
	fmt.Fprintf(stdout, "Try it:\n  curl -s -X POST %s/observe/observables -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d @observables.json\n\n", base, jwt)
	fmt.Fprintln(stdout, requestLogNote(getenv("LOG_LEVEL"), cfg.LogLevel))
	fmt.Fprintln(stdout)

	summary, err := observeSummary(ctx, base, jwt, body)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, summary)
	if *once {
		stopRelay()
		return <-relayDone
	}
	fmt.Fprintln(stdout, "\nServing until interrupted (Ctrl-C).")
	return <-relayDone
}

// requestLogNote says whether the demo's request log is on: demo runs at
// LOG_LEVEL=warn unless the environment says otherwise, which leaves out
// the request lines serve writes at info.
func requestLogNote(set string, level slog.Level) string {
	name := strings.ToLower(level.String())
	switch {
	case level > slog.LevelInfo && set == "":
		return "Request log: off (demo runs with LOG_LEVEL=warn; set LOG_LEVEL=info to see one JSON line per request on standard error)."
	case level > slog.LevelInfo:
		return "Request log: off (LOG_LEVEL=" + name + "; LOG_LEVEL=info shows one JSON line per request on standard error)."
	default:
		return "Request log: on standard error, one JSON line per request (LOG_LEVEL=" + name + ")."
	}
}

// observeSummary posts body to the relay's observe endpoint and renders the
// answer as a table: verdict, judgements and lists per observable.
func observeSummary(ctx context.Context, base, jwt string, body []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/observe/observables", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+jwt)
	req.Header.Set("Content-Type", "application/json")
	req.Close = true // leaves no idle connection for the relay's shutdown to wait for
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("observe: %w", err)
	}
	defer resp.Body.Close()
	var out observeAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&out); err != nil {
		return "", fmt.Errorf("observe: decode answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("observe: HTTP %d", resp.StatusCode)
	}
	return out.render(), nil
}

// observeAnswer is an observe answer, decoded for the summary.
type observeAnswer struct {
	Data   ctim.Bundle `json:"data"`
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// docs returns a collection's documents; an absent collection has none.
func docs[T any](d *ctim.Docs[T]) []T {
	if d == nil {
		return nil
	}
	return d.Docs
}

func (a observeAnswer) render() string {
	d := a.Data
	titles := make(map[string]string)
	for _, ind := range docs(d.Indicators) {
		titles[ind.ID] = ind.Title
	}
	listOf := make(map[string]string) // sighting id → indicator title
	for _, rel := range docs(d.Relationships) {
		listOf[rel.SourceRef] = titles[rel.TargetRef]
	}
	reasons := make(map[ctim.Observable][]string)
	for _, j := range docs(d.Judgements) {
		reasons[j.Observable] = append(reasons[j.Observable], j.Reason)
	}
	lists := make(map[ctim.Observable][]string)
	for _, s := range docs(d.Sightings) {
		for _, o := range s.Observables {
			lists[o] = append(lists[o], fmt.Sprintf("%s (%s, TLP %s)", listOf[s.ID], s.Severity, s.TLP))
		}
	}
	var b strings.Builder
	for _, v := range docs(d.Verdicts) {
		o := v.Observable
		fmt.Fprintf(&b, "%-5s %-16s %s\n", o.Type, o.Value, v.DispositionName)
		for _, r := range reasons[o] {
			fmt.Fprintf(&b, "         judgement: %s\n", r)
		}
		for _, l := range lists[o] {
			fmt.Fprintf(&b, "         blocklist: %s\n", l)
		}
	}
	fmt.Fprintf(&b, "\n%d verdicts, %d judgements, %d sightings, %d indicators, %d relationships\n",
		len(docs(d.Verdicts)), len(docs(d.Judgements)), len(docs(d.Sightings)), len(docs(d.Indicators)), len(docs(d.Relationships)))
	for _, e := range a.Errors {
		fmt.Fprintf(&b, "error: %s: %s\n", e.Code, e.Message)
	}
	return b.String()
}
