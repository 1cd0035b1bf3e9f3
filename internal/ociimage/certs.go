package ociimage

import (
	"bytes"
	"encoding/pem"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// Certificates returns the image's CA bundle in PEM: the Mozilla NSS root
// store as golang.org/x/crypto/x509roots/fallback/bundle embeds it, pinned
// in go.mod, so the bundle changes only with a reviewed module update and
// every build host gives the same bytes. Roots that NSS trusts only with a
// constraint PEM cannot express (a distrust-after date) are left out,
// which is stricter than a distribution's bundle and never looser.
func Certificates() []byte {
	var buf bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate})
	}
	return buf.Bytes()
}
