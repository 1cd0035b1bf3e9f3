package enrich

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/signals-relay/signals-relay/internal/ctim"
	"github.com/signals-relay/signals-relay/internal/signals"
)

// Fixed values of the mapping, as in the original relay.
const (
	Validity            = 7 * 24 * time.Hour // of verdicts and judgements
	JudgementSource     = "Auth0 Signals Report"
	JudgementPriority   = 90 // an automated source's
	SightingDescription = "Found on blocklist"
	ReportURLBase       = "https://auth0.com/signals/ip/" // the Auth0 Signals UI
)

// Judgement reasons, one per negative sub-score.
const (
	ReasonBadDomain = "Associated hostname found on blocklist"
	ReasonBadIP     = "IP found on blocklist"
	ReasonHistory   = "IP found on blocklist in recent past"
)

// ReportURL returns an address's page in the Auth0 Signals UI, escaped.
func ReportURL(value string) string {
	return ReportURLBase + url.PathEscape(value+"-report")
}

// Disposition maps fullip.score: -1 and -2 Suspicious, -3 and below
// Malicious, else Unknown (no evidence of badness proves nothing).
func Disposition(score int) ctim.Disposition {
	switch {
	case score <= -3:
		return ctim.Malicious
	case score < 0:
		return ctim.Suspicious
	default:
		return ctim.Unknown
	}
}

// Severity maps a list's sensitivity: up to 3 High, 4–7 Medium, else Info
// (the original relay's 1, 5 and 10); a missing one is "Unknown".
func Severity(sensitivity signals.Int) string {
	if !sensitivity.Valid {
		return "Unknown"
	}
	switch s := sensitivity.Value; {
	case s <= 3:
		return ctim.High
	case s <= 7:
		return ctim.Medium
	default:
		return ctim.Info
	}
}

// TLP maps a list's visibility: public is white, anything else amber.
func TLP(visibility string) string {
	if strings.EqualFold(strings.TrimSpace(visibility), "Public") {
		return ctim.TLPWhite
	}
	return ctim.TLPAmber
}

// IndicatorID is a list's indicator id, as the original relay made it:
// "transient:indicator-" + UUIDv5(NAMESPACE_X500, name).
func IndicatorID(listName string) string {
	return "transient:indicator-" + uuid.NewSHA1(uuid.NameSpaceX500, []byte(listName)).String()
}

// Observation is what was gathered for one observable.
type Observation struct {
	Observable ctim.Observable
	Report     *signals.Report // nil: the API knows nothing
	QueriedAt  time.Time       // when the report was fetched: the sightings' time
	Lists      []List          // those whose details were fetched, in report order
}

// List is one blocklist an observable is on, with its details.
type List struct {
	Ref     signals.ListRef
	Details *signals.ListDetails
}

// Mapper maps observations to CTIM with an injected clock and UUID source.
type Mapper struct {
	Now   func() time.Time
	NewID func() string
}

// Verdicts maps each observation with a report to its verdict.
func (m Mapper) Verdicts(obs []Observation) []ctim.Verdict {
	now := m.Now()
	var out []ctim.Verdict
	for _, o := range obs {
		if o.Report == nil {
			continue
		}
		d := Disposition(o.Report.TotalScore())
		out = append(out, ctim.Verdict{
			Type:            "verdict",
			Disposition:     d,
			DispositionName: d.Name(),
			Observable:      o.Observable,
			ValidTime:       ctim.Window(now, Validity),
		})
	}
	return out
}

// Bundle maps observations to the observe bundle, each indicator once.
func (m Mapper) Bundle(obs []Observation) ctim.Bundle {
	now := m.Now()
	var (
		judgements    []ctim.Judgement
		sightings     []ctim.Sighting
		indicators    []ctim.Indicator
		relationships []ctim.Relationship
		seen          = make(map[string]bool)
	)
	for _, o := range obs {
		if o.Report == nil {
			continue
		}
		judgements = append(judgements, m.judgements(o, now)...)
		for _, l := range o.Lists {
			s, ind, rel := m.list(o, l)
			sightings = append(sightings, s)
			relationships = append(relationships, rel)
			if !seen[ind.ID] {
				seen[ind.ID] = true
				indicators = append(indicators, ind)
			}
		}
	}
	return ctim.Bundle{
		Verdicts:      ctim.NewDocs(m.Verdicts(obs)),
		Judgements:    ctim.NewDocs(judgements),
		Sightings:     ctim.NewDocs(sightings),
		Indicators:    ctim.NewDocs(indicators),
		Relationships: ctim.NewDocs(relationships),
	}
}

// judgements returns one judgement per negative sub-score.
func (m Mapper) judgements(o Observation, now time.Time) []ctim.Judgement {
	r := o.Report
	var out []ctim.Judgement
	for _, part := range []struct {
		score  int
		reason string
	}{
		{r.BadDomain.Score.Value, ReasonBadDomain},
		{r.BadIP.Score.Value, ReasonBadIP},
		{r.History.Score.Value, ReasonHistory},
	} {
		if part.score >= 0 {
			continue
		}
		out = append(out, ctim.Judgement{
			ID:              "transient:judgement-" + m.NewID(),
			Type:            "judgement",
			SchemaVersion:   ctim.SchemaVersion,
			Source:          JudgementSource,
			SourceURI:       ReportURL(o.Observable.Value),
			Observable:      o.Observable,
			Disposition:     ctim.Suspicious,
			DispositionName: ctim.Suspicious.Name(),
			Priority:        JudgementPriority,
			Confidence:      ctim.High,
			Severity:        ctim.Medium,
			ValidTime:       ctim.Window(now, Validity),
			Reason:          part.reason,
		})
	}
	return out
}

// list maps a blocklist hit to a sighting, an indicator and their relationship.
func (m Mapper) list(o Observation, l List) (ctim.Sighting, ctim.Indicator, ctim.Relationship) {
	d := l.Details
	idName := string(d.Name) // as sent, as the original relay hashed it
	name := strings.TrimSpace(idName)
	if name == "" {
		name, idName = l.Ref.ID, l.Ref.ID // a nameless list is still identified by its id
	}
	source := ctim.Truncate(strings.TrimSpace(string(d.Source)), ctim.MedStringMax)
	sighting := ctim.Sighting{
		ID:            "transient:sighting-" + m.NewID(),
		Type:          "sighting",
		SchemaVersion: ctim.SchemaVersion,
		Count:         1,
		Confidence:    ctim.High,
		Description:   SightingDescription,
		Source:        source,
		SourceURI:     uri(string(d.Site)),
		ObservedTime:  ctim.At(o.QueriedAt),
		Observables:   []ctim.Observable{o.Observable},
		TLP:           TLP(string(d.Visibility)),
		Severity:      Severity(d.Sensitivity),
	}
	producer := ctim.Truncate(strings.TrimSpace(string(d.Source)), ctim.ShortStringMax)
	if producer == "" {
		producer = "Auth0 Signals"
	}
	indicator := ctim.Indicator{
		ID:               IndicatorID(idName),
		Type:             "indicator",
		SchemaVersion:    ctim.SchemaVersion,
		Producer:         producer,
		Title:            ctim.Truncate(name, ctim.ShortStringMax),
		ShortDescription: ctim.Truncate("Feed: "+name, ctim.MedStringMax),
		Description:      ctim.Truncate(strings.TrimSpace(string(d.Description)), ctim.LongStringMax),
		Tags:             tags(d.Tags),
	}
	rel := ctim.Relationship{
		ID:               "transient:relationship-" + m.NewID(),
		Type:             "relationship",
		SchemaVersion:    ctim.SchemaVersion,
		RelationshipType: "member-of",
		SourceRef:        sighting.ID,
		TargetRef:        indicator.ID,
	}
	return sighting, indicator, rel
}

// tags trims, truncates and de-duplicates list tags.
func tags(in signals.Strings) []string {
	var out []string
	seen := make(map[string]bool)
	for _, t := range in {
		t = ctim.Truncate(strings.TrimSpace(t), ctim.ShortStringMax)
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// uri returns s when it is a usable http(s) URI, else "" (omitted).
func uri(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > ctim.URIMax || !utf8.ValidString(s) || strings.ContainsAny(s, " \t\r\n\"<>\\^`{|}") {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}
