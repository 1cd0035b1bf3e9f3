// Package xdrregion is the one list of Cisco XDR's regions: each region's
// name, the host that publishes the keys its configuration tokens are
// signed with, and the Auth0 Signals module type registered there.
package xdrregion

// Region is one Cisco XDR region.
type Region struct {
	Name         string // as in module links and relayctl's --region
	JWKSHost     string // the default JWKS allowlist and module_type.json's custom_jwks_host
	ModuleTypeID string // from the original module settings
}

// All returns the regions, the default first.
func All() []Region {
	return []Region{
		{"us", "visibility.amp.cisco.com", "c6311f9b-33a6-4935-9c31-24b9b755e5cc"},
		{"eu", "visibility.eu.amp.cisco.com", "9be60d7a-92bf-476c-92cc-e9144650745a"},
		{"apjc", "visibility.apjc.amp.cisco.com", "f73afdc1-c3b2-4c2c-a12a-c76093b79c19"},
	}
}

// Names returns the regions' names, the default first.
func Names() []string {
	var names []string
	for _, r := range All() {
		names = append(names, r.Name)
	}
	return names
}
