package auth_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/auth"
)

// TestSecretRedacted checks that a Secret shows neither its bytes nor their
// encodings however it is printed, logged or marshalled, alone or inside a
// struct, and says when it is unset.
func TestSecretRedacted(t *testing.T) {
	t.Parallel()
	const value = "secret-value-0123456789abcdefghij"
	holder := struct {
		Key  auth.Secret
		Name string
	}{Key: auth.Secret(value), Name: "n"}
	cfg := auth.Config{SecretKey: auth.Secret(value)}
	var text, js strings.Builder
	slog.New(slog.NewTextHandler(&text, nil)).Info("m", "key", holder.Key, "holder", holder, "cfg", cfg)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "key", holder.Key, "holder", holder, "cfg", cfg)
	marshalled, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{text.String(), js.String(), string(marshalled), holder.Key.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, holder.Key), fmt.Sprintf(verb, holder), fmt.Sprintf(verb, cfg))
	}
	hexValue := fmt.Sprintf("%x", value)
	for _, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(strings.ToLower(out), hexValue[:16]) || strings.Contains(out, "115 101 99") {
			t.Errorf("output shows the secret: %s", out)
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("output does not say the secret is redacted: %s", out)
		}
	}
	if got := fmt.Sprint(auth.Secret(nil)); got != "[unset]" {
		t.Errorf("empty secret prints %q, want [unset]", got)
	}
}

// TestCredentialsRedacted checks that Credentials show no API key however
// they are printed, logged or marshalled, and keep the entities limit.
func TestCredentialsRedacted(t *testing.T) {
	t.Parallel()
	const key = "6f1c2a8e-3b4d-4e5f-9a6b-7c8d9e0f1a2b"
	c := auth.Credentials{APIKey: key, EntitiesLimit: 7}
	holder := struct{ Creds auth.Credentials }{c}
	var text, js strings.Builder
	slog.New(slog.NewTextHandler(&text, nil)).Info("m", "creds", c)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "creds", c)
	marshalled, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{text.String(), js.String(), string(marshalled)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, holder))
	}
	for _, out := range outputs {
		if strings.Contains(out, key) || strings.Contains(out, key[:8]) {
			t.Errorf("output shows the API key: %s", out)
		}
		if !strings.Contains(out, "[REDACTED]") || !strings.Contains(out, "7") {
			t.Errorf("output does not say the key is redacted or lacks the limit: %s", out)
		}
	}
}
