package lambdaedge_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/signals-relay/signals-relay/internal/lambdaedge"
)

const lambdaRequestID = "8f5cbbd6-2f4e-4b9e-9d59-0c6a3e0b7d11"

// seen is what the echo handler reports about the request it received.
type seen struct {
	Method        string `json:"method"`
	Path          string `json:"path"`
	Query         string `json:"query"`
	Authorization string `json:"authorization"`
	ContentType   string `json:"content_type"`
	Body          string `json:"body"`
	RemoteAddr    string `json:"remote_addr"`
	RequestID     string `json:"request_id"`
}

// echo answers with what it saw, the status asked for in X-Want-Status and
// a couple of response headers.
func echo(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		status := http.StatusOK
		if s := r.Header.Get("X-Want-Status"); s != "" {
			status, _ = strconv.Atoi(s)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Relay", "yes")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(seen{
			Method:        r.Method,
			Path:          r.URL.Path,
			Query:         r.URL.RawQuery,
			Authorization: r.Header.Get("Authorization"),
			ContentType:   r.Header.Get("Content-Type"),
			Body:          string(body),
			RemoteAddr:    r.RemoteAddr,
			RequestID:     r.Header.Get("X-Request-Id"),
		})
	})
}

// TestHandlerRoundTrip replays AWS's sample events (events_test.go) carrying
// relay requests, and checks what the handler saw and what the function
// answered, read with aws-lambda-go's response types.
func TestHandlerRoundTrip(t *testing.T) {
	t.Parallel()
	const observables = `[{"type":"ip","value":"203.0.113.66"}]`
	req := func(method, path, stage string, status int, base64 bool) eventRequest {
		h := http.Header{}
		h.Set("Authorization", "Bearer a.b.c")
		h.Set("Content-Type", "application/json")
		h.Set("X-Want-Status", strconv.Itoa(status))
		var body []byte
		if method == http.MethodPost {
			body = []byte(observables)
		}
		return eventRequest{Method: method, Path: path, RawQuery: "limit=5", Header: h, Body: body, Base64: base64, Stage: stage}
	}
	// The client addresses are those of AWS's samples.
	const urlClient, httpAPIClient, restClient = "123.123.123.123", "1.2.3.4", "192.168.196.186"
	tests := []struct {
		name   string
		sample awsSample
		req    eventRequest
		client string
	}{
		{"function URL", urlSample, req("POST", "/observe/observables", "", 200, false), urlClient},
		{"function URL base64 body", urlSample, req("POST", "/observe/observables", "", 200, true), urlClient},
		{"function URL 404", urlSample, req("POST", "/nowhere", "", 404, false), urlClient},
		{"HTTP API named stage", httpAPISample, req("POST", "/health", "dev", 200, false), httpAPIClient},
		{"HTTP API named stage base64 body 401", httpAPISample, req("POST", "/deliberate/observables", "prod", 401, true), httpAPIClient},
		{"HTTP API default stage", httpAPISample, req("POST", "/refer/observables", "", 200, false), httpAPIClient},
		{"HTTP API GET 405", httpAPISample, req("GET", "/health", "dev", 405, false), httpAPIClient},
		{"REST API", restSample, req("POST", "/observe/observables", "dev", 200, false), restClient},
		{"REST API sample stage", restSample, req("POST", "/observe/observables", "", 200, false), restClient},
		{"REST API base64 body 500", restSample, req("POST", "/health", "dev", 500, true), restClient},
	}
	h := lambdaedge.Handler(echo(t))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: lambdaRequestID})
			out, err := h.Invoke(ctx, awsEvent(t, tc.sample, tc.req))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			resp, err := parseEventResponse(tc.sample, out)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := strconv.Atoi(tc.req.Header.Get("X-Want-Status"))
			if resp.StatusCode != want {
				t.Errorf("statusCode = %d, want %d", resp.StatusCode, want)
			}
			if got := resp.Header.Get("X-Relay"); got != "yes" {
				t.Errorf("response header X-Relay = %q, want %q", got, "yes")
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("response Content-Type = %q, want application/json", got)
			}
			var got seen
			if err := json.Unmarshal(resp.Body, &got); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			wantSeen := seen{
				Method:        tc.req.Method,
				Path:          tc.req.Path,
				Query:         "limit=5",
				Authorization: "Bearer a.b.c",
				ContentType:   "application/json",
				Body:          string(tc.req.Body),
				RemoteAddr:    tc.client,
				RequestID:     lambdaRequestID,
			}
			if got != wantSeen {
				t.Errorf("handler saw %+v\nwant %+v", got, wantSeen)
			}
		})
	}
}

func TestHandlerKeepsCallerRequestID(t *testing.T) {
	t.Parallel()
	h := lambdaedge.Handler(echo(t))
	hdr := http.Header{}
	hdr.Set("X-Request-Id", "from-caller")
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: lambdaRequestID})
	out, err := h.Invoke(ctx, awsEvent(t, urlSample, eventRequest{Method: "POST", Path: "/health", Header: hdr}))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := parseEventResponse(urlSample, out)
	if err != nil {
		t.Fatal(err)
	}
	var got seen
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.RequestID != "from-caller" {
		t.Errorf("X-Request-Id = %q, want the caller's %q", got.RequestID, "from-caller")
	}
}

func TestHandlerRejectsUnknownPayload(t *testing.T) {
	t.Parallel()
	h := lambdaedge.Handler(echo(t))
	if _, err := h.Invoke(t.Context(), []byte(`{"hello":"world"}`)); err == nil {
		t.Fatal("Invoke of a non-HTTP event succeeded, want an error")
	}
}

func TestServeOutsideLambda(t *testing.T) {
	getenv := func(string) string { return "" }
	if err := lambdaedge.Serve(getenv, http.NotFoundHandler()); !errors.Is(err, lambdaedge.ErrNotLambda) {
		t.Fatalf("Serve = %v, want ErrNotLambda", err)
	}
}
