// Package httpapi serves trailpass's JSON API: the Endurain-compatible routes under
// /api/v1, health checks, and the middleware around them. It is the only place
// that maps domain errors to HTTP status codes (see errors.go).
package httpapi
