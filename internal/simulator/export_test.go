package simulator

import (
	"maps"
	"slices"
)

// KnownIPs returns the addresses that answer with a hand-made report (status
// 200), in string order.
func KnownIPs() []string { return slices.Sorted(maps.Keys(reportFiles)) }
