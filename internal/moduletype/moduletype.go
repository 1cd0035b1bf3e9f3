// Package moduletype renders the module_type.json that registers the relay
// with Cisco XDR as a configuration-token integration.
//
// With a configuration token, XDR signs a fresh RS256 JWT for every call to
// the relay. Its payload is the module instance's configuration with the
// "custom_" prefix removed ("key", "CTR_ENTITIES_LIMIT"), the region's key
// host ("jwks_host", from properties.custom_jwks_host) and the relay URL as
// "aud" (from properties.url). The relay's XDR auth mode verifies exactly
// that, so the URL rendered here must equal the relay's RELAY_URL.
package moduletype

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/signals-relay/signals-relay/internal/routes"
)

// Regions lists the Cisco XDR regions Render accepts, default first.
func Regions() []string { return []string{"us", "eu", "apjc"} }

var jwksHosts = map[string]string{
	"us": "visibility.amp.cisco.com", "eu": "visibility.eu.amp.cisco.com", "apjc": "visibility.apjc.amp.cisco.com",
}

// JWKSHost returns the host that publishes the keys XDR signs configuration
// tokens with in region (any case).
func JWKSHost(region string) (string, error) {
	if h, ok := jwksHosts[strings.ToLower(strings.TrimSpace(region))]; ok {
		return h, nil
	}
	return "", fmt.Errorf("moduletype: unknown region %q: want one of %s", region, strings.Join(Regions(), ", "))
}

// Options are the deployment-specific parts of the module type.
type Options struct {
	// RelayURL is the public https URL at which XDR reaches the relay; XDR
	// sends it as the token audience, so RELAY_URL must be the same URL.
	RelayURL string
	// Region is "us" (the default when empty), "eu" or "apjc".
	Region string
}

// Render returns module_type.json for opts: indented JSON ending in a
// newline. It fails when the URL is not an absolute https URL without
// query, fragment or credentials, or the region is unknown.
func Render(opts Options) ([]byte, error) {
	relayURL, err := normalizeURL(opts.RelayURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(opts.Region) == "" {
		opts.Region = Regions()[0]
	}
	host, err := JWKSHost(opts.Region)
	if err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(build(relayURL, host)); err != nil {
		return nil, fmt.Errorf("moduletype: encode: %w", err)
	}
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

// moduleType is the document XDR's integration API accepts. Field order is
// the order of the output.
type moduleType struct {
	Title              string              `json:"title"`
	DefaultName        string              `json:"default_name"`
	ShortDescription   string              `json:"short_description"`
	Description        string              `json:"description"`
	Tips               string              `json:"tips"`
	ExternalReferences []externalReference `json:"external_references"`
	ConfigurationSpec  []configField       `json:"configuration_spec"`
	Capabilities       []capability        `json:"capabilities"`
	Properties         properties          `json:"properties"`
}

type externalReference struct {
	Label string `json:"label"`
	Link  string `json:"link"`
}

type configField struct {
	Key      string `json:"key"`
	Type     string `json:"type"`
	Label    string `json:"label"`
	Tooltip  string `json:"tooltip"`
	Required bool   `json:"required"`
}

type capability struct {
	ID          string `json:"id"`
	Description string `json:"description"`
}

type properties struct {
	URL                   string   `json:"url"`
	SupportedAPIs         []string `json:"supported-apis"`
	AuthType              string   `json:"auth-type"`
	ConfigurationTokenAlg string   `json:"configuration-token-alg"`
	CustomJWKSHost        string   `json:"custom_jwks_host"`
}

func build(relayURL, jwksHost string) moduleType {
	return moduleType{
		Title:       "Auth0 Signals",
		DefaultName: "Auth0 Signals",
		ShortDescription: "Auth0 Signals IP reputation: blocklist and abuse-history " +
			"verdicts, judgements and sightings for IP addresses.",
		Description: "Auth0 Signals scores IP addresses by their presence on IP and domain " +
			"blocklists and by recent abusive activity. This module queries Auth0 Signals " +
			"through a relay you run and returns, for IPv4 and IPv6 observables, a Verdict, " +
			"Judgements for each negative signal, and a Sighting and an Indicator (linked by " +
			"a Relationship) for every blocklist the address appears on, plus a pivot to the " +
			"address's Auth0 Signals report.",
		Tips: "When configuring the Auth0 Signals integration you need an Auth0 Signals API key " +
			"and a running relay.\n\n" +
			"1. Copy your Auth0 Signals **API key**.\n" +
			"2. Check that the relay at `" + relayURL + "` runs with `AUTH_MODE=xdr` (or `both`) " +
			"and `RELAY_URL=" + relayURL + "`: XDR sends this URL as the token audience, " +
			"and the relay rejects tokens meant for any other.\n" +
			"3. Complete the **Add New Auth0 Signals Module** form:\n" +
			"    - **Module Name** - leave the default name or enter a name that is meaningful to you\n" +
			"    - **API Key** - enter the Auth0 Signals API key\n" +
			"    - **Entities Limit** - the maximum number of Sightings and Indicators returned " +
			"per observable; a positive integer up to 1000. Leave it empty to use the relay's " +
			"default (`CTR_ENTITIES_LIMIT`, 100 unless changed).\n" +
			"4. Click **Save**, then run the module's health check.",
		ExternalReferences: []externalReference{
			{Label: "Auth0 Signals", Link: "https://auth0.com/signals/docs/"},
			{Label: "Relay documentation", Link: "https://github.com/signals-relay/signals-relay/blob/main/docs/xdr.md"},
		},
		ConfigurationSpec: []configField{
			{Key: "custom_key", Type: "api_key", Label: "API Key", Tooltip: "The Auth0 Signals API key", Required: true},
			{Key: "custom_CTR_ENTITIES_LIMIT", Type: "integer", Label: "Entities Limit",
				Tooltip: "Restricts the maximum number of `Sightings` and `Indicators` per observable " +
					"(1 to 1000; the relay's default applies when unset or invalid)"},
		},
		Capabilities: []capability{
			{ID: "health", Description: "Check that the relay is up and the Auth0 Signals API key works"},
			{ID: "deliberate", Description: "Query Auth0 Signals for IP and IPv6 and return a Verdict"},
			{ID: "observe", Description: "Query Auth0 Signals for IP and IPv6 and return Verdicts, " +
				"Judgements, Sightings, Indicators and Relationships"},
			{ID: "refer", Description: "Pivot to the Auth0 Signals report for IP and IPv6"},
			{ID: "respond", Description: "Answer response-action queries (Auth0 Signals offers no actions)"},
		},
		Properties: properties{
			URL:                   relayURL,
			SupportedAPIs:         SupportedAPIs(),
			AuthType:              "configuration-token",
			ConfigurationTokenAlg: "RS256",
			CustomJWKSHost:        jwksHost,
		},
	}
}

// normalizeURL checks that s is an absolute https URL XDR can call and
// returns it without trailing slashes.
func normalizeURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("moduletype: the relay URL is required")
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", fmt.Errorf("moduletype: relay URL: %w", err)
	case u.Scheme != "https":
		return "", fmt.Errorf("moduletype: relay URL %q: XDR calls relays over https", s)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("moduletype: relay URL %q has no host", s)
	case u.User != nil:
		return "", fmt.Errorf("moduletype: relay URL must not carry credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("moduletype: relay URL %q must not have a query or fragment", s)
	}
	return strings.TrimRight(s, "/"), nil
}
