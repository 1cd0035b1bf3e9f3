package signals

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Int is an integer that decodes leniently: a JSON number (fractions are
// truncated toward zero), a numeric string, or anything else (which leaves it
// unset). Valid reports whether a usable value was present.
type Int struct {
	Value int
	Valid bool
}

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (n *Int) UnmarshalJSON(b []byte) error {
	*n = Int{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		var str string
		if json.Unmarshal(b, &str) != nil {
			return nil
		}
		s = strings.TrimSpace(str)
	}
	if v, err := strconv.Atoi(s); err == nil {
		*n = Int{Value: v, Valid: true}
		return nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) &&
		f > math.MinInt32 && f < math.MaxInt32 {
		*n = Int{Value: int(f), Valid: true}
	}
	return nil
}

// String is a string that decodes leniently: a JSON string, or a number or
// boolean in its JSON spelling; objects, arrays and null leave it empty.
type String string

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (s *String) UnmarshalJSON(b []byte) error {
	*s = ""
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		var str string
		if json.Unmarshal(b, &str) == nil {
			*s = String(str)
		}
	case '{', '[', 'n':
	default:
		*s = String(b)
	}
	return nil
}

// Strings is a list of strings that decodes leniently from the forms the API
// uses for lists: a JSON array of strings, the empty string "", a
// comma-separated string "A,B", or a Python repr string "['A', 'B']".
// Non-string array elements are skipped; empty entries are dropped.
type Strings []string

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (l *Strings) UnmarshalJSON(b []byte) error {
	*l = nil
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '[':
		var raw []json.RawMessage
		if json.Unmarshal(b, &raw) != nil {
			return nil
		}
		for _, r := range raw {
			var s string
			if json.Unmarshal(r, &s) != nil { // not a string: skipped
				continue
			}
			if v := strings.TrimSpace(s); v != "" {
				*l = append(*l, v)
			}
		}
	case '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			*l = splitList(s)
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

// lenientObject decodes b into v when b is a JSON object and leaves v zero
// otherwise; it fails only on malformed JSON inside an object, which the
// outer decoder has already rejected.
func lenientObject(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	return json.Unmarshal(b, v)
}
