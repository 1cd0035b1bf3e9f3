package relay

// A fuzz target for the observables decoder (FuzzHandler, in
// handler_fuzz_test.go, fuzzes the whole handler). Seed corpora live in
// testdata/fuzz/<target>/; run one target longer with
//
//	go test ./internal/relay -run '^$' -fuzz '^FuzzDecodeObservables$' -fuzztime 60s

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeObservables checks that any body either decodes to observables
// the relay can use, exactly as a strict standard decoding reads them, or
// fails with a bounded invalid-argument message.
func FuzzDecodeObservables(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		obs, err := decodeObservables(body)
		if err != nil {
			var inv *invalidArgument
			if !errors.As(err, &inv) {
				t.Fatalf("error %v (%T) is not an invalid argument", err, err)
			}
			we, _ := toWire(err)
			msg := we.Message
			if !strings.HasPrefix(msg, "Invalid JSON payload received. ") || !utf8.ValidString(msg) || len(msg) > 512 {
				t.Errorf("message %q", msg)
			}
			return
		}
		if !utf8.Valid(body) || !json.Valid(body) {
			t.Fatalf("accepted a body that is not valid UTF-8 JSON: %q", body)
		}
		for _, o := range obs {
			for _, s := range []string{o.Type, o.Value} {
				if strings.TrimSpace(s) == "" || len(s) > maxValueLen || strings.ContainsRune(s, 0) {
					t.Errorf("accepted field %q", s)
				}
			}
		}
		// The standard decoder, strict about fields, must read the same.
		var std []struct {
			Type  *string `json:"type"`
			Value *string `json:"value"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&std); err != nil {
			t.Fatalf("accepted %q, which the standard decoder refuses: %v", body, err)
		}
		if len(std) != len(obs) {
			t.Fatalf("decoded %d observables, the standard decoder %d", len(obs), len(std))
		}
		for i, s := range std {
			if s.Type == nil || s.Value == nil || *s.Type != obs[i].Type || *s.Value != obs[i].Value {
				t.Errorf("observable %d = %+v, the standard decoder reads %v", i, obs[i], s)
			}
		}
	})
}
