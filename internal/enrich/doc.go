// Package enrich turns observables into CTIM: Lookup gathers reports and
// blocklist details, and Mapper, pure with an injected clock and id source,
// maps them.
package enrich
