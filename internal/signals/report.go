package signals

import (
	"bytes"
	"encoding/json"
	"errors"
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
	var raw struct {
		Score     Int             `json:"score"`
		Hostname  String          `json:"hostname"`
		BadIP     json.RawMessage `json:"badip"`
		BadDomain json.RawMessage `json:"baddomain"`
		History   json.RawMessage `json:"history"`
	}
	*r = Report{}
	if err := lenientObject(b, &raw); err != nil {
		return err
	}
	r.Score, r.Hostname = raw.Score, raw.Hostname
	if err := lenientObject(raw.BadIP, &r.BadIP); err != nil {
		return err
	}
	var dom struct {
		Score  Int             `json:"score"`
		Domain json.RawMessage `json:"domain"`
	}
	if err := lenientObject(raw.BadDomain, &dom); err != nil {
		return err
	}
	r.BadDomain.Score = dom.Score
	if err := lenientObject(dom.Domain, &r.BadDomain.Domain); err != nil {
		return err
	}
	return lenientObject(raw.History, &r.History)
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

// reportEnvelope is the body of GET /v2.0/ip/{ip}.
type reportEnvelope struct {
	FullIP json.RawMessage `json:"fullip"`
}

// decodeReport decodes a report body. A body without "fullip" is a report
// with nothing in it; a body that is not a JSON object is an error, whose
// text names no Go type (it reaches the relay's error message).
func decodeReport(body []byte) (*Report, error) {
	var env reportEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, errNotObject
		}
		return nil, err
	}
	var r Report
	if err := r.UnmarshalJSON(env.FullIP); err != nil {
		return nil, err
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
