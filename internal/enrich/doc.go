// Package enrich turns observables into CTIM entities: Lookup gathers Auth0
// Signals reports and blocklist details for a request, and Mapper maps what
// was gathered into verdicts, judgements, sightings, indicators and
// relationships.
//
// Mapping is pure: the clock and the id generator are injected, so the same
// inputs always give the same documents.
package enrich
