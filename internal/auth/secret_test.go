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
