// Package jwtgen is the counterpart of the Threat Response JWT generator the
// original relay used: a random SECRET_KEY, the operator's fields signed into
// an HS256 JWT with it, and links to where both go.
package jwtgen

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/xdrregion"
)

// Field is one claim of the module's JWT structure.
type Field struct {
	Name  string // the claim's name in the JWT payload
	Label string // what the operator is asked for
}

// Structure returns the module's JWT structure, as the original module set it.
func Structure() []Field {
	return []Field{{Name: "key", Label: "Auth0 Signals API Key"}}
}

// Link is a module-creation link for one region.
type Link struct{ Region, URL string }

// ModuleLinks fills template's {region} and {module_type_id} for every region.
func ModuleLinks(template string) []Link {
	var links []Link
	for _, r := range xdrregion.All() {
		u := strings.NewReplacer("{region}", r.Name, "{module_type_id}", r.ModuleTypeID).Replace(template)
		links = append(links, Link{r.Name, u})
	}
	return links
}

// SecretLength is the length of a generated SECRET_KEY, as the original
// generator made it (256 bits of key material for HS256).
const SecretLength = 64

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewSecret returns a SECRET_KEY of [A-Za-z0-9] drawn from random
// (crypto/rand when nil). Bytes of 248 and above, which would bias the
// choice (256 is not a multiple of 62), are discarded, not reduced.
func NewSecret(random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	const limit = 256 - 256%len(secretAlphabet) // 248
	out := make([]byte, 0, SecretLength)
	buf := make([]byte, SecretLength)
	for len(out) < SecretLength {
		chunk := buf[:SecretLength-len(out)]
		if _, err := io.ReadFull(random, chunk); err != nil {
			return "", fmt.Errorf("read random bytes: %w", err)
		}
		for _, b := range chunk {
			if int(b) < limit {
				out = append(out, secretAlphabet[int(b)%len(secretAlphabet)])
			}
		}
	}
	return string(out), nil
}

// Sign returns the HS256 JWT carrying exactly values, signed with secret.
func Sign(values map[string]string, secret string) (string, error) {
	claims := make(map[string]any, len(values))
	for k, v := range values {
		claims[k] = v
	}
	return auth.SignHS256(claims, []byte(secret))
}

// FromJSON reads the field values from a credentials file: a JSON object of
// exactly the structure's fields, each a non-empty string.
func FromJSON(data []byte, fields []Field) (map[string]string, error) {
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	values := make(map[string]string, len(fields))
	for k, v := range raw {
		if !slices.Contains(names, k) {
			return nil, fmt.Errorf("unknown field %q (the JWT carries only: %s)", k, strings.Join(names, ", "))
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("field %q must be a string", k)
		}
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("field %q is empty", k)
		}
		values[k] = s
	}
	for _, f := range fields {
		if _, ok := values[f.Name]; !ok {
			return nil, fmt.Errorf("missing field %q (%s)", f.Name, f.Label)
		}
	}
	return values, nil
}

// Prompter asks the operator for each field on Out.
type Prompter struct {
	In         *bufio.Reader          // one answer a line, when ReadHidden is nil
	Out        io.Writer              // the prompts
	ReadHidden func() (string, error) // when set, reads one answer without echo
}

// Ask prompts for every field, up to three times while answers are empty.
func (p Prompter) Ask(fields []Field) (map[string]string, error) {
	values := make(map[string]string, len(fields))
	for _, f := range fields {
		for try := 0; values[f.Name] == ""; try++ {
			if try == 3 {
				return nil, fmt.Errorf("no value entered for %s", f.Label)
			}
			fmt.Fprintf(p.Out, "%s: ", f.Label)
			v, err := p.readOne()
			if p.ReadHidden != nil {
				fmt.Fprintln(p.Out)
			}
			switch {
			case errors.Is(err, io.EOF) && v == "":
				return nil, fmt.Errorf("no value entered for %s (input ended)", f.Label)
			case err != nil && !errors.Is(err, io.EOF):
				return nil, fmt.Errorf("read %s: %w", f.Label, err)
			}
			values[f.Name] = strings.TrimSpace(v)
		}
	}
	return values, nil
}

func (p Prompter) readOne() (string, error) {
	if p.ReadHidden != nil {
		return p.ReadHidden()
	}
	line, err := p.In.ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// Output is what the generator prints.
type Output struct {
	Stage, SecretKey, JWT, ConsoleURL string
	Links                             []Link
	SecretSet                         bool   // SECRET_KEY is set on Function already
	Function, FunctionURL             string // FunctionURL when known
}

// Write prints o in the order the deployment continues.
func (o Output) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "SECRET_KEY: %s\n", o.SecretKey)
	fmt.Fprintf(&b, "JWT:        %s\n\n", o.JWT)
	b.WriteString("Keep both: the function needs SECRET_KEY to verify the JWT, and the module needs the JWT.\n\n")
	if o.SecretSet {
		fmt.Fprintf(&b, "1. SECRET_KEY is set on %s (its other environment variables are unchanged):\n   %s\n", o.Function, o.ConsoleURL)
	} else {
		fmt.Fprintf(&b, "1. Set SECRET_KEY on the function (or run `relayctl jwt %s --set-secret`):\n   %s\n", o.Stage, o.ConsoleURL)
	}
	b.WriteString("2. Create the Threat Response module in your region with the function URL and the JWT:\n")
	for _, l := range o.Links {
		fmt.Fprintf(&b, "   %-5s %s\n", l.Region+":", l.URL)
	}
	if o.FunctionURL != "" {
		fmt.Fprintf(&b, "   URL:  %s\n", o.FunctionURL)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
