package ociimage

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// RefNameAnnotation names an image of an OCI layout for podman load and skopeo.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// WriteArchive writes idx as an OCI archive (a tar of an OCI image layout
// naming idx refName), its entries sorted, timed t and unowned, so the same
// index always gives the same bytes.
func WriteArchive(w io.Writer, idx v1.ImageIndex, refName string, t time.Time) error {
	dir, err := os.MkdirTemp("", "signals-relay-oci-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("OCI layout: %w", err)
	}
	var opts []layout.Option
	if refName != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{RefNameAnnotation: refName}))
	}
	if err := p.AppendIndex(idx, opts...); err != nil {
		return fmt.Errorf("OCI layout: %w", err)
	}
	var files []file // the layout's tree, in lexical order
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		f := file{name: filepath.ToSlash(rel) + "/", mode: 0o755}
		if !d.IsDir() {
			f.name, f.mode = filepath.ToSlash(rel), 0o644
			f.data, err = os.ReadFile(path) //nolint:gosec // a file of the layout just written
		}
		files = append(files, f)
		return err
	})
	if err != nil {
		return err
	}
	return writeTar(w, t.UTC().Truncate(time.Second), files)
}

// Push sends idx to the registry as ref, with the credentials docker login
// or podman login left (their files and credential helpers).
func Push(ctx context.Context, idx v1.ImageIndex, ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %w", ref, err)
	}
	if err := remote.WriteIndex(r, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return nil, fmt.Errorf("push %s: %w", r, err)
	}
	return r, nil
}
