package jwtgen_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/jwtgen"
	"github.com/signals-relay/signals-relay/internal/stage"
)

var secretPattern = regexp.MustCompile(`^[A-Za-z0-9]{64}$`)

func TestNewSecret(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 50 {
		s, err := jwtgen.NewSecret(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !secretPattern.MatchString(s) {
			t.Fatalf("secret %q does not match %s", s, secretPattern)
		}
		if seen[s] {
			t.Fatal("the same secret came out twice")
		}
		seen[s] = true
	}
}

// Every byte value below 248 maps to each character the same number of
// times; 248–255 are discarded, not folded onto the first characters.
func TestNewSecretHasNoModuloBias(t *testing.T) {
	t.Parallel()
	var stream []byte
	for range 8 {
		for b := 255; b >= 0; b-- { // 248..255 come first and must be skipped
			stream = append(stream, byte(b))
		}
	}
	r := bytes.NewReader(stream)
	counts := map[rune]int{}
	for range 31 { // 31 secrets × 64 = 1984 = 8 × 248 usable bytes
		s, err := jwtgen.NewSecret(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range s {
			counts[c]++
		}
	}
	if len(counts) != 62 {
		t.Fatalf("%d distinct characters, want 62", len(counts))
	}
	for c, n := range counts {
		if n != 32 { // 8 rounds × 4 byte values per character
			t.Errorf("character %q drawn %d times, want 32", c, n)
		}
	}
	if _, err := jwtgen.NewSecret(r); err == nil {
		t.Error("NewSecret with an exhausted source succeeded")
	}
	// A source of only biased bytes never produces a character.
	if _, err := jwtgen.NewSecret(io.LimitReader(bytes.NewReader(bytes.Repeat([]byte{250}, 4096)), 4096)); err == nil {
		t.Error("NewSecret used bytes ≥ 248")
	}
}

func TestSignVerifiesAndCarriesExactlyTheFields(t *testing.T) {
	t.Parallel()
	secret, err := jwtgen.NewSecret(nil)
	if err != nil {
		t.Fatal(err)
	}
	token, err := jwtgen.Sign(map[string]string{"key": "0e2b8f3c-auth0-key"}, secret)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.ParseHS256(token, []byte(secret))
	if err != nil {
		t.Fatalf("ParseHS256: %v", err)
	}
	if creds.APIKey != "0e2b8f3c-auth0-key" {
		t.Errorf("APIKey = %q", creds.APIKey)
	}
	if _, err := auth.ParseHS256(token, []byte(strings.Repeat("x", 64))); err == nil {
		t.Error("token verified with another secret")
	}
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 || claims["key"] != "0e2b8f3c-auth0-key" {
		t.Errorf("claims = %v, want exactly {key}", claims)
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if !strings.Contains(string(header), `"alg":"HS256"`) {
		t.Errorf("header = %s", header)
	}
}

func TestFromJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"ok", `{"key": "abc"}`, ""},
		{"extra", `{"key": "abc", "jwks_host": "x"}`, `unknown field "jwks_host" (the JWT carries only: key)`},
		{"missing", `{}`, `missing field "key" (Auth0 Signals API Key)`},
		{"empty", `{"key": "  "}`, `field "key" is empty`},
		{"number", `{"key": 5}`, `field "key" must be a string`},
		{"not object", `["abc"]`, `not a JSON object`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := jwtgen.FromJSON([]byte(tc.in), jwtgen.Structure())
			if tc.want == "" {
				if err != nil || v["key"] != "abc" || len(v) != 1 {
					t.Fatalf("FromJSON = %v, %v", v, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("FromJSON error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPrompter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		input   string
		hidden  []string
		want    string
		wantErr string
	}{
		{"line", "my-key\n", nil, "my-key", ""},
		{"crlf and spaces", "  my-key \r\n", nil, "my-key", ""},
		{"no newline at end", "my-key", nil, "my-key", ""},
		{"empty then value", "\n\nmy-key\n", nil, "my-key", ""},
		{"three empties", "\n\n\n", nil, "", "no value entered for Auth0 Signals API Key"},
		{"no input", "", nil, "", "input ended"},
		{"hidden", "", []string{"secret-key"}, "secret-key", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			p := jwtgen.Prompter{In: bufio.NewReader(strings.NewReader(tc.input)), Out: &out}
			if tc.hidden != nil {
				answers := tc.hidden
				p.ReadHidden = func() (string, error) {
					if len(answers) == 0 {
						return "", errors.New("no more")
					}
					a := answers[0]
					answers = answers[1:]
					return a, nil
				}
			}
			got, err := p.Ask(jwtgen.Structure())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Ask error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got["key"] != tc.want || len(got) != 1 {
				t.Errorf("Ask = %v, want key=%q", got, tc.want)
			}
			if !strings.HasPrefix(out.String(), "Auth0 Signals API Key: ") {
				t.Errorf("prompt = %q", out.String())
			}
			if strings.Contains(out.String(), tc.want) {
				t.Errorf("the answer was echoed in the prompt output %q", out.String())
			}
		})
	}
}

func TestModuleLinks(t *testing.T) {
	t.Parallel()
	links := jwtgen.ModuleLinks(stage.DefaultModuleLinkTemplate)
	want := map[string]struct{ host, id string }{
		"us":   {"securex.us.security.cisco.com", "c6311f9b-33a6-4935-9c31-24b9b755e5cc"},
		"eu":   {"securex.eu.security.cisco.com", "9be60d7a-92bf-476c-92cc-e9144650745a"},
		"apjc": {"securex.apjc.security.cisco.com", "f73afdc1-c3b2-4c2c-a12a-c76093b79c19"},
	}
	if len(links) != len(want) {
		t.Fatalf("%d links, want %d", len(links), len(want))
	}
	for _, l := range links {
		u, err := url.Parse(l.URL)
		if err != nil {
			t.Fatal(err)
		}
		w := want[l.Region]
		if u.Scheme != "https" || u.Host != w.host || u.Path != "/settings/modules/available/"+w.id+"/new" {
			t.Errorf("%s link = %s", l.Region, l.URL)
		}
	}
	custom := jwtgen.ModuleLinks("https://xdr.example/{region}/modules/{module_type_id}")
	if custom[1].URL != "https://xdr.example/eu/modules/9be60d7a-92bf-476c-92cc-e9144650745a" {
		t.Errorf("custom template gave %s", custom[1].URL)
	}
}
