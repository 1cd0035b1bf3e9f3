package simulator

import (
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// DemoKey is the API key (a version-4 UUID) accepted when Options.Keys is empty.
const DemoKey = "6f1c2a8e-3b4d-4e5f-9a6b-7c8d9e0f1a2b"

// Response bodies of the real service (text/plain).
const (
	bodyBadToken    = "Token must be a valid RFC4122 UUID"
	bodyUnknownKey  = "Unauthorized. API Key not found."
	bodyNotFound    = "Resource not found"
	bodyQuota       = "429: Too Many Requests"
	bodyBadIPPrefix = "Bad IP format:"
	bodyNotAllowed  = "405: Method Not Allowed"
	bodyCancelled   = "503: Service Unavailable"
)

// Options configures a Simulator. The zero value answers at once, has no
// quota and accepts only DemoKey.
type Options struct {
	Latency time.Duration // added before every answer; a cancelled request stops waiting
	Quota   int           // requests each key may make, then 429; zero or less: unlimited
	Keys    []string      // accepted keys, any case; empty means {DemoKey}
}

// Simulator serves the Auth0 Signals API; it is safe for concurrent use.
type Simulator struct {
	mux     *http.ServeMux
	keys    map[string]bool // lower-cased accepted keys
	quota   int64
	latency time.Duration

	mu   sync.Mutex
	used map[string]int64 // lower-cased key → charged requests
}

// New returns a Simulator configured by opts.
func New(opts Options) *Simulator {
	keys := opts.Keys
	if len(keys) == 0 {
		keys = []string{DemoKey}
	}
	s := &Simulator{
		keys:    make(map[string]bool, len(keys)),
		quota:   int64(max(opts.Quota, 0)),
		latency: max(opts.Latency, 0),
		used:    make(map[string]int64),
	}
	for _, k := range keys {
		s.keys[strings.ToLower(k)] = true
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2.0/ip", s.withData(true, func(w http.ResponseWriter, _ *http.Request, d *dataset) {
		writeJSON(w, d.health)
	}))
	mux.HandleFunc("GET /v2.0/ip/{$}", s.serveEmptyIP)
	mux.HandleFunc("GET /v2.0/ip/{ip}", s.withData(true, serveReport))
	mux.HandleFunc("GET /metadata/{type}/lists", s.withData(false, serveListIndex))
	mux.HandleFunc("GET /metadata/{type}/lists/{id}", s.withData(false, serveList))
	mux.HandleFunc("/", serveNotFound)
	s.mux = mux
	return s
}

// ServeHTTP waits out the latency, charges an accepted key and dispatches r.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.latency > 0 {
		select {
		case <-time.After(s.latency): // collected when unreferenced, stopped or not
		case <-r.Context().Done():
		}
	}
	if r.Context().Err() != nil {
		writeText(w, http.StatusServiceUnavailable, bodyCancelled)
		return
	}
	if key, ok := s.acceptedKey(r); ok && !s.charge(key) {
		writeText(w, http.StatusTooManyRequests, bodyQuota)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeText(w, http.StatusMethodNotAllowed, bodyNotAllowed)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// withData hands f the embedded data, answering 500 if it cannot be parsed;
// if keyed, it answers 400 or 401 instead unless r carries an accepted key.
func (s *Simulator) withData(keyed bool, f func(http.ResponseWriter, *http.Request, *dataset)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, err := fixtures()
		if err != nil {
			writeText(w, http.StatusInternalServerError, "simulator: embedded data: "+err.Error())
		} else if !keyed || s.authorize(w, r) {
			f(w, r, d)
		}
	}
}

// charge counts one request against key and reports whether it is within quota.
func (s *Simulator) charge(key string) bool {
	if s.quota == 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used[key]++
	return s.used[key] <= s.quota
}

func apiKey(r *http.Request) string {
	if k := r.Header.Get("X-Auth-Token"); k != "" {
		return k
	}
	return r.URL.Query().Get("token")
}

// acceptedKey returns the lower-cased key of r if it is an accepted one.
func (s *Simulator) acceptedKey(r *http.Request) (string, bool) {
	k := apiKey(r)
	if !isUUID(k) {
		return "", false
	}
	k = strings.ToLower(k)
	return k, s.keys[k]
}

// authorize answers 400 or 401 and returns false unless r carries an accepted key.
func (s *Simulator) authorize(w http.ResponseWriter, r *http.Request) bool {
	if !isUUID(apiKey(r)) {
		writeText(w, http.StatusBadRequest, bodyBadToken)
		return false
	}
	if _, ok := s.acceptedKey(r); !ok {
		writeText(w, http.StatusUnauthorized, bodyUnknownKey)
		return false
	}
	return true
}

func (s *Simulator) serveEmptyIP(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	writeText(w, http.StatusBadRequest, bodyBadIPPrefix)
}

func serveReport(w http.ResponseWriter, r *http.Request, d *dataset) {
	raw := r.PathValue("ip")
	addr, err := netip.ParseAddr(raw)
	if err != nil || addr.Zone() != "" {
		writeText(w, http.StatusBadRequest, bodyBadIPPrefix+raw)
		return
	}
	switch ip := addr.String(); {
	case ip == IPServerError:
		write(w, http.StatusInternalServerError, "text/html; charset=utf-8", []byte(serverErrorPage))
	case ip == IPNotFound:
		writeText(w, http.StatusNotFound, bodyNotFound)
	case d.reports[ip] != nil:
		writeJSON(w, d.reports[ip])
	default:
		writeJSON(w, syntheticJSON(addr))
	}
}

func serveList(w http.ResponseWriter, r *http.Request, d *dataset) {
	writeFound(w, d.lists[r.PathValue("type")][r.PathValue("id")])
}

func serveListIndex(w http.ResponseWriter, r *http.Request, d *dataset) {
	writeFound(w, d.index[r.PathValue("type")])
}

// writeFound writes body as JSON, or 404 when there is none.
func writeFound(w http.ResponseWriter, body []byte) {
	if body == nil {
		writeText(w, http.StatusNotFound, bodyNotFound)
		return
	}
	writeJSON(w, body)
}

func serveNotFound(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusNotFound, bodyNotFound)
}

func writeText(w http.ResponseWriter, status int, body string) {
	write(w, status, "text/plain; charset=utf-8", []byte(body))
}

func writeJSON(w http.ResponseWriter, body []byte) { write(w, http.StatusOK, "application/json", body) }

func write(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// isUUID reports whether s is an RFC 4122 UUID in its 36-character text form
// (version 1 to 5, variant 10xx), as the real service demanded.
func isUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && len(s) == 36 && u.Variant() == uuid.RFC4122 && u.Version() >= 1 && u.Version() <= 5
}
