// Package webui is the account console: server-rendered page shells
// (html/template) and a little plain JavaScript that calls the same JSON API as
// every other client. It can also serve a prebuilt single-page app from a
// directory instead (Endurain's web app), with the index.html fallback and a
// generated env.js. Either way it serves trailpass's own pages under OwnPrefix
// (the MFA step of an SSO sign-in), which no web app route uses.
package webui
