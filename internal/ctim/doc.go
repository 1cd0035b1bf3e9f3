// Package ctim models the Cisco Threat Intelligence Model (CTIM) entities
// the relay returns: output-only values whose JSON matches the CTIM schema,
// with the vocabulary and string limits mapping code uses.
package ctim
