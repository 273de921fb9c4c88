// Package idp holds the identity-provider capability: admin-configured OIDC
// providers, SSO sign-in and account linking (authorization code with PKCE S256,
// state and nonce kept server-side, single use), and the rules deciding which
// account an external identity signs in to.
package idp
