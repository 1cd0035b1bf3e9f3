package auth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Authentication modes (AUTH_MODE).
const (
	// ModeHS256 accepts only tokens signed with SECRET_KEY (self-hosted).
	ModeHS256 = "hs256"
	// ModeXDR accepts only Cisco XDR configuration tokens (RS256 + JWKS).
	ModeXDR = "xdr"
	// ModeBoth accepts either, routing each token by its header's alg.
	ModeBoth = "both"
)

// MinSecretKeyBytes is the shortest SECRET_KEY the relay accepts: an HS256
// key shorter than the hash's 32-byte output is weaker than the algorithm.
const MinSecretKeyBytes = 32

// Config selects and configures the verifier. It is built once at startup
// from the environment: AUTH_MODE, SECRET_KEY, JWKS_HOSTS, RELAY_URL and
// RELAY_URL_FROM_REQUEST.
type Config struct {
	// Mode is ModeHS256, ModeXDR, ModeBoth, or empty for automatic:
	// ModeHS256 when SecretKey is set, otherwise ModeXDR, or, when nothing
	// at all is set, a verifier that refuses every call (see Unconfigured).
	Mode string
	// SecretKey is SECRET_KEY, required by ModeHS256 and ModeBoth. When set
	// it must be at least MinSecretKeyBytes long, whatever the mode.
	SecretKey Secret
	// JWKSHosts is the allowlist of JWKS hosts; empty means
	// DefaultJWKSHosts.
	JWKSHosts []string
	// RelayURL is the relay's public URL, the audience XDR tokens must
	// carry. ModeXDR and ModeBoth need it unless AudienceFromRequest is set.
	RelayURL string
	// AudienceFromRequest derives the audience from each request instead
	// (see XDROptions.AudienceFromRequest). It excludes RelayURL.
	AudienceFromRequest bool
	// HTTPClient fetches key sets; nil means one on the system trust store.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Unconfigured reports whether cfg sets no mode and no credentials at all.
// New then returns an HS256 verifier without a key, which refuses every
// call with "<SECRET_KEY> is missing": a relay can be deployed before its
// SECRET_KEY is set, as the original could.
func (cfg Config) Unconfigured() bool {
	return strings.TrimSpace(cfg.Mode) == "" && len(cfg.SecretKey) == 0 && cfg.RelayURL == "" && !cfg.AudienceFromRequest
}

// New returns the Verifier cfg selects, or an error naming what the chosen
// mode is missing or what is wrong with it. It is the relay's startup check
// of its authentication settings.
func New(cfg Config) (Verifier, error) {
	if cfg.Unconfigured() {
		return HS256{}, nil
	}
	if n := len(cfg.SecretKey); n > 0 && n < MinSecretKeyBytes {
		return nil, fmt.Errorf("auth: SECRET_KEY must be at least %d bytes long; "+
			"generate one with `relayctl jwt` (it prints a 64-character SECRET_KEY and the JWT signed with it)", MinSecretKeyBytes)
	}
	mode := strings.ToLower(strings.TrimSpace(cfg.Mode))
	auto := mode == ""
	if auto {
		mode = ModeXDR
		if len(cfg.SecretKey) > 0 {
			mode = ModeHS256
		}
	}
	switch mode {
	case ModeHS256, ModeXDR, ModeBoth:
	default:
		return nil, fmt.Errorf("auth: unknown AUTH_MODE %q: want %s, %s or %s", cfg.Mode, ModeHS256, ModeXDR, ModeBoth)
	}

	if mode != ModeXDR && len(cfg.SecretKey) == 0 {
		return nil, fmt.Errorf("auth: AUTH_MODE=%s needs SECRET_KEY", mode)
	}
	hs := NewHS256(cfg.SecretKey, cfg.Now)
	if mode == ModeHS256 {
		return hs, nil
	}

	if cfg.RelayURL == "" && !cfg.AudienceFromRequest {
		if auto {
			return nil, fmt.Errorf("auth: without SECRET_KEY the mode is %s, which needs RELAY_URL (or RELAY_URL_FROM_REQUEST=true); "+
				"set SECRET_KEY for the self-hosted HS256 mode", ModeXDR)
		}
		return nil, fmt.Errorf("auth: AUTH_MODE=%s needs RELAY_URL (or RELAY_URL_FROM_REQUEST=true)", mode)
	}
	if cfg.RelayURL != "" && cfg.AudienceFromRequest {
		return nil, fmt.Errorf("auth: set RELAY_URL or RELAY_URL_FROM_REQUEST=true, not both")
	}
	xdr, err := NewXDR(XDROptions{
		Hosts:               cfg.JWKSHosts,
		Audience:            cfg.RelayURL,
		AudienceFromRequest: cfg.AudienceFromRequest,
		HTTPClient:          cfg.HTTPClient,
		Now:                 cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	if mode == ModeXDR {
		return xdr, nil
	}
	return Both{HS256: hs, XDR: xdr}, nil
}

// Both accepts self-hosted HS256 tokens and XDR configuration tokens. The
// token header's alg picks the verifier, and each verifier pins its own
// algorithm, so neither kind of token can pass the other's checks: an
// HS256 token signed with an XDR public key is checked against SECRET_KEY,
// and an RS256 token never reaches the HS256 verifier.
type Both struct {
	HS256 HS256
	XDR   *XDR
}

var _ Verifier = Both{}

// Verify implements Verifier.
func (b Both) Verify(r *http.Request) (Credentials, error) {
	raw, err := BearerToken(r)
	if err != nil {
		return Credentials{}, err
	}
	alg, err := headerAlg(raw)
	if err != nil {
		return Credentials{}, err
	}
	switch alg {
	case "HS256":
		return b.HS256.Verify(r)
	case "RS256":
		if b.XDR == nil {
			return Credentials{}, fail(ReasonRS256BadSignature)
		}
		return b.XDR.Verify(r)
	default:
		return Credentials{}, fail(ReasonBadSignature)
	}
}

// headerAlg returns the alg of a compact JWS without verifying anything.
func headerAlg(raw string) (string, error) {
	seg, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "", fail(ReasonWrongStructure)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return "", fail(ReasonWrongStructure)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return "", fail(ReasonWrongStructure)
	}
	return h.Alg, nil
}

// Secret is a secret setting such as SECRET_KEY. However it is printed,
// logged or marshalled, it shows only "[REDACTED]", or "[unset]" when empty.
type Secret []byte

func (s Secret) String() string {
	if len(s) == 0 {
		return "[unset]"
	}
	return "[REDACTED]"
}

// GoString implements fmt.GoStringer.
func (s Secret) GoString() string { return s.String() }

// Format implements fmt.Formatter for every verb, so %x or %q redact too.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
