#!/usr/bin/env bash
# vulncheck.sh runs govulncheck over the module against an offline copy of the
# Go vulnerability database.
#
# The database is built from the golang.org/x/vulndb module (its data/osv
# records and its cmd/indexdb tool), fetched through the Go module proxy, so
# the check needs no access to vuln.go.dev. The built database is cached in
# $VULNDB_DIR (default: $HOME/.cache/signals-relay/vulndb-<version>) and
# reused by later runs.
#
# The Go toolchain whose standard library is checked is the one `go` selects
# (go1.27.3, from the toolchain line in go.mod). Another can be checked with
# GOTOOLCHAIN, e.g. GOTOOLCHAIN=local for the installed Go.
# Extra arguments are passed to govulncheck (default: ./...).
#
#   scripts/vulncheck.sh                     # the toolchain go.mod names (go1.27.3)
#   GOTOOLCHAIN=local scripts/vulncheck.sh   # the installed Go, for comparison
#
# Exit status: govulncheck's own (3 when reachable vulnerabilities are found).
set -euo pipefail
cd "$(dirname "$0")/.."

VULNDB_VERSION="${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}"
GOVULNCHECK_VERSION="${GOVULNCHECK_VERSION:-v1.9.0}"
VULNDB_DIR="${VULNDB_DIR:-${HOME}/.cache/signals-relay/vulndb-${VULNDB_VERSION}}"
export GOFLAGS="${GOFLAGS:-} -mod=mod"

if [ ! -f "$VULNDB_DIR/index/db.json" ]; then
	echo "building the offline vulnerability database (golang.org/x/vulndb@$VULNDB_VERSION)" >&2
	# The database tool is built with the machine's toolchain whatever the
	# caller selected: only the checked module's toolchain matters.
	src="$(GOTOOLCHAIN=local go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	if [ -z "$src" ] || [ ! -d "$src/data/osv" ]; then
		echo "vulncheck: could not download golang.org/x/vulndb@$VULNDB_VERSION" >&2
		exit 1
	fi
	work="$(mktemp -d)"
	trap 'rm -rf "$work"' EXIT
	cp -r "$src" "$work/vulndb-src"
	chmod -R u+w "$work/vulndb-src"
	mkdir -p "$(dirname "$VULNDB_DIR")"
	rm -rf "$VULNDB_DIR.tmp"
	(cd "$work/vulndb-src" && GOTOOLCHAIN=local go run ./cmd/indexdb -vulns data/osv -out "$VULNDB_DIR.tmp")
	rm -rf "$VULNDB_DIR"
	mv "$VULNDB_DIR.tmp" "$VULNDB_DIR"
fi

echo "govulncheck $GOVULNCHECK_VERSION, $(go env GOVERSION), database $VULNDB_VERSION" >&2
if [ $# -eq 0 ]; then
	set -- ./...
fi
exec go run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" -db "file://$VULNDB_DIR" "$@"
