// Package profile is the profile capability: what a user may change about
// their own account (the editable fields, privacy, default gear, goals, the
// photo and the password) and the reads of GET /profile. Apply is the
// whitelist's pure check, shared with user administration and the import.
package profile
