package ctim

import (
	"time"
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

// Truncate shortens s to at most max characters (runes), never splitting a
// UTF-8 sequence, and marks a cut with a trailing ellipsis. Invalid UTF-8 is
// replaced so the result always encodes as valid JSON text.
func Truncate(s string, max int) string {
	if !utf8.ValidString(s) {
		s = toValidUTF8(s)
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

func toValidUTF8(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = append(out, r) // range yields utf8.RuneError for invalid bytes
	}
	return string(out)
}
