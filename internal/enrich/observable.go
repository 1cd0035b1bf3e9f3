package enrich

import (
	"net/netip"
	"strings"

	"github.com/signals-relay/signals-relay/internal/ctim"
)

// Observable types the relay looks up.
const (
	TypeIP   = "ip"
	TypeIPv6 = "ipv6"
)

// Supported returns the observables the relay looks up, once each in
// request order: "ip" with an IPv4 value and "ipv6" with an IPv6 value
// (type in any case, value trimmed). As the contract asks, anything else is
// ignored, not an error; a value that is no address of its type has no
// report (the API would answer 400), so it costs no call.
func Supported(in []ctim.Observable) []ctim.Observable {
	var out []ctim.Observable
	seen := make(map[ctim.Observable]bool)
	for _, o := range in {
		o = ctim.Observable{Type: strings.ToLower(strings.TrimSpace(o.Type)), Value: strings.TrimSpace(o.Value)}
		if !addressOfType(o) || seen[o] {
			continue
		}
		seen[o] = true
		out = append(out, o)
	}
	return out
}

func addressOfType(o ctim.Observable) bool {
	if o.Type != TypeIP && o.Type != TypeIPv6 {
		return false
	}
	a, err := netip.ParseAddr(o.Value)
	if err != nil || a.Zone() != "" {
		return false
	}
	if o.Type == TypeIP {
		return a.Is4()
	}
	return a.Is6() && !a.Is4In6()
}
