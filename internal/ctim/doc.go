// Package ctim models the Cisco Threat Intelligence Model (CTIM) entities that
// the relay returns to Cisco XDR / Threat Response: verdicts, judgements,
// sightings, indicators and relationships.
//
// The model is output-only: plain values with JSON tags that match the CTIM
// schema exactly. Constructors and limits live here so that mapping code never
// spells a vocabulary value or a string limit by hand.
package ctim
