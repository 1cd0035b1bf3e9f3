// Package connlimit bounds the client connections of an http.Server: a cap
// on all of them, a share per client address, and, when the cap is
// reached, the eviction of idle keep-alive connections (and of new ones
// that have sent nothing), oldest first. It never reads a header: behind a
// load balancer every connection is the balancer's.
package connlimit

import (
	"cmp"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config bounds a Listener.
type Config struct {
	Max       int // connections served at once (at least 1)
	PerClient int // connections of one client address; 0: no share
	// SilentAfter is how long a new connection may send nothing before it
	// can be evicted like an idle one; 0: DefaultSilentAfter.
	SilentAfter time.Duration
	Logger      *slog.Logger // nil: no log
}

// DefaultSilentAfter is Config.SilentAfter's default: a client sends its
// request as soon as it connects.
const DefaultSilentAfter = time.Second

// logEvery is the least time between two log lines of one kind.
const logEvery = 10 * time.Second

// A log line names the loggedClients busiest of the first maxCountedClients
// addresses of its period.
const (
	loggedClients     = 5
	maxCountedClients = 256
)

// minSilentToLog is the least number of connections closed without a
// request within logEvery that is logged: a probe that only connects is no
// flood.
const minSilentToLog = 10

// Listener wraps a net.Listener with Config's bounds. Set the server's
// ConnState to its ConnState method, which tells it what each connection
// is doing.
type Listener struct {
	net.Listener
	cfg     Config
	changed chan struct{} // a connection closed or went idle
	closed  chan struct{}
	once    sync.Once

	mu      sync.Mutex
	conns   map[*Conn]struct{}
	clients map[netip.Addr]int
	logs    map[string]*logCount
}

// logCount is what happened of one kind since its last log line.
type logCount struct {
	last    time.Time
	n       int
	clients map[netip.Addr]int
}

// New wraps ln.
func New(ln net.Listener, cfg Config) *Listener {
	cfg.Max = max(cfg.Max, 1)
	if cfg.SilentAfter <= 0 {
		cfg.SilentAfter = DefaultSilentAfter
	}
	return &Listener{
		Listener: ln, cfg: cfg,
		changed: make(chan struct{}, 1), closed: make(chan struct{}),
		conns: make(map[*Conn]struct{}), clients: make(map[netip.Addr]int), logs: make(map[string]*logCount),
	}
}

// Conn is a connection the Listener counts.
type Conn struct {
	net.Conn
	l      *Listener
	client netip.Addr
	state  http.ConnState
	since  time.Time // when it entered state
	served bool      // it has carried a request
	// released is set once its place is freed, by Close or by eviction.
	released atomic.Bool
}

// Close closes the connection and frees its place.
func (c *Conn) Close() error {
	c.l.release(c)
	return c.Conn.Close()
}

// Accept returns the next connection within the bounds. A client at its
// share loses its own oldest idle connection or, with none, the new one
// is closed at once. At the cap the oldest idle connection of any client
// is closed; with none, Accept waits for a place.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := clientAddr(nc)
		l.mu.Lock()
		if l.cfg.PerClient > 0 && l.clients[client] >= l.cfg.PerClient {
			old := l.oldestIdle(client)
			if old == nil {
				l.note("client connections refused: the client holds its share (MAX_CONNECTIONS_PER_CLIENT)", client)
				l.mu.Unlock()
				_ = nc.Close()
				continue
			}
			l.evict(old)
		}
		for len(l.conns) >= l.cfg.Max {
			if old := l.oldestIdle(netip.Addr{}); old != nil {
				l.evict(old)
				continue
			}
			l.note("connection cap reached (MAX_CONNECTIONS): new connections wait for a busy one to finish", client)
			l.mu.Unlock()
			select {
			case <-l.changed:
			case <-time.After(l.cfg.SilentAfter): // a new connection may have fallen silent
			case <-l.closed:
				_ = nc.Close()
				return nil, net.ErrClosed
			}
			l.mu.Lock()
		}
		c := &Conn{Conn: nc, l: l, client: client, state: http.StateNew, since: time.Now()}
		l.conns[c] = struct{}{}
		l.clients[client]++
		l.mu.Unlock()
		return c, nil
	}
}

// Close closes the listener and wakes a waiting Accept.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// ConnState is the http.Server's ConnState hook.
func (l *Listener) ConnState(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*Conn)
	if !ok {
		return
	}
	switch state {
	case http.StateClosed, http.StateHijacked:
		l.release(c)
		return
	}
	l.mu.Lock()
	c.state, c.since = state, time.Now()
	if state == http.StateActive {
		c.served = true
	}
	l.mu.Unlock()
	if state == http.StateIdle {
		l.signal()
	}
}

// Open returns the number of connections counted now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// release frees c's place once.
func (l *Listener) release(c *Conn) {
	if c.released.Swap(true) {
		return
	}
	l.mu.Lock()
	l.forget(c)
	if !c.served {
		l.note(silentKind, c.client)
	}
	l.mu.Unlock()
	l.signal()
}

// forget drops c from the counts; l.mu is held.
func (l *Listener) forget(c *Conn) {
	if _, ok := l.conns[c]; !ok {
		return
	}
	delete(l.conns, c)
	if l.clients[c.client]--; l.clients[c.client] <= 0 {
		delete(l.clients, c.client)
	}
}

// evict closes c, an idle connection, to make room; l.mu is held.
func (l *Listener) evict(c *Conn) {
	c.released.Store(true) // its place is freed here, whoever closes it
	l.forget(c)
	l.note("idle client connections closed to make room (oldest first)", c.client)
	go func() { _ = c.Conn.Close() }() // never under l.mu
}

// oldestIdle returns the connection, of client when it is valid, that has
// been idle (or new and silent for SilentAfter) the longest; l.mu is held.
func (l *Listener) oldestIdle(client netip.Addr) *Conn {
	now := time.Now()
	var oldest *Conn
	for c := range l.conns {
		if client.IsValid() && c.client != client {
			continue
		}
		idle := c.state == http.StateIdle || (c.state == http.StateNew && now.Sub(c.since) >= l.cfg.SilentAfter)
		if idle && (oldest == nil || c.since.Before(oldest.since)) {
			oldest = c
		}
	}
	return oldest
}

func (l *Listener) signal() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// note counts one event of kind and logs the counts at most once per
// logEvery; l.mu is held.
func (l *Listener) note(kind string, client netip.Addr) {
	if l.cfg.Logger == nil {
		return
	}
	lc := l.logs[kind]
	if lc == nil {
		lc = &logCount{clients: make(map[netip.Addr]int)}
		l.logs[kind] = lc
	}
	lc.n++
	if len(lc.clients) < maxCountedClients || lc.clients[client] > 0 {
		lc.clients[client]++
	}
	now := time.Now()
	if now.Sub(lc.last) < logEvery || (kind == silentKind && lc.n < minSilentToLog) {
		return
	}
	busiest := slices.SortedFunc(maps.Keys(lc.clients), func(a, b netip.Addr) int {
		return cmp.Or(lc.clients[b]-lc.clients[a], a.Compare(b))
	})
	var top []string
	for _, a := range busiest[:min(len(busiest), loggedClients)] {
		top = append(top, a.String()+"="+strconv.Itoa(lc.clients[a]))
	}
	// The first line of a kind comes at once; then one per logEvery at most.
	l.cfg.Logger.Warn(kind, "connections", lc.n, "clients", top, "open", len(l.conns), "max", l.cfg.Max)
	lc.last, lc.n, lc.clients = now, 0, make(map[netip.Addr]int)
}

// silentKind is the log message of connections closed without a request.
const silentKind = "client connections closed without a request (a silent client, or the header read timeout)"

// clientAddr is the connection's remote IP address (IPv4-mapped ones
// unmapped); the zero Addr when it has none.
func clientAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
