package signals

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
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
// match in any case and the last one counts.
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
	*n = parseInt(bytes.TrimSpace(b))
	return nil
}

// parseInt reads an Int from one JSON value.
func parseInt(b []byte) Int {
	if len(b) == 0 {
		return Int{}
	}
	var s string
	switch c := b[0]; {
	case c == '"':
		s = strings.TrimSpace(unquote(b))
	case c == '-' || '0' <= c && c <= '9':
		s = string(b)
	default: // objects, arrays, true, false, null
		return Int{}
	}
	if v, err := strconv.Atoi(s); err == nil {
		return Int{Value: v, Valid: true}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) &&
		f > math.MinInt32 && f < math.MaxInt32 {
		return Int{Value: int(f), Valid: true}
	}
	return Int{}
}

// String decodes leniently: a JSON string, or a number or boolean in its
// JSON spelling; objects, arrays and null leave it empty.
type String string

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (s *String) UnmarshalJSON(b []byte) error {
	*s = parseString(bytes.TrimSpace(b))
	return nil
}

// parseString reads a String from one JSON value.
func parseString(b []byte) String {
	if len(b) == 0 {
		return ""
	}
	switch b[0] {
	case '"':
		return String(unquote(b))
	case '{', '[', 'n':
		return ""
	}
	return String(b)
}

// Strings decodes leniently from an array of strings, "", "A,B" or a Python
// repr "['A', 'B']", dropping non-strings and empty entries.
type Strings []string

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (l *Strings) UnmarshalJSON(b []byte) error {
	s := scanner{b: bytes.TrimSpace(b)}
	*l = s.readStrings()
	if s.end() != nil {
		*l = nil
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

// maxDepth is how deeply encoding/json lets objects and arrays nest.
const maxDepth = 10000

// errScanner is a syntax error encoding/json does not see; the fuzz tests
// check that it never happens.
var errScanner = errors.New("malformed JSON")

// scanner reads one JSON text in one pass, checking its syntax as
// encoding/json does; after an error every method returns at once.
//
// It pays for its lines: with encoding/json alone, a deliberate of one
// address (report 203.0.113.66, 3.4 KiB) costs the relay 100 µs of CPU
// instead of 27 and 231 allocations instead of 153 (BenchmarkRelayCPU,
// upstream=in-process; with the upstream in another process, 172 µs
// instead of 115). See docs/benchmarks.md, "Decoding a report".
type scanner struct {
	b     []byte
	i     int
	depth int
	bad   bool
}

func (s *scanner) fail() { s.bad, s.i = true, len(s.b) }

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// ws skips JSON white space.
func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end checks that only white space follows; errors are encoding/json's.
func (s *scanner) end() error {
	s.ws()
	if !s.bad && s.i == len(s.b) {
		return nil
	}
	var v any
	if err := json.Unmarshal(s.b, &v); err != nil {
		return err
	}
	return errScanner
}

// value reads any value and returns its text.
func (s *scanner) value() []byte {
	s.ws()
	start := s.i
	switch c := s.peek(); {
	case c == '{':
		s.object(func([]byte) { s.value() })
	case c == '[':
		s.array(func() { s.value() })
	case c == '"':
		s.str()
	case c == '-' || '0' <= c && c <= '9':
		s.number()
	case c == 't':
		s.literal("true")
	case c == 'f':
		s.literal("false")
	case c == 'n':
		s.literal("null")
	default:
		s.fail()
	}
	if s.bad {
		return nil
	}
	return s.b[start:s.i]
}

// skip reads a value the caller does not need.
func (s *scanner) skip() { s.value() }

// object reads an object, handing each key, quoted, to member, which reads
// the value; anything else is skipped.
func (s *scanner) object(member func(key []byte)) {
	for more := s.enter('{', '}'); more; more = s.next('}') {
		if s.ws(); s.peek() != '"' {
			s.fail()
			return
		}
		key := s.str()
		if s.ws(); s.peek() != ':' {
			s.fail()
			return
		}
		s.i++
		member(key)
	}
}

// array reads an array, calling elem for each element; anything else is skipped.
func (s *scanner) array(elem func()) {
	for more := s.enter('[', ']'); more; more = s.next(']') {
		elem()
	}
}

// enter reads the open of an object or array and reports whether a member
// follows; a value that does not start with open is skipped.
func (s *scanner) enter(open, end byte) bool {
	if s.ws(); s.peek() != open {
		s.skip()
		return false
	}
	s.i++
	if s.depth++; s.depth > maxDepth {
		s.fail()
	}
	if s.ws(); s.peek() == end {
		s.i++
		s.depth--
		return false
	}
	return !s.bad
}

// next reads the comma after a member, or the end, and reports whether
// another member follows.
func (s *scanner) next(end byte) bool {
	switch s.ws(); s.peek() {
	case ',':
		s.i++
		return true
	case end:
		s.i++
		s.depth--
		return false
	}
	s.fail()
	return false
}

// str reads a string and returns it with its quotes.
func (s *scanner) str() []byte {
	start := s.i
	s.i++
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start:s.i]
		case c == '\\':
			s.i++
			switch s.peek() {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if s.i+5 > len(s.b) {
					s.fail()
					return nil
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						s.fail()
						return nil
					}
				}
				s.i += 5
			default:
				s.fail()
				return nil
			}
		case c < 0x20:
			s.fail()
			return nil
		default:
			s.i++
		}
	}
	s.fail()
	return nil
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number() {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		s.fail()
		return
	}
	if s.peek() == '.' {
		s.i++
		if !s.digits() {
			s.fail()
			return
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !s.digits() {
			s.fail()
		}
	}
}

func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

func (s *scanner) literal(word string) {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		s.fail()
		return
	}
	s.i += len(word)
}

// readStrings reads a Strings value.
func (s *scanner) readStrings() (l Strings) {
	s.ws()
	switch s.peek() {
	case '[':
		s.array(func() {
			if s.ws(); s.peek() != '"' { // not a string: skipped
				s.skip()
				return
			}
			if v := strings.TrimSpace(unquote(s.str())); v != "" {
				l = append(l, v)
			}
		})
	case '"':
		l = splitList(unquote(s.str()))
	default:
		s.skip()
	}
	return l
}

// unquote returns the text of a JSON string given with its quotes.
func unquote(b []byte) string {
	if len(b) < 2 {
		return ""
	}
	if in := b[1 : len(b)-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
		return string(in)
	}
	var str string
	if json.Unmarshal(b, &str) != nil {
		return ""
	}
	return str
}

// keyIs reports whether a quoted key names name, in any case.
func keyIs(key []byte, name string) bool {
	if len(key) < 2 {
		return false
	}
	if in := key[1 : len(key)-1]; bytes.IndexByte(in, '\\') < 0 {
		return string(in) == name || bytes.EqualFold(in, []byte(name))
	}
	return strings.EqualFold(unquote(key), name)
}
