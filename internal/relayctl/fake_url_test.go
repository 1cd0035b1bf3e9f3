package relayctl

import (
	"bytes"
	"net/http"
	"strings"
)

func isFunctionURLHost(host string) bool {
	return strings.HasSuffix(host, ".lambda-url."+fakeRegion+".on.aws")
}

// serveFunctionURL answers a call to a Function URL as Lambda's front end
// does: 403 Forbidden unless the resource policy of the URL's qualifier
// lets anyone call it (both statements a NONE URL needs), then the
// function's code.
func (s *fakeAWS) serveFunctionURL(w http.ResponseWriter, r *http.Request, body []byte) {
	s.mu.Lock()
	allowed, found := false, false
	for _, fn := range s.functions {
		for q, u := range fn.URLs {
			if u.URL == "https://"+r.Host+"/" {
				found = true
				allowed = publicURLAllowed(fn.Statements[q])
			}
		}
	}
	handler := s.FunctionHandler
	s.mu.Unlock()
	switch {
	case !found || !allowed:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"Message":"` + functionURLForbidden + `"}`))
	case handler == nil:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(`{"Message":"Internal fakeAWS Error"}`))
	default:
		r = r.Clone(r.Context())
		r.Body = nopCloser{bytes.NewReader(body)}
		handler.ServeHTTP(w, r)
	}
}

// functionURLForbidden is the message of a Function URL's 403 since
// Lambda began to point at its troubleshooting guide; it was "Forbidden".
const functionURLForbidden = "Forbidden. For troubleshooting Function URL authorization issues, see: " +
	"https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// publicURLAllowed reports whether resource-policy statements let anyone
// call a Function URL with auth type NONE: one allowing
// lambda:InvokeFunctionUrl with lambda:FunctionUrlAuthType NONE and one
// allowing lambda:InvokeFunction with lambda:InvokedViaFunctionUrl true,
// both to principal "*".
func publicURLAllowed(statements []map[string]any) bool {
	var url, invoke bool
	for _, st := range statements {
		if st["Effect"] != "Allow" || st["Principal"] != "*" {
			continue
		}
		cond, _ := st["Condition"].(map[string]any)
		eq, _ := cond["StringEquals"].(map[string]any)
		b, _ := cond["Bool"].(map[string]any)
		switch st["Action"] {
		case "lambda:InvokeFunctionUrl":
			url = url || eq["lambda:FunctionUrlAuthType"] == "NONE"
		case "lambda:InvokeFunction":
			invoke = invoke || b["lambda:InvokedViaFunctionUrl"] == "true"
		}
	}
	return url && invoke
}
