package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/cmdflag"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// The attacks of 'loadtest attack -mode', each with its default number of
// connections (or concurrent callers).
var attackModes = map[string]struct {
	conns int
	what  string
	// authenticated: the attacker holds a valid token (a 503 to the probe
	// is then allowed: the load cap sheds work).
	authenticated bool
	// redial is what an attacker waits before it tries again: a
	// connection holder reconnects once a second, a caller after 50 ms.
	redial time.Duration
}{
	"keepalive-hold": {512, "keep-alive connections, each sending GET /watchdog every 20 s", false, time.Second},
	"silent":         {1536, "connections that send nothing", false, time.Second},
	"forged-token":   {512, "callers of POST /health with forged tokens of 60 KB and 8 KiB", false, 50 * time.Millisecond},
	"big-refer":      {32, "callers of POST /refer/observables with 1 MiB bodies and a valid token", true, 50 * time.Millisecond},
	"slow-body":      {64, "callers with a valid token sending their body at one byte a second", false, time.Second},
}

// attackConfig is one attack run.
type attackConfig struct {
	mode               string
	base, admin        string // the relay's public and admin URLs
	conns              int
	duration           time.Duration
	source             string // the attacker's local address
	pid                int
	token              string // valid, for the probe and the authenticated attacks
	every              time.Duration
	maxP99, maxAdmin   time.Duration // 0: no check
	maxRSSMiB          float64       // 0: no check
	allow503, checking bool
}

const attackUsage = `usage: loadtest attack -mode keepalive-hold|silent|forged-token|big-refer|slow-body [flags]
Attacks a relay on loopback for -d while a well-behaved probe client (from 127.0.0.1) calls
GET /watchdog and a one-address POST /deliberate/observables on the public port and GET /watchdog
on the admin listener; reports the probe's latency, its failures and the relay's peak RSS (-pid).
`

// parseAttack reads the flags of attack; it returns nil, nil after -h.
func parseAttack(args []string, getenv func(string) string, stderr io.Writer) (*attackConfig, error) {
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, attackUsage); fs.PrintDefaults() }
	c := &attackConfig{}
	fs.StringVar(&c.mode, "mode", "", "the attack: keepalive-hold, silent, forged-token, big-refer or slow-body")
	fs.StringVar(&c.base, "url", "http://127.0.0.1:9090", "the relay's public URL (loopback only)")
	fs.StringVar(&c.admin, "admin", "", "the relay's admin listener URL (METRICS_ADDR), probed at /watchdog; empty: not probed")
	fs.IntVar(&c.conns, "c", 0, "attacking connections or callers (0: the mode's default)")
	fs.DurationVar(&c.duration, "d", 10*time.Second, "duration of the attack (at most 2m)")
	fs.StringVar(&c.source, "source", "127.0.0.2", "local address of the attacker's connections (the probe uses 127.0.0.1)")
	fs.IntVar(&c.pid, "pid", 0, "relay process id whose peak RSS (VmHWM) is reported; 0: none")
	fs.DurationVar(&c.every, "probe-every", 100*time.Millisecond, "pause between two rounds of the probe")
	fs.DurationVar(&c.maxP99, "max-p99", 0, "fail when a public probe's p99 reaches this (0: no check)")
	fs.DurationVar(&c.maxAdmin, "max-admin-p99", 0, "fail when the admin probe's p99 reaches this (0: no check)")
	fs.Float64Var(&c.maxRSSMiB, "max-rss", 0, "fail when the relay's peak RSS reaches this many MiB (0: no check; needs -pid)")
	key := fs.String("key", simulator.DemoKey, "Auth0 Signals API key carried by the valid token")
	if help, err := cmdflag.Parse(fs, args); help || err != nil {
		if err != nil {
			err = usageError{err}
		}
		return nil, err
	}
	m, ok := attackModes[c.mode]
	if !ok {
		return nil, usageError{fmt.Errorf("unknown -mode %q", c.mode)}
	}
	if c.conns == 0 {
		c.conns = m.conns
	}
	c.allow503 = m.authenticated
	c.checking = c.maxP99 > 0 || c.maxAdmin > 0 || c.maxRSSMiB > 0
	if c.conns < 1 || c.conns > 4096 || c.duration <= 0 || c.duration > 2*time.Minute || c.every <= 0 {
		return nil, usageError{errors.New("want 1 ≤ -c ≤ 4096, 0 < -d ≤ 2m and -probe-every > 0")}
	}
	for _, u := range []string{c.base, c.admin} {
		if u != "" && !loopbackURL(u) {
			return nil, usageError{fmt.Errorf("%s: attacks are for loopback addresses only", u)}
		}
	}
	if ip := net.ParseIP(c.source); ip == nil || !ip.IsLoopback() {
		return nil, usageError{fmt.Errorf("-source %q: want a loopback address", c.source)}
	}
	c.base, c.admin = strings.TrimRight(c.base, "/"), strings.TrimRight(c.admin, "/")
	tok, err := signToken(getenv, *key, "the probe")
	if err != nil {
		return nil, err
	}
	c.token = tok
	return c, nil
}

// loopbackURL reports whether u is an http URL of a loopback address.
func loopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "http" {
		return false
	}
	if p.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(p.Hostname())
	return ip != nil && ip.IsLoopback()
}

// probeStats is what one probe measured.
type probeStats struct {
	name      string
	latencies []time.Duration
	failed    int // no answer, or not the answer expected
	shed      int // 503
	first     string
}

// runAttack runs the attack and the probe for c.duration and reports.
func runAttack(ctx context.Context, c *attackConfig, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	var attacks attackCounts
	var wg sync.WaitGroup
	wg.Go(func() { attack(ctx, c, &attacks) })
	time.Sleep(min(time.Second, c.duration/4)) // let the attack take hold
	probes := probe(ctx, c)
	wg.Wait()

	fmt.Fprintf(stdout, "mode          %s: %d %s, from %s, for %s\n", c.mode, c.conns, attackModes[c.mode].what, c.source, c.duration)
	fmt.Fprintf(stdout, "attack        %d connections opened, %d requests answered, %d connections closed by the relay or failed\n",
		attacks.dials.Load(), attacks.answers.Load(), attacks.closed.Load())
	var problems []string
	for _, p := range probes {
		slices.Sort(p.latencies)
		l := p.latencies
		fmt.Fprintf(stdout, "probe         %-22s n=%d p50 %s p99 %s max %s, %d failed, %d answered 503\n",
			p.name, len(l), percentile(l, 50), percentile(l, 99), percentile(l, 100), p.failed, p.shed)
		limit := c.maxP99
		if strings.HasPrefix(p.name, "admin") {
			limit = c.maxAdmin
		}
		switch {
		case len(l) == 0 && p.failed == 0:
		case limit > 0 && (len(l) == 0 || percentile(l, 99) >= limit):
			problems = append(problems, fmt.Sprintf("%s p99 %s, want under %s", p.name, percentile(l, 99), limit))
		}
		if c.checking && p.failed > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d failed (first: %s)", p.name, p.failed, p.first))
		}
		if c.checking && p.shed > 0 && !c.allow503 {
			problems = append(problems, fmt.Sprintf("%s: %d answered 503 while only unauthenticated or slow callers attack", p.name, p.shed))
		}
	}
	if c.pid != 0 {
		pr, err := readProc(c.pid)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "relay memory  peak (VmHWM) %.1f MiB, now %.1f MiB (pid %d)\n", mib(pr.peakKiB), mib(pr.rssKiB), c.pid)
		if c.maxRSSMiB > 0 && mib(pr.peakKiB) >= c.maxRSSMiB {
			problems = append(problems, fmt.Sprintf("peak RSS %.1f MiB, want under %.0f MiB", mib(pr.peakKiB), c.maxRSSMiB))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("targets missed: %s", strings.Join(problems, "; "))
	}
	return nil
}

// attackCounts is what the attacker saw.
type attackCounts struct {
	dials, answers, closed atomic.Int64
}

// attack runs c.conns attacking workers until ctx ends.
func attack(ctx context.Context, c *attackConfig, n *attackCounts) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(c.source)}, Timeout: 5 * time.Second}
	host := strings.TrimPrefix(c.base, "http://")
	var body []byte
	forged := []string{forgedToken(60 << 10), forgedToken(auth.MaxTokenBytes)} // refused at the header cap; by its HMAC
	if c.mode == "big-refer" {
		body = bigReferBody(1 << 20)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			n.dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: c.conns, MaxConnsPerHost: c.conns,
	}}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	for w := range c.conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				var err error
				switch c.mode {
				case "keepalive-hold":
					err = holdKeepAlive(ctx, d, host, n)
				case "silent":
					err = holdSilent(ctx, d, host, n)
				case "slow-body":
					err = slowBody(ctx, d, host, c.token, n)
				case "forged-token":
					err = post(ctx, client, c.base+"/health", "Bearer "+forged[w%2], nil, n)
				case "big-refer":
					err = post(ctx, client, c.base+"/refer/observables", "Bearer "+c.token, body, n)
				}
				if err != nil && ctx.Err() == nil {
					n.closed.Add(1)
					sleep(ctx, attackModes[c.mode].redial) // a closed attacker tries again, not in a tight loop
				}
			}
		})
	}
	wg.Wait()
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// dialRaw opens a raw connection that ctx's end closes.
func dialRaw(ctx context.Context, d *net.Dialer, host string, n *attackCounts) (net.Conn, func(), error) {
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, nil, err
	}
	n.dials.Add(1)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	return conn, func() { stop(); conn.Close() }, nil
}

// holdKeepAlive holds one keep-alive connection, sending GET /watchdog on
// it every 20 s, until the relay closes it or ctx ends.
func holdKeepAlive(ctx context.Context, d *net.Dialer, host string, n *attackCounts) error {
	conn, done, err := dialRaw(ctx, d, host, n)
	if err != nil {
		return err
	}
	defer done()
	r := bufio.NewReader(conn)
	for ctx.Err() == nil {
		if _, err := io.WriteString(conn, "GET /watchdog HTTP/1.1\r\nHost: relay\r\nHealth-Check: hold\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		n.answers.Add(1)
		sleep(ctx, 20*time.Second)
	}
	return nil
}

// holdSilent holds one connection that sends nothing until the relay
// closes it or ctx ends.
func holdSilent(ctx context.Context, d *net.Dialer, host string, n *attackCounts) error {
	conn, done, err := dialRaw(ctx, d, host, n)
	if err != nil {
		return err
	}
	defer done()
	_, err = conn.Read(make([]byte, 1))
	return err
}

// slowBody sends a deliberate call with a valid token whose 1 KiB body
// arrives at one byte a second.
func slowBody(ctx context.Context, d *net.Dialer, host, token string, n *attackCounts) error {
	conn, done, err := dialRaw(ctx, d, host, n)
	if err != nil {
		return err
	}
	defer done()
	if _, err := fmt.Fprintf(conn, "POST /deliberate/observables HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1024\r\n\r\n", token); err != nil {
		return err
	}
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
			resp.Body.Close()
			n.answers.Add(1)
		}
	}()
	for ctx.Err() == nil {
		select {
		case <-answered:
			return errors.New("answered")
		case <-time.After(time.Second):
		}
		if _, err := conn.Write([]byte(" ")); err != nil {
			return err
		}
	}
	return nil
}

// post sends one request and reads its answer.
func post(ctx context.Context, client *http.Client, url, authz string, body []byte, n *attackCounts) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", authz)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	n.answers.Add(1)
	return nil
}

// forgedToken is an HS256 token of at most size bytes (a few short of it)
// whose payload is costly to decode and whose signature is random.
func forgedToken(size int) string {
	enc := base64.RawURLEncoding.EncodeToString
	sig := make([]byte, 32)
	_, _ = rand.Read(sig)
	head, tail := enc([]byte(`{"alg":"HS256","typ":"JWT"}`))+".", "."+enc(sig)
	// A payload of n bytes encodes to at most 4n/3 rounded up.
	n := (size-len(head)-len(tail))*3/4 - len(`{"key":"k","x":[{}]}`)
	return head + enc([]byte(`{"key":"k","x":[`+strings.Repeat(`{},`, max(n/3, 0))+`{}]}`)) + tail
}

// bigReferBody is a JSON array of distinct addresses of about size bytes.
func bigReferBody(size int) []byte {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; b.Len() < size-64; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"type":"ip","value":"10.%d.%d.%d"}`, i>>16&255, i>>8&255, i&255)
	}
	b.WriteString("]")
	return []byte(b.String())
}

// probe calls the relay as a well-behaved client, one round every
// c.every, until ctx ends; each call is a kind, sent and checked by
// driver.once as load's requests are.
func probe(ctx context.Context, c *attackConfig) []*probeStats {
	d := &driver{client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
	defer d.client.CloseIdleConnections()
	noBody := func(*mrand.Rand) string { return "" }
	watchdog := http.Header{"Health-Check": {"probe"}}
	kinds := []kind{
		{name: "public /watchdog", method: http.MethodGet, url: c.base + "/watchdog", header: watchdog, body: noBody, want: `{"data":"probe"}`},
		{name: "public deliberate", method: http.MethodPost, url: c.base + "/deliberate/observables",
			header: http.Header{"Authorization": {"Bearer " + c.token}}, want: `"verdicts"`,
			body: func(*mrand.Rand) string { return `[{"type":"ip","value":"203.0.113.66"}]` }},
	}
	if c.admin != "" {
		kinds = append(kinds, kind{name: "admin /watchdog", method: http.MethodGet, url: c.admin + "/watchdog", header: watchdog, body: noBody, want: `{"data":"probe"}`})
	}
	out := make([]*probeStats, len(kinds))
	var wg sync.WaitGroup
	for i, k := range kinds {
		s := &probeStats{name: k.name}
		out[i] = s
		wg.Go(func() {
			for ctx.Err() == nil {
				status, latency, err := d.once(ctx, k, nil)
				if ctx.Err() != nil {
					if err != nil && latency >= time.Second { // still unanswered when the run ended
						s.failed++
						s.first = cmp.Or(s.first, "no answer within "+latency.Round(time.Millisecond).String()+", when the run ended")
						s.latencies = append(s.latencies, latency)
					}
					return
				}
				switch {
				case status == http.StatusServiceUnavailable:
					s.shed++
				case err != nil || status != http.StatusOK:
					s.failed++
					s.first = cmp.Or(s.first, fmt.Sprintf("HTTP %d: %v", status, err))
				}
				if status != 0 {
					s.latencies = append(s.latencies, latency)
				}
				sleep(ctx, c.every)
			}
		})
	}
	wg.Wait()
	return out
}
