// Package version holds the relay's release version (POST /version, the
// upstream User-Agent), which release builds set with -ldflags -X.
package version

import (
	goversion "go/version"
	"runtime/debug"
)

// Version is the release version of signals-relay.
var Version = "1.0.0"

// Revision is the source commit release builds stamp with -X (they build
// with -buildvcs=false, so the Go build info holds none).
var Revision string

// SourceRevision is the commit the binary was built from: Revision, else
// the build info's vcs.revision (a development build), else "unknown".
func SourceRevision() string {
	if Revision != "" {
		return Revision
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}

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
