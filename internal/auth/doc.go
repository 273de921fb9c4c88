// Package auth signs users in and keeps them signed in: password login with an MFA
// ticket, opaque rotating tokens, sessions users can list and revoke, recent
// authentication for sensitive actions, and throttling kept in the database.
package auth
