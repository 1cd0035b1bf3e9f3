package ctim

import (
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// SchemaVersion is the CTIM schema version stamped on every entity that
// carries one. It matches the original Auth0 Signals relay so that consumers
// keyed on it see no change.
const SchemaVersion = "1.0.17"

// String limits from CTIM's common schema (in characters).
const (
	ShortStringMax = 1024 // title, reason, producer, tags
	MedStringMax   = 2048 // short_description, source
	LongStringMax  = 5000 // description (Markdown)
	URIMax         = 2048 // source_uri, ids, references
)

// Observable is a CTIM observable: a typed value such as an IP address.
type Observable struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Time is an instant that always marshals as RFC 3339 in UTC with millisecond
// precision and a "Z" suffix, the form every CTIM consumer accepts.
type Time struct{ time.Time }

// TimeLayout is the wire layout of Time.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// ValidTime is a validity window; both ends are optional and a missing end
// means "no upper bound".
type ValidTime struct {
	StartTime *Time `json:"start_time,omitempty"`
	EndTime   *Time `json:"end_time,omitempty"`
}

// Window returns the validity window [start, start+d).
func Window(start time.Time, d time.Duration) ValidTime {
	s, e := Time{start}, Time{start.Add(d)}
	return ValidTime{StartTime: &s, EndTime: &e}
}

// ObservedTime is when a sighting was observed; StartTime is required.
type ObservedTime struct {
	StartTime Time  `json:"start_time"`
	EndTime   *Time `json:"end_time,omitempty"`
}

// At returns an observation of the single instant t.
func At(t time.Time) ObservedTime {
	e := Time{t}
	return ObservedTime{StartTime: Time{t}, EndTime: &e}
}

// Disposition is a CTIM disposition number.
type Disposition int

// The CTIM dispositions.
const (
	Clean      Disposition = 1
	Malicious  Disposition = 2
	Suspicious Disposition = 3
	Common     Disposition = 4
	Unknown    Disposition = 5
)

// Name returns the disposition name that CTIM pairs with d.
func (d Disposition) Name() string {
	switch d {
	case Clean:
		return "Clean"
	case Malicious:
		return "Malicious"
	case Suspicious:
		return "Suspicious"
	case Common:
		return "Common"
	default:
		return "Unknown"
	}
}

// Values of the CTIM HighMedLow and Severity vocabularies used by the relay.
const (
	High   = "High"
	Medium = "Medium"
	Low    = "Low"
	Info   = "Info"
)

// TLP values.
const (
	TLPWhite = "white"
	TLPAmber = "amber"
)

// Truncate shortens s to at most max characters as CTIM counts them (UTF-16
// code units, so a character outside the Basic Multilingual Plane, such as
// an emoji, counts twice), never splitting a character, and marks a cut with
// a trailing ellipsis. Invalid UTF-8 is replaced so the result always
// encodes as valid JSON text.
func Truncate(s string, max int) string {
	if !utf8.ValidString(s) {
		s = toValidUTF8(s)
	}
	if utf16Len(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	n := 0
	for i, r := range s {
		if n+utf16.RuneLen(r) > max-1 { // keep one unit for the ellipsis
			return s[:i] + "…"
		}
		n += utf16.RuneLen(r)
	}
	return s
}

// utf16Len is the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func toValidUTF8(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = append(out, r) // range yields utf8.RuneError for invalid bytes
	}
	return string(out)
}
