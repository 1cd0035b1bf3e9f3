package enrich

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/signals-relay/signals-relay/internal/ctim"
)

func newObservable(typ, value string) ctim.Observable {
	return ctim.Observable{Type: typ, Value: value}
}

func observableRef(o ctim.Observable) *ctim.Observable { return &o }

func TestSupportedAddresses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   ctim.Observable
		want *ctim.Observable // nil: ignored
	}{
		// IPv4 as "ip"
		{"ipv4", newObservable("ip", "198.51.100.23"), observableRef(newObservable("ip", "198.51.100.23"))},
		{"ipv4 private", newObservable("ip", "10.10.10.10"), observableRef(newObservable("ip", "10.10.10.10"))},
		{"ipv4 unspecified", newObservable("ip", "0.0.0.0"), observableRef(newObservable("ip", "0.0.0.0"))},
		{"ipv4 broadcast", newObservable("ip", "255.255.255.255"), observableRef(newObservable("ip", "255.255.255.255"))},
		{"ipv4 with spaces, kept as sent", newObservable("ip", " 198.51.100.23\n"), observableRef(newObservable("ip", " 198.51.100.23\n"))},
		{"type upper case", newObservable("IP", "198.51.100.23"), observableRef(newObservable("ip", "198.51.100.23"))},
		{"type mixed case and spaces", newObservable(" Ip\t", "198.51.100.23"), observableRef(newObservable("ip", "198.51.100.23"))},
		{"ipv4 leading zero", newObservable("ip", "198.051.100.23"), nil},
		{"ipv4 leading zeros everywhere", newObservable("ip", "010.010.010.010"), nil},
		{"ipv4 with port", newObservable("ip", "198.51.100.23:443"), nil},
		{"ipv4 with prefix", newObservable("ip", "198.51.100.0/24"), nil},
		{"ipv4 with zone", newObservable("ip", "198.51.100.23%eth0"), nil},
		{"ipv4 three parts", newObservable("ip", "198.51.100"), nil},
		{"ipv4 short form", newObservable("ip", "127.1"), nil},
		{"ipv4 five parts", newObservable("ip", "198.51.100.23.1"), nil},
		{"ipv4 octet too large", newObservable("ip", "192.0.2.999"), nil},
		{"ipv4 hex", newObservable("ip", "0x7f.0.0.1"), nil},
		{"ipv4 decimal integer", newObservable("ip", "3325256727"), nil},
		{"ipv4 inner space", newObservable("ip", "198.51. 100.23"), nil},
		{"ipv4 full-width digits", newObservable("ip", "１９８.５１.１００.２３"), nil},
		{"ipv4 empty", newObservable("ip", ""), nil},
		{"ipv4 blank", newObservable("ip", "  "), nil},
		{"ipv6 value typed ip", newObservable("ip", "2001:db8::5"), nil},
		{"4-in-6 typed ip", newObservable("ip", "::ffff:198.51.100.23"), observableRef(newObservable("ip", "::ffff:198.51.100.23"))},
		{"4-in-6 in hex typed ip", newObservable("ip", "::FFFF:c633:6417"), observableRef(newObservable("ip", "::FFFF:c633:6417"))},
		{"4-in-6 with zone", newObservable("ip", "::ffff:198.51.100.23%eth0"), nil},
		// IPv6 as "ipv6"
		{"ipv6", newObservable("ipv6", "2001:db8::5"), observableRef(newObservable("ipv6", "2001:db8::5"))},
		{"ipv6 upper case kept as sent", newObservable("ipv6", "2001:DB8::5"), observableRef(newObservable("ipv6", "2001:DB8::5"))},
		{"ipv6 full form", newObservable("ipv6", "2001:0db8:0000:0000:0000:0000:0000:0005"), observableRef(newObservable("ipv6", "2001:0db8:0000:0000:0000:0000:0000:0005"))},
		{"ipv6 loopback", newObservable("ipv6", "::1"), observableRef(newObservable("ipv6", "::1"))},
		{"ipv6 type upper case, value with spaces", newObservable("IPv6", " 2001:db8::5 "), observableRef(newObservable("ipv6", " 2001:db8::5 "))},
		{"ipv6 with zone", newObservable("ipv6", "fe80::1%eth0"), nil},
		{"ipv6 with escaped zone", newObservable("ipv6", "fe80::1%25eth0"), nil},
		{"ipv6 bracketed", newObservable("ipv6", "[2001:db8::5]"), nil},
		{"ipv6 with port", newObservable("ipv6", "[2001:db8::5]:443"), nil},
		{"ipv6 with prefix", newObservable("ipv6", "2001:db8::/32"), nil},
		{"ipv6 two double colons", newObservable("ipv6", "2001::db8::5"), nil},
		{"ipv6 group too long", newObservable("ipv6", "2001:db8::12345"), nil},
		{"4-in-6 typed ipv6", newObservable("ipv6", "::ffff:198.51.100.23"), observableRef(newObservable("ipv6", "::ffff:198.51.100.23"))},
		{"ipv4 value typed ipv6", newObservable("ipv6", "198.51.100.23"), nil},
		// other types
		{"domain", newObservable("domain", "example.net"), nil},
		{"url", newObservable("url", "http://198.51.100.23/"), nil},
		{"ip-like type", newObservable("ipv4", "198.51.100.23"), nil},
		{"empty type", newObservable("", "198.51.100.23"), nil},
		{"sha256", newObservable("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var want []ctim.Observable
			if tc.want != nil {
				want = []ctim.Observable{*tc.want}
			}
			got := Supported([]ctim.Observable{tc.in})
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Supported(%+v) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestSupportedOrderAndDeduplication(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []ctim.Observable
		want []ctim.Observable
	}{
		{
			name: "nothing",
			in:   nil,
			want: nil,
		},
		{
			name: "request order kept, other types ignored",
			in: []ctim.Observable{
				newObservable("ipv6", "2001:db8::5"),
				newObservable("domain", "example.net"),
				newObservable("ip", "203.0.113.66"),
				newObservable("ip", "not an address"),
				newObservable("ip", "198.51.100.23"),
			},
			want: []ctim.Observable{
				newObservable("ipv6", "2001:db8::5"),
				newObservable("ip", "203.0.113.66"),
				newObservable("ip", "198.51.100.23"),
			},
		},
		{
			name: "duplicates dropped, first one kept",
			in: []ctim.Observable{
				newObservable("ip", "198.51.100.23"),
				newObservable("ip", "203.0.113.66"),
				newObservable("ip", "198.51.100.23"),
				newObservable("IP", "198.51.100.23"),
				newObservable("ip", "203.0.113.66"),
			},
			want: []ctim.Observable{
				newObservable("ip", "198.51.100.23"),
				newObservable("ip", "203.0.113.66"),
			},
		},
		{
			name: "spellings of one IPv4 address are different observables, each as sent",
			in: []ctim.Observable{
				newObservable("ip", "198.51.100.23"),
				newObservable("IP", " 198.51.100.23 "),
				newObservable("ip", "::ffff:198.51.100.23"),
				newObservable("ip", " 198.51.100.23 "),
			},
			want: []ctim.Observable{
				newObservable("ip", "198.51.100.23"),
				newObservable("ip", " 198.51.100.23 "),
				newObservable("ip", "::ffff:198.51.100.23"),
			},
		},
		{
			name: "the same value under two types",
			in: []ctim.Observable{
				newObservable("ip", "198.51.100.23"),
				newObservable("domain", "198.51.100.23"),
				newObservable("ipv6", "198.51.100.23"),
			},
			want: []ctim.Observable{newObservable("ip", "198.51.100.23")},
		},
		{
			name: "different spellings of one IPv6 address are different observables",
			in: []ctim.Observable{
				newObservable("ipv6", "2001:db8::5"),
				newObservable("ipv6", "2001:DB8::5"),
				newObservable("ipv6", "2001:db8::5"),
			},
			want: []ctim.Observable{newObservable("ipv6", "2001:db8::5"), newObservable("ipv6", "2001:DB8::5")},
		},
		{
			name: "only unsupported",
			in:   []ctim.Observable{newObservable("domain", "example.net"), newObservable("ip", "")},
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Supported(tc.in)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Supported mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSupportedDoesNotChangeItsInput(t *testing.T) {
	t.Parallel()
	in := []ctim.Observable{newObservable("IP", " 198.51.100.23 ")}
	Supported(in)
	if in[0] != (newObservable("IP", " 198.51.100.23 ")) {
		t.Errorf("Supported changed its input to %+v", in[0])
	}
}

func TestAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   ctim.Observable
		want string
	}{
		{newObservable("ip", "198.51.100.23"), "198.51.100.23"},
		{newObservable("ip", " 198.51.100.23\t"), "198.51.100.23"},
		{newObservable("ip", "::ffff:198.51.100.23"), "198.51.100.23"},
		{newObservable("ip", " ::FFFF:c633:6417 "), "198.51.100.23"},
		{newObservable("ipv6", "::ffff:198.51.100.23"), "198.51.100.23"},
		{newObservable("ipv6", "2001:DB8:0::5"), "2001:db8::5"},
		{newObservable("ipv6", " 2001:db8::5\n"), "2001:db8::5"},
	}
	for _, tc := range tests {
		if got := Address(tc.in); got != tc.want {
			t.Errorf("Address(%+v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
