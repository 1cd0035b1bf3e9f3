package awsops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// TailOptions adjusts Tail.
type TailOptions struct {
	// Since is how far back to start. Default 10 minutes.
	Since time.Duration
	// HTTP shows one line per relay request, read from the relay's JSON
	// request log, and nothing else.
	HTTP bool
	// Follow keeps polling for new events until ctx ends.
	Follow bool
}

// Tail prints the function's log events from CloudWatch Logs to w.
func (c *Client) Tail(ctx context.Context, s stage.Settings, o TailOptions, w io.Writer) error {
	since := o.Since
	if since <= 0 {
		since = 10 * time.Minute
	}
	group := s.LogGroup()
	start := c.now().Add(-since).UnixMilli()
	// seen holds the ids of events at the newest timestamp already printed:
	// the next poll starts at that timestamp, so they come again.
	seen := map[string]bool{}
	for {
		last, err := c.tailOnce(ctx, group, start, seen, o.HTTP, w)
		if err != nil && o.Follow && ctx.Err() != nil {
			return nil // interrupted mid-read: the normal end of --follow
		}
		if err != nil {
			if isCode(err, "ResourceNotFoundException") {
				return &Error{Op: "logs:FilterLogEvents", Msg: "log group " + group + " does not exist in " + c.Region, Err: err,
					Fix: "the function has not been deployed there (or never logged); check aws_region of stage " + s.Stage}
			}
			return c.Explain(err)
		}
		if !o.Follow {
			return nil
		}
		if last > start {
			start = last
		}
		if err := sleep(ctx, c.poll()); err != nil {
			return nil // interrupted: the normal end of --follow
		}
	}
}

// tailOnce prints the events from start on and returns the newest
// timestamp seen.
func (c *Client) tailOnce(ctx context.Context, group string, start int64, seen map[string]bool, httpOnly bool, w io.Writer) (int64, error) {
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c.Logs, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: &group,
		StartTime:    aws.Int64(start),
	})
	newest := start
	var newestIDs []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return newest, err
		}
		for _, ev := range page.Events {
			id := aws.ToString(ev.EventId)
			ts := aws.ToInt64(ev.Timestamp)
			if seen[id] {
				continue
			}
			if ts > newest {
				newest, newestIDs = ts, nil
			}
			if ts == newest {
				newestIDs = append(newestIDs, id)
			}
			msg := strings.TrimRight(aws.ToString(ev.Message), "\r\n")
			when := time.UnixMilli(ts).UTC().Format("2006-01-02T15:04:05.000Z")
			if httpOnly {
				line, ok := FormatHTTP(msg)
				if !ok {
					continue
				}
				fmt.Fprintf(w, "%s %s\n", when, line)
				continue
			}
			fmt.Fprintf(w, "%s %s\n", when, msg)
		}
	}
	if newest > start {
		clear(seen)
	}
	for _, id := range newestIDs {
		seen[id] = true
	}
	return newest, nil
}

// requestLine is the relay's per-request log record.
type requestLine struct {
	Msg         string   `json:"msg"`
	RequestID   string   `json:"request_id"`
	Method      string   `json:"method"`
	Route       string   `json:"route"`
	Status      int      `json:"status"`
	DurationMS  float64  `json:"duration_ms"`
	Observables int      `json:"observables"`
	Errors      []string `json:"errors"`
}

// FormatHTTP turns one of the relay's JSON request log lines into
// "STATUS METHOD ROUTE DURATIONms observables=N request_id=ID [errors=...]".
// It reports false for every other line (Lambda's START/END/REPORT lines,
// other relay messages, plain text).
func FormatHTTP(message string) (string, bool) {
	message = strings.TrimSpace(message)
	if !strings.HasPrefix(message, "{") {
		return "", false
	}
	var r requestLine
	if err := json.Unmarshal([]byte(message), &r); err != nil || r.Msg != "request" || r.Status == 0 {
		return "", false
	}
	method := r.Method
	if method == "" {
		method = "-"
	}
	line := fmt.Sprintf("%d %s %s %sms observables=%d request_id=%s",
		r.Status, method, r.Route, trimFloat(r.DurationMS), r.Observables, r.RequestID)
	if len(r.Errors) > 0 {
		line += " errors=" + strings.Join(r.Errors, ",")
	}
	return line, true
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0")
}
