// Package mfa implements the second factor: TOTP (RFC 6238) with a replay guard,
// single-use backup codes, enrolment through a pending setup kept in the
// database, and the per-account lockout shared by sign-in, step-up and disable.
package mfa
