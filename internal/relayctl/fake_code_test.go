package relayctl

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// codeHost is the S3 host of the presigned URLs GetFunction returns as
// Code.Location.
const codeHost = "awslambda-" + fakeRegion + "-tasks.s3." + fakeRegion + ".amazonaws.com"

// codeLocation keeps a snapshot of zip and returns a presigned-style URL
// that downloads it, as GetFunction's Code.Location does (valid for ten
// minutes on AWS; here until the test ends).
func (s *fakeAWS) codeLocation(name string, zip []byte) string {
	sig := fmt.Sprintf("%064x", s.next())
	if s.code == nil {
		s.code = map[string][]byte{}
	}
	s.code[sig] = slices.Clone(zip)
	return "https://" + codeHost + "/snapshots/" + fakeAccount + "/" + name + "-" + sig[56:] +
		"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=600&X-Amz-Signature=" + sig
}

// serveCode answers a download of a Code.Location: the snapshot, passed
// through CodeTamper when set, or S3's 403 for an unknown signature.
func (s *fakeAWS) serveCode(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	zip, ok := s.code[r.URL.Query().Get("X-Amz-Signature")]
	tamper := s.CodeTamper
	s.mu.Unlock()
	if !ok || r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/snapshots/") {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`))
		return
	}
	if tamper != nil {
		zip = tamper(zip)
	}
	w.Header().Set("Content-Type", "application/zip")
	_, _ = w.Write(zip)
}
