// Package ctim models the Cisco Threat Intelligence Model (CTIM) entities
// the relay returns, with their vocabulary and string limits.
package ctim

import (
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// SchemaVersion is the original relay's, so consumers see no change.
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

// Time marshals as RFC 3339 in UTC with milliseconds, as CTIM consumers accept.
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

// Verdict is the relay's one-line answer for an observable.
type Verdict struct {
	Type            string      `json:"type"`
	Disposition     Disposition `json:"disposition"`
	DispositionName string      `json:"disposition_name"`
	Observable      Observable  `json:"observable"`
	ValidTime       ValidTime   `json:"valid_time"`
}

// Judgement is a statement about an observable's disposition.
type Judgement struct {
	ID              string      `json:"id"`
	Type            string      `json:"type"`
	SchemaVersion   string      `json:"schema_version"`
	Source          string      `json:"source"`
	SourceURI       string      `json:"source_uri,omitempty"`
	Observable      Observable  `json:"observable"`
	Disposition     Disposition `json:"disposition"`
	DispositionName string      `json:"disposition_name"`
	Priority        int         `json:"priority"`
	Confidence      string      `json:"confidence"`
	Severity        string      `json:"severity"`
	ValidTime       ValidTime   `json:"valid_time"`
	Reason          string      `json:"reason,omitempty"`
}

// Sighting records that an observable was seen, here: found on a blocklist.
type Sighting struct {
	ID            string       `json:"id"`
	Type          string       `json:"type"`
	SchemaVersion string       `json:"schema_version"`
	Count         int          `json:"count"`
	Confidence    string       `json:"confidence"`
	Description   string       `json:"description,omitempty"`
	Source        string       `json:"source,omitempty"`
	SourceURI     string       `json:"source_uri,omitempty"`
	ObservedTime  ObservedTime `json:"observed_time"`
	Observables   []Observable `json:"observables,omitempty"`
	TLP           string       `json:"tlp,omitempty"`
	Severity      string       `json:"severity,omitempty"`
}

// Indicator describes a blocklist (feed) that observables can be members of.
type Indicator struct {
	ID               string    `json:"id"`
	Type             string    `json:"type"`
	SchemaVersion    string    `json:"schema_version"`
	Producer         string    `json:"producer"`
	Title            string    `json:"title,omitempty"`
	ShortDescription string    `json:"short_description,omitempty"`
	Description      string    `json:"description,omitempty"`
	Tags             []string  `json:"tags,omitempty"`
	ValidTime        ValidTime `json:"valid_time"`
}

// Relationship links two entities, here a sighting to its indicator.
type Relationship struct {
	ID               string `json:"id"`
	Type             string `json:"type"`
	SchemaVersion    string `json:"schema_version"`
	RelationshipType string `json:"relationship_type"`
	SourceRef        string `json:"source_ref"`
	TargetRef        string `json:"target_ref"`
}

// Docs is a CTIM collection: a count and the documents.
type Docs[T any] struct {
	Count int `json:"count"`
	Docs  []T `json:"docs"`
}

// NewDocs returns the collection of docs, or nil (omitted) when there are none.
func NewDocs[T any](docs []T) *Docs[T] {
	if len(docs) == 0 {
		return nil
	}
	return &Docs[T]{Count: len(docs), Docs: docs}
}

// Bundle is the data of an observe or deliberate answer.
type Bundle struct {
	Verdicts      *Docs[Verdict]      `json:"verdicts,omitempty"`
	Judgements    *Docs[Judgement]    `json:"judgements,omitempty"`
	Sightings     *Docs[Sighting]     `json:"sightings,omitempty"`
	Indicators    *Docs[Indicator]    `json:"indicators,omitempty"`
	Relationships *Docs[Relationship] `json:"relationships,omitempty"`
}
