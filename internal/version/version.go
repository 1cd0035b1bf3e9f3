// Package version holds the relay's release version (POST /version, the
// upstream User-Agent), which release builds set with -ldflags -X.
package version

import goversion "go/version"

// Version is the release version of signals-relay.
var Version = "1.0.0"

// Product is the product name used in the User-Agent and in logs.
const Product = "signals-relay"

// UserAgent is the User-Agent the relay sends upstream.
func UserAgent() string { return Product + "/" + Version }

// Toolchain is go.mod's toolchain: older ones lack fixes the relay relies on.
const Toolchain = "go1.27.3"

// OldToolchain reports whether goVersion (runtime.Version()) is a release
// older than Toolchain; development builds are not judged.
func OldToolchain(goVersion string) bool {
	return goversion.IsValid(goVersion) && goversion.Compare(goVersion, Toolchain) < 0
}
