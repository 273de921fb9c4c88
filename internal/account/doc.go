// Package account holds the user domain: the User type, the error codes every
// capability package shares, and the rules for creating and changing accounts.
package account
