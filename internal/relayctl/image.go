package relayctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/signals-relay/signals-relay/internal/ociimage"
)

// imageSource is the repository the image's source label names.
const imageSource = "https://github.com/signals-relay/signals-relay"

// cmdImage builds the relay's container image for one or more platforms
// and writes it as an OCI archive or pushes it to a registry. It needs no
// container daemon and pulls no base image.
func (a *app) cmdImage(ctx context.Context, args []string) error {
	fs := a.flagSet("image")
	var bf buildFlags
	bf.register(fs)
	platforms := fs.String("platform", ociimage.DefaultPlatforms, "comma-separated `platforms` of the image index")
	output := fs.String("output", "", "OCI archive `file` to write (for skopeo copy oci-archive:FILE, podman load -i FILE)")
	push := fs.String("push", "", "image `reference` to push to (registry/repository:tag), with the docker/podman login credentials")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("image: unexpected argument %q", fs.Arg(0))
	}
	if (*output == "") == (*push == "") {
		fs.Usage()
		return errors.New("image: give exactly one of --output FILE and --push REF")
	}
	plats, err := ociimage.ParsePlatforms(*platforms)
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	src, err := a.readSource(ctx, bf, "image")
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	var bins []ociimage.Binary
	for _, p := range plats {
		fmt.Fprintf(a.stderr, "Building signals-relay %s for %s from %s…\n", bf.version, p, bf.source)
		exe, err := a.buildChecked(ctx, bf, p.Architecture, src.Revision)
		if err != nil {
			return fmt.Errorf("image: %w", err)
		}
		bins = append(bins, ociimage.Binary{Platform: p, Executable: exe})
	}
	meta := ociimage.Metadata{Created: src.Created, Source: imageSource, Version: bf.version, Revision: src.Revision}
	idx, err := ociimage.Index(bins, meta)
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	if *push != "" {
		ref, err := ociimage.Push(ctx, idx, *push)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s@%s\n", ref.Context(), digest)
		return nil
	}
	var buf bytes.Buffer
	if err := ociimage.WriteArchive(&buf, idx, "signals-relay:"+tagOf(bf.version), src.Created); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	if err := writeArtifact(*output, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s\t%d bytes\tindex %s\n", *output, buf.Len(), digest)
	return nil
}

// tagOf turns a version into an image tag: the characters a tag allows
// (letters, digits, "_", ".", "-"), others replaced by "-", at most 128.
func tagOf(v string) string {
	t := strings.Map(func(r rune) rune {
		if r == '_' || r == '.' || r == '-' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
			return r
		}
		return '-'
	}, v)
	t = strings.TrimLeft(t, ".-")
	if t == "" {
		return "latest"
	}
	return t[:min(len(t), 128)]
}
