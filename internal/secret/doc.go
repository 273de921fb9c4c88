// Package secret holds the server's cryptography: random tokens and their hashes,
// authenticated encryption of secrets at rest with rotating keys, and password
// hashing. It imports no other trailpass package.
package secret
