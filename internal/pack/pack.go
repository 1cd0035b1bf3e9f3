// Package pack builds the relay's Lambda artifact: a static linux
// "bootstrap" executable for the provided.al2023 runtime, zipped so that the
// same bootstrap always gives byte-identical zip files.
package pack

import (
	"archive/zip"
	"bytes"
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

// VersionVar is the variable the build stamps with the release version.
const VersionVar = "github.com/signals-relay/signals-relay/internal/version.Version"

// DefaultPackage is the relay's main package, relative to the module root.
const DefaultPackage = "./cmd/signals-relay"

// BuildTags are the build tags of the bootstrap: lambda.norpc drops the
// aws-lambda-go RPC mode that provided.al2023 never uses, and release
// leaves out what only development needs (files marked
// //go:build !release, such as the simulator-backed commands).
const BuildTags = "lambda.norpc,release"

// BootstrapName is the file name provided.al2023 runs.
const BootstrapName = "bootstrap"

// MaxDirectUpload is the largest zip Lambda accepts inline in
// CreateFunction and UpdateFunctionCode (50 MB); beyond it an S3 upload is
// needed, which relayctl does not do.
const MaxDirectUpload = 50 << 20

// ZipTime is the modification time recorded in every zip, so the archive
// depends only on the bootstrap's bytes.
var ZipTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// BuildOptions says what to build and how.
type BuildOptions struct {
	// Dir is the directory go build runs in: the module root. Empty means
	// the current directory.
	Dir string
	// Package is the main package to build. Default DefaultPackage.
	Package string
	// GOARCH is arm64 or amd64.
	GOARCH string
	// Version, when set, is stamped into VersionVar.
	Version string
	// Go is the go command. Default "go" from PATH.
	Go string
	// Toolchain, when set, is the Go toolchain the build uses (GOTOOLCHAIN):
	// ReleaseToolchain for releases, "local" for the installed Go.
	Toolchain string
	// Env is the environment the go command starts from (os.Environ() when
	// nil). GOOS, GOARCH, CGO_ENABLED, GOAMD64 and GOARM64 are always set.
	Env []string
	// Stderr receives the compiler's output. Nil keeps it for the error.
	Stderr io.Writer
}

// Args returns the go command's arguments for building into out.
func (o BuildOptions) Args(out string) []string {
	ldflags := "-s -w -buildid="
	if o.Version != "" {
		ldflags += " -X " + VersionVar + "=" + o.Version
	}
	pkg := o.Package
	if pkg == "" {
		pkg = DefaultPackage
	}
	return []string{"build", "-tags", BuildTags, "-trimpath", "-buildvcs=false",
		"-ldflags", ldflags, "-o", out, pkg}
}

// Environ returns the go command's environment: Env plus the settings that
// make a static, reproducible linux binary for GOARCH.
func (o BuildOptions) Environ() []string {
	env := o.Env
	if env == nil {
		env = os.Environ()
	}
	env = append([]string(nil), env...)
	if o.Toolchain != "" {
		env = append(env, "GOTOOLCHAIN="+o.Toolchain)
	}
	return append(env, "GOOS=linux", "GOARCH="+o.GOARCH, "CGO_ENABLED=0", "GOAMD64=v1", "GOARM64=v8.0")
}

// ReleaseToolchain is the Go toolchain release bootstraps are built with:
// the release that fixes every standard-library vulnerability govulncheck
// finds reachable from the relay in older ones (docs/reliability.md). The go
// command fetches it through the module proxy the first time. It is the
// toolchain go.mod names.
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
	out := filepath.Join(tmp, BootstrapName)
	goCmd := o.Go
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.CommandContext(ctx, goCmd, o.Args(out)...)
	cmd.Dir = o.Dir
	cmd.Env = o.Environ()
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	if o.Stderr != nil {
		cmd.Stderr = io.MultiWriter(&stderr, o.Stderr)
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "go.mod file not found") || strings.Contains(msg, "cannot find main module") {
			return nil, fmt.Errorf("build: run relayctl from the signals-relay source tree, or pass --source: %s", firstLine(msg))
		}
		var ee *exec.Error
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("build: the Go toolchain is needed to build the bootstrap: %w", err)
		}
		return nil, fmt.Errorf("build %s for linux/%s: %w: %s", o.Args(out)[len(o.Args(out))-1], o.GOARCH, err, msg)
	}
	return os.ReadFile(out)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// Zip returns a zip archive holding bootstrap as an executable file named
// "bootstrap" (mode 0755) with the fixed time ZipTime. The same bootstrap
// always gives the same bytes.
func Zip(bootstrap []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: BootstrapName, Method: zip.Deflate, Modified: ZipTime}
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

// CodeSHA256 is the zip's digest as Lambda reports it in CodeSha256
// (base64 of the SHA-256), so a local package can be matched against a
// deployed function.
func CodeSHA256(zipFile []byte) string {
	sum := sha256.Sum256(zipFile)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// ReadBootstrap checks that zipFile is a Lambda package for provided.al2023
// (a "bootstrap" entry that is an executable regular file) and returns the
// bootstrap's bytes.
func ReadBootstrap(zipFile []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipFile), int64(len(zipFile)))
	if err != nil {
		return nil, fmt.Errorf("not a zip file: %w", err)
	}
	for _, f := range zr.File {
		if f.Name != BootstrapName {
			continue
		}
		if m := f.Mode(); !m.IsRegular() || m.Perm()&0o111 == 0 {
			return nil, fmt.Errorf("%s in the zip has mode %v, want an executable file", BootstrapName, m)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	return nil, fmt.Errorf("the zip has no %s at its root", BootstrapName)
}
