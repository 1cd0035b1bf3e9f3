package signals

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// ListKind is the type of a blocklist, which selects its metadata endpoint.
type ListKind string

// The blocklist kinds the relay looks up.
const (
	BadIP     ListKind = "badip"
	BadDomain ListKind = "baddomain"
)

// ListRef names one blocklist.
type ListRef struct {
	Kind ListKind
	ID   string
}

// Report is what the relay maps of a full IP report ("fullip"); the fields
// it does not use (geo, whois) are not decoded, so their quirks do no harm.
// Each part that is not an object, or null, is empty; as with encoding/json,
// keys match in any case, and the last of a repeated key counts.
type Report struct {
	Score     Int           `json:"score"`
	Hostname  String        `json:"hostname"`
	BadIP     badIPPart     `json:"badip"`
	BadDomain badDomainPart `json:"baddomain"`
	History   historyPart   `json:"history"`
}

type badIPPart struct {
	Score      Int     `json:"score"`
	Blacklists Strings `json:"blacklists"`
}

type badDomainPart struct {
	Score  Int        `json:"score"`
	Domain domainPart `json:"domain"`
}

type domainPart struct {
	Score       Int     `json:"score"`
	Blacklist   Strings `json:"blacklist"`
	BlacklistMX Strings `json:"blacklist_mx"`
	BlacklistNS Strings `json:"blacklist_ns"`
}

type historyPart struct {
	Score Int `json:"score"`
}

// UnmarshalJSON decodes a report, tolerating a wrong JSON type for any part.
func (r *Report) UnmarshalJSON(b []byte) error {
	type plain Report
	return object(b, (*plain)(r))
}

func (p *badIPPart) UnmarshalJSON(b []byte) error {
	type plain badIPPart
	return object(b, (*plain)(p))
}

func (p *badDomainPart) UnmarshalJSON(b []byte) error {
	type plain badDomainPart
	return object(b, (*plain)(p))
}

func (p *domainPart) UnmarshalJSON(b []byte) error {
	type plain domainPart
	return object(b, (*plain)(p))
}

func (p *historyPart) UnmarshalJSON(b []byte) error {
	type plain historyPart
	return object(b, (*plain)(p))
}

// object decodes b into *v when it is an object; any other value, or a
// repeated key, starts *v afresh.
func object[T any](b []byte, v *T) error {
	*v = *new(T)
	if b = bytes.TrimSpace(b); len(b) == 0 || b[0] != '{' {
		return nil
	}
	return json.Unmarshal(b, v)
}

// TotalScore is fullip.score or, when that is missing or not a number, the
// sum of the three sub-scores, as the API computes it.
func (r *Report) TotalScore() int {
	if r.Score.Valid {
		return r.Score.Value
	}
	return r.BadIP.Score.Value + r.BadDomain.Score.Value + r.History.Score.Value
}

// Lists returns the blocklists the report names, once each, in the original
// relay's order.
func (r *Report) Lists() []ListRef {
	var refs []ListRef
	seen := make(map[ListRef]bool)
	add := func(kind ListKind, ids Strings) {
		for _, id := range ids {
			ref := ListRef{Kind: kind, ID: id}
			if !seen[ref] {
				seen[ref] = true
				refs = append(refs, ref)
			}
		}
	}
	add(BadIP, r.BadIP.Blacklists)
	d := r.BadDomain.Domain
	add(BadDomain, d.Blacklist)
	add(BadDomain, d.BlacklistMX)
	add(BadDomain, d.BlacklistNS)
	return refs
}

// decodeReport decodes a report body; one without "fullip" (or null) is an
// empty report, one that is no object an error naming no Go type.
func decodeReport(body []byte) (*Report, error) {
	var env struct {
		FullIP Report `json:"fullip"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return nil, errNotObject
		}
		return nil, err
	}
	return &env.FullIP, nil
}

// ListDetails is what the relay maps of a blocklist's metadata.
type ListDetails struct {
	Name        String  `json:"name"`
	Source      String  `json:"source"`
	Site        String  `json:"site"`
	Description String  `json:"description"`
	Tags        Strings `json:"tags"`
	Sensitivity Int     `json:"sensitivity"`
	Visibility  String  `json:"visibility"`
}

// decodeListDetails decodes a details object, or a one-element array of it.
func decodeListDetails(body []byte) (*ListDetails, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(body, &arr); err != nil {
			return nil, err
		}
		if len(arr) != 1 {
			return nil, errNotObject
		}
		body = bytes.TrimSpace(arr[0])
	}
	if len(body) == 0 || body[0] != '{' {
		return nil, errNotObject
	}
	var d ListDetails
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Int is an integer that decodes leniently from a JSON number (truncated
// toward zero) or a numeric string; anything else leaves it unset (!Valid).
type Int struct {
	Value int
	Valid bool
}

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (n *Int) UnmarshalJSON(b []byte) error {
	*n = Int{}
	var s string
	switch b = bytes.TrimSpace(b); {
	case len(b) == 0:
		return nil
	case b[0] == '"':
		if json.Unmarshal(b, &s) != nil {
			return nil
		}
		s = strings.TrimSpace(s)
	case b[0] == '-' || '0' <= b[0] && b[0] <= '9':
		s = string(b)
	default: // objects, arrays, true, false, null
		return nil
	}
	if v, err := strconv.Atoi(s); err == nil {
		*n = Int{Value: v, Valid: true}
	} else if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) &&
		f > math.MinInt32 && f < math.MaxInt32 {
		*n = Int{Value: int(f), Valid: true}
	}
	return nil
}

// String decodes leniently: a JSON string, or a number or boolean in its
// JSON spelling; objects, arrays and null leave it empty.
type String string

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (s *String) UnmarshalJSON(b []byte) error {
	*s = ""
	switch b = bytes.TrimSpace(b); {
	case len(b) == 0 || b[0] == '{' || b[0] == '[' || b[0] == 'n':
	case b[0] == '"':
		_ = json.Unmarshal(b, (*string)(s))
	default:
		*s = String(b)
	}
	return nil
}

// Strings decodes leniently from an array of strings, "", "A,B" or a Python
// repr "['A', 'B']", dropping non-strings and empty entries.
type Strings []string

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (l *Strings) UnmarshalJSON(b []byte) error {
	*l = nil
	var s string
	switch b = bytes.TrimSpace(b); {
	case len(b) == 0:
	case b[0] == '"':
		if json.Unmarshal(b, &s) == nil {
			*l = splitList(s)
		}
	case b[0] == '[':
		var items []json.RawMessage
		if json.Unmarshal(b, &items) != nil {
			return nil
		}
		for _, item := range items {
			if item[0] == '"' && json.Unmarshal(item, &s) == nil {
				if s = strings.TrimSpace(s); s != "" {
					*l = append(*l, s)
				}
			}
		}
	}
	return nil
}

// splitList splits "A,B", "['A', 'B']" or "[A, B]" into its items.
func splitList(s string) Strings {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "[")
	s = strings.TrimSuffix(s, "]")
	var out Strings
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(strings.Trim(strings.TrimSpace(part), `'"`))
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}
