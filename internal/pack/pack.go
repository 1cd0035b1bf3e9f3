// Package pack builds the relay's Lambda artifact: a static linux
// "bootstrap" executable for the provided.al2023 runtime, zipped so that the
// same bootstrap always gives byte-identical zip files.
package pack

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/signals-relay/signals-relay/internal/version"
)

// The variables the build stamps with the release version and the commit.
const (
	VersionVar  = "github.com/signals-relay/signals-relay/internal/version.Version"
	RevisionVar = "github.com/signals-relay/signals-relay/internal/version.Revision"
)

const (
	defaultPackage = "./cmd/signals-relay"
	// buildTags: lambda.norpc drops the RPC mode provided.al2023 never
	// uses; release leaves out the development-only commands.
	buildTags     = "lambda.norpc,release"
	bootstrapName = "bootstrap" // the file provided.al2023 runs
)

// MaxDirectUpload is the largest zip Lambda accepts inline (50 MB); beyond
// it an S3 upload is needed, which relayctl does not do.
const MaxDirectUpload = 50 << 20

// ZipTime is every zip entry's time, so the zip depends only on the bootstrap.
var ZipTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// BuildOptions says what to build and how.
type BuildOptions struct {
	Dir     string // where go build runs: the module root (empty: the current directory)
	Package string // the main package (empty: ./cmd/signals-relay)
	GOARCH  string // arm64 or amd64
	Version string // when set, stamped into VersionVar
	// Revision, when set, is the source commit, stamped into RevisionVar.
	Revision string
	// Toolchain, when set, is GOTOOLCHAIN: ReleaseToolchain for releases,
	// "local" for the installed Go.
	Toolchain string
	Env       []string  // the go command's starting environment (nil: os.Environ())
	Stderr    io.Writer // receives the compiler's output as well as the error
}

// Args returns the go command's arguments for building into out.
func (o BuildOptions) Args(out string) []string {
	ldflags := "-s -w -buildid="
	if o.Version != "" {
		ldflags += " -X " + VersionVar + "=" + o.Version
	}
	if o.Revision != "" {
		ldflags += " -X " + RevisionVar + "=" + o.Revision
	}
	return []string{"build", "-tags", buildTags, "-trimpath", "-buildvcs=false",
		"-ldflags", ldflags, "-o", out, cmp.Or(o.Package, defaultPackage)}
}

// Environ returns the go command's environment: Env plus the settings that
// make a static, reproducible linux binary for GOARCH.
func (o BuildOptions) Environ() []string {
	env := append([]string(nil), o.Env...)
	if o.Env == nil {
		env = os.Environ()
	}
	if o.Toolchain != "" {
		env = append(env, "GOTOOLCHAIN="+o.Toolchain)
	}
	return append(env, "GOOS=linux", "GOARCH="+o.GOARCH, "CGO_ENABLED=0", "GOAMD64=v1", "GOARM64=v8.0")
}

// ReleaseToolchain builds release bootstraps: go.mod's toolchain, which
// fixes every standard-library vulnerability govulncheck finds reachable in
// older ones (docs/reliability.md).
const ReleaseToolchain = version.Toolchain

// Build compiles the bootstrap and returns its bytes.
func Build(ctx context.Context, o BuildOptions) ([]byte, error) {
	if o.GOARCH != "arm64" && o.GOARCH != "amd64" {
		return nil, fmt.Errorf("build: architecture %q is not arm64 or amd64", o.GOARCH)
	}
	if strings.ContainsAny(o.Version, " \t\n'\"") {
		return nil, fmt.Errorf("build: version %q has spaces or quotes", o.Version)
	}
	tmp, err := os.MkdirTemp("", "relay-bootstrap-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, bootstrapName)
	cmd := exec.CommandContext(ctx, "go", o.Args(out)...) //nolint:gosec // go build with the arguments Args makes
	cmd.Dir = o.Dir
	cmd.Env = o.Environ()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if o.Stderr != nil {
		cmd.Stderr = io.MultiWriter(&stderr, o.Stderr)
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "go.mod file not found") || strings.Contains(msg, "cannot find main module") {
			first, _, _ := strings.Cut(msg, "\n")
			return nil, fmt.Errorf("build: run relayctl from the signals-relay source tree, or pass --source: %s", first)
		}
		var ee *exec.Error
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("build: the Go toolchain is needed to build the bootstrap: %w", err)
		}
		return nil, fmt.Errorf("build %s for linux/%s: %w: %s", cmd.Args[len(cmd.Args)-1], o.GOARCH, err, msg)
	}
	return os.ReadFile(out)
}

// Zip returns a zip of bootstrap as the executable "bootstrap" timed
// ZipTime: the same bootstrap always gives the same bytes.
func Zip(bootstrap []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: bootstrapName, Method: zip.Deflate, Modified: ZipTime}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(bootstrap); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CodeSHA256 is the zip's digest as Lambda reports it (CodeSha256), to match
// a local package against a deployed function.
func CodeSHA256(zipFile []byte) string {
	sum := sha256.Sum256(zipFile)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// ReadBootstrap returns the executable "bootstrap" of a Lambda zip for
// provided.al2023, or why zipFile is not one.
func ReadBootstrap(zipFile []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipFile), int64(len(zipFile)))
	if err != nil {
		return nil, fmt.Errorf("not a zip file: %w", err)
	}
	for _, f := range zr.File {
		if f.Name != bootstrapName {
			continue
		}
		if m := f.Mode(); !m.IsRegular() || m.Perm()&0o111 == 0 {
			return nil, fmt.Errorf("%s in the zip has mode %v, want an executable file", bootstrapName, m)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	return nil, fmt.Errorf("the zip has no %s at its root", bootstrapName)
}
