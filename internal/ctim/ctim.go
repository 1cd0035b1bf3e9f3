package ctim

import (
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// SchemaVersion is stamped on every entity that carries one; it is the
// original relay's, so consumers keyed on it see no change.
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

// Time marshals as RFC 3339 in UTC with milliseconds and "Z", the form
// every CTIM consumer accepts.
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

// ValidTime is a validity window; both ends are optional.
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
	if d >= Clean && d <= Common {
		return [...]string{"Clean", "Malicious", "Suspicious", "Common"}[d-Clean]
	}
	return "Unknown"
}

// Values of the CTIM HighMedLow and Severity vocabularies used by the relay.
const (
	High   = "High"
	Medium = "Medium"
	Info   = "Info"
)

// TLP values.
const (
	TLPWhite = "white"
	TLPAmber = "amber"
)

// Truncate shortens s to at most max characters as CTIM counts them (UTF-16
// code units: an emoji counts twice), never splitting one, and marks a cut
// with an ellipsis. Each invalid UTF-8 byte becomes U+FFFD, so the result
// always encodes as valid JSON text.
func Truncate(s string, max int) string {
	if !utf8.ValidString(s) {
		s = string([]rune(s))
	}
	n, cut := 0, len(s) // cut: where the ellipsis goes, if one is needed
	for i, r := range s {
		if n += utf16.RuneLen(r); n > max-1 && cut == len(s) {
			cut = i
		}
	}
	switch {
	case n <= max:
		return s
	case max <= 0:
		return ""
	}
	return s[:cut] + "…"
}
