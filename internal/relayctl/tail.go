package relayctl

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// cmdTail prints the function's logs.
func (a *app) cmdTail(ctx context.Context, args []string) error {
	fs, c := a.newFlags("tail")
	var o tailOptions
	fs.DurationVar(&o.Since, "since", 10*time.Minute, "show logs from this long ago (e.g. 30s, 10m, 4h)")
	fs.BoolVar(&o.HTTP, "http", false, "show one line per relay request only")
	fs.BoolVar(&o.NonHTTP, "non-http", false, "show everything but the relay's request lines")
	fs.StringVar(&o.Filter, "filter", "", "CloudWatch Logs filter `pattern`, e.g. ERROR or '\"status\":500'")
	fs.BoolVar(&o.Follow, "follow", false, "keep printing new log events until interrupted")
	s, cl, err := a.openStage(ctx, fs, c, args)
	if err != nil {
		return err
	}
	return cl.Tail(ctx, s, o, a.stdout)
}

// tailOptions adjusts Tail: the flags of cmdTail. HTTP shows only one line
// per relay request, read from its JSON request log; NonHTTP everything
// else. Filter is a CloudWatch Logs filter pattern, applied by AWS.
type tailOptions struct {
	Since         time.Duration // default 10 minutes
	HTTP, NonHTTP bool
	Filter        string
	Follow        bool // keep polling for new events until ctx ends
}

// followOverlap is how far back each poll of tail --follow reaches before
// the newest event printed: events from other log streams can arrive that
// much later than events already read. Events read twice are recognised
// by their id and printed once.
const followOverlap = 30 * time.Second

// Tail prints the function's log events from CloudWatch Logs to w.
func (c *awsClient) Tail(ctx context.Context, s stage.Settings, o tailOptions, w io.Writer) error {
	if o.HTTP && o.NonHTTP {
		return &opError{Msg: "--http and --non-http exclude each other", Fix: "pass one of them"}
	}
	since := o.Since
	if since <= 0 {
		since = 10 * time.Minute
	}
	group := s.LogGroup()
	start := c.Now().Add(-since).UnixMilli()
	// seen holds the ids of the events printed, with their timestamps,
	// for as long as a poll can read them again.
	seen := map[string]int64{}
	for {
		newest, err := c.tailOnce(ctx, group, start, o, seen, w)
		if err != nil && o.Follow && ctx.Err() != nil {
			return nil // interrupted mid-read: the normal end of --follow
		}
		if err != nil {
			if isCode(err, "ResourceNotFoundException") {
				return &opError{Op: "logs:FilterLogEvents", Msg: "log group " + group + " does not exist in " + c.Region, Err: err,
					Fix: "the function has not been deployed there (or never logged); check aws_region of stage " + s.Stage}
			}
			return c.Explain(err)
		}
		if !o.Follow {
			return nil
		}
		start = max(start, newest-followOverlap.Milliseconds())
		maps.DeleteFunc(seen, func(_ string, ts int64) bool { return ts < start })
		if err := sleep(ctx, c.Poll); err != nil {
			return nil // interrupted: the normal end of --follow
		}
	}
}

// tailOnce prints the events from start on that are not in seen, adds
// them to seen, and returns the newest timestamp read.
func (c *awsClient) tailOnce(ctx context.Context, group string, start int64, o tailOptions, seen map[string]int64, w io.Writer) (int64, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: &group, StartTime: aws.Int64(start)}
	if o.Filter != "" {
		in.FilterPattern = aws.String(o.Filter)
	}
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c.Logs, in)
	newest := start
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return newest, err
		}
		for _, ev := range page.Events {
			id, ts := aws.ToString(ev.EventId), aws.ToInt64(ev.Timestamp)
			newest = max(newest, ts)
			if _, ok := seen[id]; ok {
				continue
			}
			seen[id] = ts
			msg := strings.TrimRight(aws.ToString(ev.Message), "\r\n")
			line, isHTTP := formatHTTP(msg)
			switch {
			case o.HTTP && !isHTTP, o.NonHTTP && isHTTP:
				continue
			case !o.HTTP:
				line = msg
			}
			fmt.Fprintf(w, "%s %s\n", time.UnixMilli(ts).UTC().Format("2006-01-02T15:04:05.000Z"), line)
		}
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

// formatHTTP turns one of the relay's JSON request log lines into
// "STATUS METHOD ROUTE DURATIONms observables=N request_id=ID [errors=...]".
// It reports false for every other line (Lambda's START/END/REPORT lines,
// other relay messages, plain text).
func formatHTTP(message string) (string, bool) {
	message = strings.TrimSpace(message)
	if !strings.HasPrefix(message, "{") {
		return "", false
	}
	var r requestLine
	if err := json.Unmarshal([]byte(message), &r); err != nil || r.Msg != "request" || r.Status == 0 {
		return "", false
	}
	line := fmt.Sprintf("%d %s %s %sms observables=%d request_id=%s", r.Status, cmp.Or(r.Method, "-"), r.Route,
		strings.TrimSuffix(fmt.Sprintf("%.1f", r.DurationMS), ".0"), r.Observables, r.RequestID)
	if len(r.Errors) > 0 {
		line += " errors=" + strings.Join(r.Errors, ",")
	}
	return line, true
}
