package signals

import (
	"bytes"
	"encoding/json"
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

// Report is what the relay maps of a full IP report ("fullip"): is the
// address (BadIP), its hostname's domain directly or by its MX and NS hosts
// (BadDomain), or was it recently (History) on a blocklist. Fields it does
// not use (geo, whois) are not decoded, so their quirks cannot break a lookup.
type Report struct {
	Score    Int    `json:"score"`
	Hostname String `json:"hostname"`
	BadIP    struct {
		Score      Int     `json:"score"`
		Blacklists Strings `json:"blacklists"`
	} `json:"badip"`
	BadDomain struct {
		Score  Int `json:"score"`
		Domain struct {
			Score       Int     `json:"score"`
			Blacklist   Strings `json:"blacklist"`
			BlacklistMX Strings `json:"blacklist_mx"`
			BlacklistNS Strings `json:"blacklist_ns"`
		} `json:"domain"`
	} `json:"baddomain"`
	History struct {
		Score Int `json:"score"`
	} `json:"history"`
}

// UnmarshalJSON decodes a report, tolerating a wrong JSON type for any part.
func (r *Report) UnmarshalJSON(b []byte) error {
	s := scanner{b: b}
	*r = s.report()
	return s.end()
}

// report reads the "fullip" object in one pass. As with encoding/json, keys
// match in any case and the last of a repeated key counts; a part that is
// not an object leaves its fields zero.
func (s *scanner) report() (r Report) {
	s.object(func(key []byte) {
		switch {
		case keyIs(key, "score"):
			r.Score = parseInt(s.value())
		case keyIs(key, "hostname"):
			r.Hostname = parseString(s.value())
		case keyIs(key, "badip"):
			r.BadIP = Report{}.BadIP
			s.object(func(key []byte) {
				switch {
				case keyIs(key, "score"):
					r.BadIP.Score = parseInt(s.value())
				case keyIs(key, "blacklists"):
					r.BadIP.Blacklists = s.readStrings()
				default:
					s.skip()
				}
			})
		case keyIs(key, "baddomain"):
			r.BadDomain = Report{}.BadDomain
			s.object(func(key []byte) {
				switch {
				case keyIs(key, "score"):
					r.BadDomain.Score = parseInt(s.value())
				case keyIs(key, "domain"):
					d := &r.BadDomain.Domain
					*d = Report{}.BadDomain.Domain
					s.object(func(key []byte) {
						switch {
						case keyIs(key, "score"):
							d.Score = parseInt(s.value())
						case keyIs(key, "blacklist"):
							d.Blacklist = s.readStrings()
						case keyIs(key, "blacklist_mx"):
							d.BlacklistMX = s.readStrings()
						case keyIs(key, "blacklist_ns"):
							d.BlacklistNS = s.readStrings()
						default:
							s.skip()
						}
					})
				default:
					s.skip()
				}
			})
		case keyIs(key, "history"):
			r.History = Report{}.History
			s.object(func(key []byte) {
				if keyIs(key, "score") {
					r.History.Score = parseInt(s.value())
				} else {
					s.skip()
				}
			})
		default:
			s.skip()
		}
	})
	return r
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
// relay's order: badip, then the domain's blacklist, blacklist_mx and
// blacklist_ns.
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

// decodeReport decodes a report body in one pass. A body without "fullip"
// (or null) is an empty report; one that is not an object is an error whose
// text names no Go type (it reaches the relay's error message).
func decodeReport(body []byte) (*Report, error) {
	s := scanner{b: body}
	var r Report
	s.ws()
	first := s.peek()
	if first == '{' {
		s.object(func(key []byte) {
			if keyIs(key, "fullip") {
				r = s.report()
			} else {
				s.skip()
			}
		})
	} else {
		s.skip()
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	if first != '{' && first != 'n' {
		return nil, errNotObject
	}
	return &r, nil
}

// ListDetails is what the relay maps of a blocklist's metadata; all values
// arrive as strings.
type ListDetails struct {
	Name        String  `json:"name"`
	Source      String  `json:"source"`
	Site        String  `json:"site"`
	Description String  `json:"description"`
	Tags        Strings `json:"tags"`
	Sensitivity Int     `json:"sensitivity"`
	Visibility  String  `json:"visibility"`
}

// decodeListDetails decodes the one details object the endpoint sends, or,
// defensively, a one-element array of it.
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
