// Package enrich turns observables into CTIM entities: Lookup gathers Auth0
// Signals reports and blocklist details for a request, and Mapper, pure
// with its clock and id generator injected, maps them to verdicts,
// judgements, sightings, indicators and relationships.
package enrich
