package ctim

// Verdict is the relay's one-line answer for an observable. Unlike the other
// entities it carries no id, schema_version, source or TLP.
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

// Docs is a CTIM collection as Threat Response expects it: a count and the
// documents.
type Docs[T any] struct {
	Count int `json:"count"`
	Docs  []T `json:"docs"`
}

// NewDocs returns the collection of docs, or nil when there are none so that
// the collection is omitted from the response.
func NewDocs[T any](docs []T) *Docs[T] {
	if len(docs) == 0 {
		return nil
	}
	return &Docs[T]{Count: len(docs), Docs: docs}
}

// Bundle is the data part of an observe or deliberate response: every
// collection is present only when it has documents.
type Bundle struct {
	Verdicts      *Docs[Verdict]      `json:"verdicts,omitempty"`
	Judgements    *Docs[Judgement]    `json:"judgements,omitempty"`
	Sightings     *Docs[Sighting]     `json:"sightings,omitempty"`
	Indicators    *Docs[Indicator]    `json:"indicators,omitempty"`
	Relationships *Docs[Relationship] `json:"relationships,omitempty"`
}
