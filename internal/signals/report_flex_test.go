package signals

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodeField decodes raw as the value of one field of an object, the way
// the lenient types are met in real bodies.
func decodeField[T any](t *testing.T, raw string) T {
	t.Helper()
	var doc struct {
		V T `json:"v"`
	}
	if err := json.Unmarshal([]byte(`{"v":`+raw+`}`), &doc); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return doc.V
}

func TestIntDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want Int
	}{
		// numbers
		{`0`, Int{0, true}},
		{`-1`, Int{-1, true}},
		{`-3`, Int{-3, true}},
		{`10`, Int{10, true}},
		{`-0`, Int{0, true}},
		{`1e1`, Int{10, true}},
		// fractions are truncated toward zero
		{`1.9`, Int{1, true}},
		{`-1.9`, Int{-1, true}},
		{`-0.5`, Int{0, true}},
		// numbers as strings (all metadata values arrive that way)
		{`"1"`, Int{1, true}},
		{`"10"`, Int{10, true}},
		{`"-2"`, Int{-2, true}},
		{`" 5 "`, Int{5, true}},
		{`"2.5"`, Int{2, true}},
		{`"\u0033"`, Int{3, true}},
		// strings that are not numbers
		{`""`, Int{}},
		{`" "`, Int{}},
		{`"abc"`, Int{}},
		{`"1,5"`, Int{}},
		{`"['1']"`, Int{}},
		{`"NaN"`, Int{}},
		{`"Inf"`, Int{}},
		{`"-Infinity"`, Int{}},
		{`"True"`, Int{}},
		// out of range
		{`1e300`, Int{}},
		{`-1e300`, Int{}},
		{`"99999999999999999999999"`, Int{}},
		// other JSON types
		{`true`, Int{}},
		{`false`, Int{}},
		{`null`, Int{}},
		{`[]`, Int{}},
		{`[1]`, Int{}},
		{`{}`, Int{}},
		{`{"score":-1}`, Int{}},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			if got := decodeField[Int](t, tc.raw); got != tc.want {
				t.Errorf("Int from %s = %+v, want %+v", tc.raw, got, tc.want)
			}
		})
	}
}

func TestIntDecodingResetsPreviousValue(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{`null`, `"x"`, `{}`} {
		n := Int{Value: 7, Valid: true}
		if err := json.Unmarshal([]byte(raw), &n); err != nil {
			t.Fatalf("Unmarshal(%s): %v", raw, err)
		}
		if n != (Int{}) {
			t.Errorf("Int{7} after decoding %s = %+v, want the zero Int", raw, n)
		}
	}
}

func TestStringDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want String
	}{
		{`"FAIL2BAN-SSH Blocklist.de"`, "FAIL2BAN-SSH Blocklist.de"},
		{`""`, ""},
		{`"  spaced  "`, "  spaced  "},
		{`"caf\u00e9"`, "café"},
		{`"line\nbreak"`, "line\nbreak"},
		// numbers and booleans keep their JSON spelling
		{`5`, "5"},
		{`-1.50`, "-1.50"},
		{`1e3`, "1e3"},
		{`true`, "true"},
		{`false`, "false"},
		// null, arrays and objects leave it empty
		{`null`, ""},
		{`[]`, ""},
		{`["a","b"]`, ""},
		{`{}`, ""},
		{`{"en":"name"}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			if got := decodeField[String](t, tc.raw); got != tc.want {
				t.Errorf("String from %s = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestStringsDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		want Strings
	}{
		{"array", `["FAIL2BAN-SSH","STOPFORUMSPAM-30"]`, Strings{"FAIL2BAN-SSH", "STOPFORUMSPAM-30"}},
		{"empty array", `[]`, nil},
		{"array elements trimmed", `["  NIXSPAM-IP  ", "\tUCEPROTECT-LEVEL1\n"]`, Strings{"NIXSPAM-IP", "UCEPROTECT-LEVEL1"}},
		{"array empty elements dropped", `["", " ", "A"]`, Strings{"A"}},
		{"array non-strings skipped", `[1, "A", true, null, {"id":"X"}, ["Y"], -2.5, false, "B"]`, Strings{"A", "B"}},
		{"array of numbers only", `[1, 2, 3]`, nil},
		{"array with spaces between elements", `[ 7 , "A" ,` + "\n" + ` true ]`, Strings{"A"}},
		{"empty string (baddomain.ip.blacklist)", `""`, nil},
		{"blank string", `"   "`, nil},
		{"comma string (metadata tags)", `"reputation,abuse,bruteforce"`, Strings{"reputation", "abuse", "bruteforce"}},
		{"comma string with spaces", `" A , B ,C "`, Strings{"A", "B", "C"}},
		{"comma string empty entries", `"A,,B,"`, Strings{"A", "B"}},
		{"single value string", `"FAIL2BAN-SSH"`, Strings{"FAIL2BAN-SSH"}},
		{"python repr", `"['198.51.100.0/24', '203.0.113.0/24']"`, Strings{"198.51.100.0/24", "203.0.113.0/24"}},
		{"python repr empty", `"[]"`, nil},
		{"python repr empty element", `"['']"`, nil},
		{"json array inside a string", `"[\"A\", \"B\"]"`, Strings{"A", "B"}},
		{"bracketed without quotes", `"[A, B]"`, Strings{"A", "B"}},
		{"null", `null`, nil},
		{"number", `5`, nil},
		{"true", `true`, nil},
		{"object", `{"A":"B"}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := decodeField[Strings](t, tc.raw)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Strings from %s mismatch (-want +got):\n%s", tc.raw, diff)
			}
		})
	}
}

func TestStringsDecodingResetsPreviousValue(t *testing.T) {
	t.Parallel()
	l := Strings{"OLD"}
	if err := json.Unmarshal([]byte(`null`), &l); err != nil {
		t.Fatal(err)
	}
	if l != nil {
		t.Errorf("Strings{OLD} after decoding null = %q, want nil", l)
	}
}
