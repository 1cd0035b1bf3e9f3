// Package ociimage builds the relay's container image with
// go-containerregistry, without a daemon or a base image: per platform, a
// scratch image of the static binary, CA certificates and one numeric
// non-root user, under one OCI image index. Every time in it is
// Metadata.Created, so the same binaries and metadata give the same digest.
package ociimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	binaryPath = "/signals-relay"
	nonroot    = 65532 // the image's user and group: distroless's "nonroot"
)

// Platform is an operating system and architecture the image is built for.
type Platform struct{ OS, Architecture, Variant string }

func (p Platform) String() string { return p.v1().String() }

func (p Platform) v1() *v1.Platform {
	return &v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
}

// supported are the platforms internal/pack builds for (GOAMD64=v1, GOARM64=v8.0).
var supported = map[string]Platform{
	"linux/amd64":    {OS: "linux", Architecture: "amd64"},
	"linux/arm64":    {OS: "linux", Architecture: "arm64", Variant: "v8"},
	"linux/arm64/v8": {OS: "linux", Architecture: "arm64", Variant: "v8"},
}

// DefaultPlatforms is the --platform default.
const DefaultPlatforms = "linux/amd64,linux/arm64"

// ParsePlatforms reads a comma-separated list such as "linux/amd64,linux/arm64".
func ParsePlatforms(s string) ([]Platform, error) {
	var out []Platform
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		p, ok := supported[f]
		if !ok {
			return nil, fmt.Errorf("platform %q: want linux/amd64 or linux/arm64", f)
		}
		if slices.Contains(out, p) {
			return nil, fmt.Errorf("platform %q given twice", f)
		}
		out = append(out, p)
	}
	return out, nil
}

// Metadata describes the build: the OCI labels and the one time used
// everywhere in the image (SOURCE_DATE_EPOCH or the commit time, to the second).
type Metadata struct {
	Created                   time.Time
	Source, Version, Revision string // repository URL, release version, commit
}

func (m Metadata) created() time.Time { return m.Created.UTC().Truncate(time.Second) }

// labels are the image's OCI labels.
func (m Metadata) labels() map[string]string {
	const p = "org.opencontainers.image."
	l := map[string]string{p + "title": "signals-relay", p + "created": m.created().Format(time.RFC3339)}
	for k, v := range map[string]string{"source": m.Source, "version": m.Version, "revision": m.Revision} {
		if v != "" {
			l[p+k] = v
		}
	}
	return l
}

// Binary is the relay built for one platform.
type Binary struct {
	Platform   Platform
	Executable []byte
}

// Index returns the image index of one image per binary, in order.
func Index(bins []Binary, m Metadata) (v1.ImageIndex, error) {
	if len(bins) == 0 {
		return nil, errors.New("no platform to build")
	}
	base, err := baseLayer(m)
	if err != nil {
		return nil, err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, b := range bins {
		img, err := image(base, b, m)
		if err != nil {
			return nil, fmt.Errorf("image for %s: %w", b.Platform, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: b.Platform.v1()}})
	}
	annotated, ok := mutate.Annotations(idx, m.labels()).(v1.ImageIndex)
	if !ok {
		return nil, errors.New("annotating the index")
	}
	return annotated, nil
}

func image(base v1.Layer, b Binary, m Metadata) (v1.Image, error) {
	if len(b.Executable) == 0 {
		return nil, errors.New("no relay binary")
	}
	bin, err := layer(m.created(), []file{{name: binaryPath[1:], mode: 0o755, data: b.Executable}})
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: m.created()}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: b.Platform.Architecture,
		OS:           b.Platform.OS,
		Variant:      b.Platform.Variant,
		Created:      created,
		RootFS:       v1.RootFS{Type: "layers"},
		Config: v1.Config{
			User:         fmt.Sprintf("%d:%d", nonroot, nonroot),
			Entrypoint:   []string{binaryPath},
			Cmd:          []string{"serve"},
			ExposedPorts: map[string]struct{}{"9090/tcp": {}}, // LISTEN_ADDR's default
			WorkingDir:   "/",
			Labels:       m.labels(),
		},
	})
	if err != nil {
		return nil, err
	}
	return mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: created, CreatedBy: "signals-relay: CA certificates, user " + fmt.Sprint(nonroot)}},
		mutate.Addendum{Layer: bin, History: v1.History{Created: created, CreatedBy: "signals-relay: " + binaryPath}},
	)
}

// baseLayer holds what every platform shares: the user database, the CA
// certificates where crypto/x509 looks first on Linux, and a writable /tmp.
func baseLayer(m Metadata) (v1.Layer, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonroot, nonroot)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", nonroot)
	return layer(m.created(), []file{
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: Certificates()},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, uid: nonroot, gid: nonroot},
		{name: "tmp/", mode: 0o1777},
	})
}

// file is one entry of a layer; a name ending in "/" is a directory.
type file struct {
	name     string
	mode     int64
	uid, gid int
	data     []byte
}

// writeTar writes files as a tar stream, in order, all with time t.
func writeTar(w io.Writer, t time.Time, files []file) error {
	tw := tar.NewWriter(w)
	for _, f := range files {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Uid: f.uid, Gid: f.gid,
			Size: int64(len(f.data)), ModTime: t, Format: tar.FormatPAX}
		if strings.HasSuffix(f.name, "/") {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// layer returns a gzip-compressed OCI layer of files, in order, all with time t.
func layer(t time.Time, files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	if err := writeTar(&buf, t, files); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		return nil, err
	}
	return plainLayer{l}, nil
}

// plainLayer hides the tarball layer's own descriptor, whose empty
// annotations map would make the image's parsed manifest differ from the
// one it serializes (the serialized one omits it).
type plainLayer struct{ v1.Layer }
