package relayctl

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// logEvent is one CloudWatch Logs event.
type logEvent struct {
	Timestamp int64 // milliseconds since the epoch
	Message   string
	Stream    string
}

type storedEvent struct {
	logEvent
	id string
}

type logGroup struct {
	retention int
	events    []storedEvent
}

// LogGroup returns whether the log group exists and its retention.
func (s *fakeAWS) LogGroup(name string) (retentionDays int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.logGroups[name]
	if !ok {
		return 0, false
	}
	return g.retention, true
}

// AddLogEvents appends events to a log group, creating it if needed. Each
// event gets an id of its own, which it keeps; events are read back in
// timestamp order, so one added late with an early timestamp (from a slow
// log stream) lands among those already read.
func (s *fakeAWS) AddLogEvents(group string, events ...logEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.logGroups[group]
	if !ok {
		g = &logGroup{}
		s.logGroups[group] = g
	}
	for _, e := range events {
		g.events = append(g.events, storedEvent{e, fmt.Sprintf("3%035d", s.next())})
	}
	sort.SliceStable(g.events, func(i, j int) bool { return g.events[i].Timestamp < g.events[j].Timestamp })
}

func logsErrorWriter(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// logsDenied is CloudWatch Logs' answer to a call the caller's policy
// does not allow.
func logsDenied(w http.ResponseWriter, msg string) {
	logsErrorWriter(w, http.StatusBadRequest, "AccessDeniedException", msg)
}

// matchFilter applies the part of CloudWatch Logs' filter pattern syntax
// the fake knows: terms and "quoted phrases", all of which must occur.
func (s *fakeAWS) matchFilter(pattern, message string) bool {
	if strings.ContainsAny(pattern, "{[?") {
		s.t.Errorf("fake AWS: filter pattern %q uses syntax the fake does not implement", pattern)
	}
	for rest := strings.TrimSpace(pattern); rest != ""; rest = strings.TrimSpace(rest) {
		var term string
		if q, ok := strings.CutPrefix(rest, `"`); ok {
			term, rest, _ = strings.Cut(q, `"`)
		} else {
			term, rest, _ = strings.Cut(rest, " ")
		}
		if !strings.Contains(message, term) {
			return false
		}
	}
	return true
}

func (s *fakeAWS) serveLogs(w http.ResponseWriter, r *http.Request, body []byte) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "Logs_20140328.")
	if !ok {
		s.t.Errorf("fake AWS: unexpected X-Amz-Target %q", target)
	}
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		s.t.Errorf("fake AWS: logs %s: body is not JSON: %v", op, err)
	}
	name := str(in["logGroupName"])
	s.mu.Lock()
	defer s.mu.Unlock()
	groupARN := s.arn("logs", fakeRegion, "log-group:"+name+":log-stream:")
	if !s.begin(w, logsErrorWriter, fakeCall{Op: "logs:" + op, Method: r.Method, Path: r.URL.Path, Body: in},
		logsDenied, authz{"logs:" + op, groupARN, nil}) {
		return
	}
	g, exists := s.logGroups[name]
	ok200 := func(v any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(v)
	}
	if op != "CreateLogGroup" && !exists {
		logsErrorWriter(w, http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist.")
		return
	}
	switch op {
	case "CreateLogGroup":
		if exists {
			logsErrorWriter(w, http.StatusBadRequest, "ResourceAlreadyExistsException", "The specified log group already exists")
			return
		}
		s.logGroups[name] = &logGroup{}
		ok200(map[string]any{})
	case "PutRetentionPolicy":
		g.retention = int(in["retentionInDays"].(float64))
		ok200(map[string]any{})
	case "DeleteLogGroup":
		delete(s.logGroups, name)
		ok200(map[string]any{})
	case "FilterLogEvents":
		start, _ := in["startTime"].(float64)
		end, hasEnd := in["endTime"].(float64)
		pattern := str(in["filterPattern"])
		var match []storedEvent
		for _, e := range g.events {
			if e.Timestamp >= int64(start) && (!hasEnd || e.Timestamp <= int64(end)) && s.matchFilter(pattern, e.Message) {
				match = append(match, e)
			}
		}
		from := 0
		if tok := str(in["nextToken"]); tok != "" {
			from, _ = strconv.Atoi(strings.TrimPrefix(tok, "page-"))
		}
		to := min(from+s.LogPageSize, len(match))
		out := map[string]any{}
		var evs []map[string]any
		for _, e := range match[from:to] {
			evs = append(evs, map[string]any{"eventId": e.id, "timestamp": e.Timestamp,
				"ingestionTime": e.Timestamp + 50, "logStreamName": e.Stream, "message": e.Message})
		}
		out["events"] = evs
		if to < len(match) {
			out["nextToken"] = "page-" + strconv.Itoa(to)
		}
		ok200(out)
	default:
		s.t.Errorf("fake AWS: unexpected Logs operation %q", op)
		logsErrorWriter(w, http.StatusBadRequest, "InvalidOperationException", "unknown operation "+op)
	}
}
