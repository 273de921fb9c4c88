// Package fitness holds the data a user owns besides the account itself:
// activities and their parts (laps, sets, streams, workout steps, media),
// exercise titles, gear and gear components, health weight and targets, goals,
// default gear and notifications, with the storage operations to create them and
// to read them page by page for export.
package fitness
