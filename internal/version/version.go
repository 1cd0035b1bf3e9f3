// Package version holds the relay's release version, reported by POST /version
// and in the upstream User-Agent. Release builds set it with
// -ldflags "-X github.com/signals-relay/signals-relay/internal/version.Version=<v>".
package version

// Version is the release version of signals-relay.
var Version = "1.0.0"

// Product is the product name used in the User-Agent and in logs.
const Product = "signals-relay"

// UserAgent is the User-Agent the relay sends upstream.
func UserAgent() string { return Product + "/" + Version }
