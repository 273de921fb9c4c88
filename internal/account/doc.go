// Package account is the shared kernel: the User type and the rules for
// creating accounts, the error codes every package returns, the caller and
// the recent-authentication rule, security events, notices and the mail
// outbox, password recovery and the server settings. It imports no capability
// package (profile, admin, sign-up, auth, …); they all import it.
package account
