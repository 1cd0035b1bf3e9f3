// Package moduletype renders the module_type.json that registers the relay
// with Cisco XDR as a configuration-token integration: for every call XDR
// signs an RS256 JWT of the module's configuration without its "custom_"
// prefixes ("key", "CTR_ENTITIES_LIMIT"), "jwks_host" (custom_jwks_host) and
// "aud" (properties.url), which must therefore equal the relay's RELAY_URL.
package moduletype

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/routes"
	"github.com/signals-relay/signals-relay/internal/xdrregion"
)

// document is module_type.json with the deployment's values as {{…}}.
//
//go:embed module_type.json.tmpl
var document string

// Options are the deployment-specific parts of the module type.
type Options struct {
	// RelayURL is the public https URL at which XDR reaches the relay; XDR
	// sends it as the token audience, so RELAY_URL must be the same URL.
	RelayURL string
	// Region is one of xdrregion.Names(); empty: the first, the default.
	Region string
}

// Render returns module_type.json for opts, or why the URL (an absolute
// https URL without query, fragment or credentials) or region is unusable.
func Render(opts Options) ([]byte, error) {
	relayURL, err := auth.RelayURL(opts.RelayURL)
	if err != nil {
		return nil, fmt.Errorf("moduletype: %w", err)
	}
	if !strings.HasPrefix(strings.ToLower(relayURL), "https://") {
		return nil, errors.New("moduletype: XDR calls relays over https: the relay URL must start with https://")
	}
	names := xdrregion.Names()
	i := slices.Index(names, cmp.Or(strings.ToLower(strings.TrimSpace(opts.Region)), names[0]))
	if i < 0 {
		return nil, fmt.Errorf("moduletype: unknown region %q: want one of %s", opts.Region, strings.Join(names, ", "))
	}
	host := xdrregion.All()[i].JWKSHost

	quoted := func(v any) string { // as JSON, with no HTML escaping
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v) // strings only: cannot fail
		return strings.TrimSpace(b.String())
	}
	inString := func(s string) string { q := quoted(s); return q[1 : len(q)-1] }
	doc := strings.NewReplacer("{{url}}", inString(relayURL), "{{jwks_host}}", inString(host),
		"{{supported_apis}}", quoted(SupportedAPIs())).Replace(strings.TrimSpace(document))
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(doc), "", "  "); err != nil {
		return nil, fmt.Errorf("moduletype: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// SupportedAPIs are the relay endpoints XDR may call, as listed in
// properties.supported-apis: the authenticated routes.
func SupportedAPIs() []string {
	var apis []string
	for _, r := range routes.All() {
		if r.Auth {
			apis = append(apis, r.Name())
		}
	}
	return apis
}
