package auth

import "crypto/rand"

// SecretKeyLength is the length of a generated SECRET_KEY: 64 characters,
// as the original JWT generator made them.
const SecretKeyLength = 64

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewSecretKey returns a SecretKeyLength-character [A-Za-z0-9] secret drawn
// from crypto/rand without modulo bias.
func NewSecretKey() string {
	out := make([]byte, 0, SecretKeyLength)
	var buf [64]byte
	for len(out) < SecretKeyLength {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails (Go 1.24+)
		for _, b := range buf {
			// 248 = 4*62: bytes at or above it would bias the low letters.
			if b < 248 && len(out) < SecretKeyLength {
				out = append(out, secretAlphabet[b%62])
			}
		}
	}
	return string(out)
}
