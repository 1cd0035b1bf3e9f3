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

// Report is the part of a full IP report (GET /v2.0/ip/{ip}, "fullip") that
// the relay maps. Fields the relay does not use (geo, whois, history
// activity) are not decoded, so their quirks cannot break a lookup.
type Report struct {
	Score     Int         `json:"score"`
	Hostname  String      `json:"hostname"`
	BadIP     BadIPPart   `json:"badip"`
	BadDomain DomainPart  `json:"baddomain"`
	History   HistoryPart `json:"history"`
}

// BadIPPart is "fullip.badip": is the address itself on a blocklist.
type BadIPPart struct {
	Score      Int     `json:"score"`
	Blacklists Strings `json:"blacklists"`
}

// DomainPart is "fullip.baddomain": is the address's hostname domain on a
// blocklist, directly or through its MX and NS hosts.
type DomainPart struct {
	Score  Int `json:"score"`
	Domain struct {
		Score       Int     `json:"score"`
		Blacklist   Strings `json:"blacklist"`
		BlacklistMX Strings `json:"blacklist_mx"`
		BlacklistNS Strings `json:"blacklist_ns"`
	} `json:"domain"`
}

// HistoryPart is "fullip.history": was the address on a blocklist recently.
type HistoryPart struct {
	Score Int `json:"score"`
}

// UnmarshalJSON decodes a report, tolerating a wrong JSON type for any part.
func (r *Report) UnmarshalJSON(b []byte) error {
	s := scanner{b: b}
	*r = s.report()
	return s.end()
}

// report reads the "fullip" object in one pass. As with encoding/json, keys
// match without regard to case, and of a key given twice the last value
// counts; a part that is not an object leaves its fields zero.
func (s *scanner) report() (r Report) {
	s.object(func(key []byte) {
		switch {
		case keyIs(key, "score"):
			r.Score = s.readInt()
		case keyIs(key, "hostname"):
			r.Hostname = s.readString()
		case keyIs(key, "badip"):
			r.BadIP = BadIPPart{}
			s.object(func(key []byte) {
				switch {
				case keyIs(key, "score"):
					r.BadIP.Score = s.readInt()
				case keyIs(key, "blacklists"):
					r.BadIP.Blacklists = s.readStrings()
				default:
					s.skip()
				}
			})
		case keyIs(key, "baddomain"):
			r.BadDomain = DomainPart{}
			s.object(func(key []byte) {
				switch {
				case keyIs(key, "score"):
					r.BadDomain.Score = s.readInt()
				case keyIs(key, "domain"):
					d := &r.BadDomain.Domain
					*d = DomainPart{}.Domain
					s.object(func(key []byte) {
						switch {
						case keyIs(key, "score"):
							d.Score = s.readInt()
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
			r.History = HistoryPart{}
			s.object(func(key []byte) {
				if keyIs(key, "score") {
					r.History.Score = s.readInt()
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

// TotalScore is fullip.score; when the API left it out or sent a value that
// is not a number, it is derived as the sum of the three sub-scores, which is
// how the API computes it.
func (r *Report) TotalScore() int {
	if r.Score.Valid {
		return r.Score.Value
	}
	return r.BadIP.Score.Value + r.BadDomain.Score.Value + r.History.Score.Value
}

// Lists returns the blocklists the report names, in the order the original
// relay looked them up: badip lists, then the domain's blacklist,
// blacklist_mx and blacklist_ns. A list named twice is returned once.
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
// (or null) is a report with nothing in it; a body that is not a JSON
// object is an error, whose text names no Go type (it reaches the relay's
// error message).
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

// ListDetails is the part of a blocklist's metadata the relay maps
// (GET /metadata/{type}/lists/{id}). All values arrive as strings.
type ListDetails struct {
	Name        String  `json:"name"`
	Source      String  `json:"source"`
	Site        String  `json:"site"`
	Description String  `json:"description"`
	Tags        Strings `json:"tags"`
	Sensitivity Int     `json:"sensitivity"`
	Visibility  String  `json:"visibility"`
}

// decodeListDetails decodes one details object. The endpoint is documented to
// return one object; a one-element array is accepted defensively.
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
