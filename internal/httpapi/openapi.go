package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/passkey"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/signup"
)

// apiOp is one route: how it is served and how it is documented.
type apiOp struct {
	Method, Path string
	// Pattern is the ServeMux pattern serving it when it is not "Method Path".
	Pattern string
	// Handle serves it: a func(http.ResponseWriter, *http.Request) for routes
	// any caller may reach, a principal handler for "user", "admin" and
	// "browser" (see Server.guard). nil when another op of the same Pattern
	// serves it, or it is mounted elsewhere (/metrics).
	Handle  any
	Tag     string
	Summary string
	// Auth is who may call it: "" anyone; "user" or "admin" the access token
	// (cookie or bearer); "browser" the same, X-Client-Type optional (web);
	// "refresh" the refresh token; "any" optional credentials (sign-out);
	// "ticket" anyone, web clients with the MFA ticket cookie.
	Auth    string
	Request any         // a Go value whose type is the JSON body, or formBody / multipartBody
	Status  int         // success status; 0 means 200
	Resp    any         // a Go value whose type is the success body; nil means none
	Binary  string      // content type of a non-JSON success body
	Also    map[int]any // other success answers: status -> body
	Errors  []int
	// Query documents query parameters: name and description; integers, but
	// for q, the search text.
	Query [][2]string
}

var (
	authErrs  = []int{401, 403}
	writeErrs = []int{401, 403, 422}
)

// apiOps is the one list of the API's routes: each serves its pattern with its
// handler behind the authentication its Auth names (routes.go registers them),
// and documents it (openAPIDocument), so what is served and what is documented
// cannot part.
func (s *Server) apiOps() []apiOp {
	return []apiOp{
		{Method: "GET", Path: "/healthz", Handle: s.handleHealthz, Tag: "health", Summary: "Process is alive", Resp: statusBody{}},
		{Method: "GET", Path: "/readyz", Handle: s.handleReadyz, Tag: "health", Summary: "Database reachable and migrated", Resp: statusBody{}, Errors: []int{503}},
		{Method: "GET", Path: "/metrics", Tag: "health", Summary: "Prometheus metrics (here unless TRAILPASS_METRICS_LISTEN moves them: 404 then)", Binary: "text/plain; version=0.0.4", Errors: []int{404}},
		{Method: "GET", Path: "/api/openapi.json", Handle: s.handleOpenAPI, Tag: "health", Summary: "This document", Resp: map[string]any{}},

		{Method: "POST", Path: "/api/v1/token", Handle: s.handleToken, Tag: "auth", Summary: "Sign in with a password (form; 403 while local login is off); 202 (web) or 200 (mobile) with mfa_required when MFA is on", Request: formBody{}, Resp: anyOf{sessionIDBody{}, tokenBody{}, mfaChallengeBody{}}, Also: map[int]any{http.StatusAccepted: mfaChallengeBody{}}, Errors: []int{401, 403, 422, 429}},
		{Method: "POST", Path: "/api/v1/mfa/verify", Handle: s.handleMFAVerify, Tag: "auth", Summary: "Finish a sign-in with a TOTP or backup code", Auth: "ticket", Request: mfaVerifyRequest{}, Resp: anyOf{sessionIDBody{}, tokenBody{}}, Errors: []int{400, 401, 403, 422, 429}},
		{Method: "POST", Path: "/api/v1/refresh", Handle: s.handleRefresh, Tag: "auth", Summary: "Rotate the tokens", Auth: "refresh", Resp: anyOf{sessionIDBody{}, tokenBody{}}, Errors: []int{401, 403, 429}},
		{Method: "POST", Path: "/api/v1/logout", Handle: s.handleLogout, Tag: "auth", Summary: "Revoke the session and clear the cookies", Auth: "any", Resp: messageBody{}, Errors: []int{403}},
		{Method: "POST", Path: "/api/v1/profile/reauth", Handle: s.handleReauth, Tag: "auth", Summary: "Step up with the password", Auth: "user", Request: passwordBody{}, Resp: validUntilBody{}, Errors: []int{400, 401, 403, 429}},
		{Method: "GET", Path: "/api/v1/profile/security-events", Handle: s.handleSecurityEvents, Tag: "sessions", Summary: "The caller's own security history, newest first, paged; kept for TRAILPASS_SECURITY_EVENT_RETENTION (90 days by default). Never another user's events, never a secret.", Auth: "user", Resp: securityEventsPage{}, Errors: []int{401, 403, 422},
			Query: [][2]string{{"limit", "events per page, 1 to 100 (default 20)"}, {"before", "cursor: the next_before of the previous page"}}},
		{Method: "GET", Path: "/api/v1/profile/sessions", Handle: s.handleMySessions, Tag: "sessions", Summary: "The caller's live sessions, newest first", Auth: "user", Resp: []sessionJSON{}, Errors: authErrs},
		{Method: "DELETE", Path: "/api/v1/profile/sessions", Handle: s.handleRevokeOtherSessions, Tag: "sessions", Summary: "Revoke every other session (needs a recent step-up)", Auth: "user", Resp: revokedBody{}, Errors: authErrs},
		{Method: "DELETE", Path: "/api/v1/profile/sessions/{session_id}", Handle: s.handleRevokeMySession, Tag: "sessions", Summary: "Revoke one of the caller's sessions", Auth: "user", Resp: jsonNull{}, Errors: []int{401, 403, 404}},
		{Method: "GET", Path: "/api/v1/sessions/user/{user_id}", Handle: s.handleUserSessions, Tag: "sessions", Summary: "A user's sessions", Auth: "admin", Resp: []sessionJSON{}, Errors: authErrs},
		{Method: "DELETE", Path: "/api/v1/sessions/{session_id}/user/{user_id}", Handle: s.handleDeleteUserSession, Tag: "sessions", Summary: "Revoke a user's session", Auth: "admin", Resp: jsonNull{}, Errors: []int{401, 403, 404}},

		{Method: "GET", Path: "/api/v1/profile", Handle: s.handleProfile, Tag: "profile", Summary: "The caller's profile (UserMe)", Auth: "user", Resp: profile.UserMe{}, Errors: authErrs},
		{Method: "PUT", Path: "/api/v1/profile", Handle: s.handleProfileUpdate, Tag: "profile", Summary: "Edit the profile; privileged fields are ignored", Auth: "user", Request: profile.UserMe{}, Resp: detailBody{}, Errors: []int{401, 403, 409, 422}},
		{Method: "PUT", Path: "/api/v1/profile/privacy", Handle: s.handlePrivacyUpdate, Tag: "profile", Summary: "Privacy settings", Auth: "user", Request: profile.PrivacyUpdate{}, Resp: []string{}, Errors: writeErrs},
		{Method: "PUT", Path: "/api/v1/profile/password", Handle: s.handlePasswordChange, Tag: "profile", Summary: "Change the password (current password or a recent step-up); signs out other sessions", Auth: "user", Request: profile.PasswordChange{}, Resp: []string{}, Errors: []int{400, 401, 403, 422, 429}},
		{Method: "POST", Path: "/api/v1/profile/image", Handle: s.handlePhotoUpload, Tag: "profile", Summary: "Upload the photo (JPEG or PNG, at most 20 MiB and 40 megapixels)", Auth: "user", Request: multipartBody{}, Status: 201, Resp: "", Errors: []int{400, 401, 403, 408}},
		{Method: "PUT", Path: "/api/v1/profile/photo", Handle: s.handlePhotoDelete, Tag: "profile", Summary: "Delete the photo", Auth: "user", Resp: "", Errors: authErrs},
		{Method: "GET", Path: "/user_images/{file}", Handle: s.handleUserImage, Tag: "profile", Summary: "A user photo, for its owner and admins (404 for anyone else)", Auth: "browser", Binary: "image/*", Errors: []int{401, 404}},
		{Method: "POST", Path: "/api/v1/profile/import", Handle: s.handleImport, Tag: "profile", Summary: "Import an export archive (trailpass or Endurain) all or nothing; ?dry_run=true validates only, ?async=true answers 202 with a job id", Auth: "user", Request: multipartBody{}, Resp: portability.Result{}, Also: map[int]any{http.StatusAccepted: jobIDBody{}}, Errors: []int{400, 401, 403, 408, 409, 413, 422, 507}},
		{Method: "GET", Path: "/api/v1/profile/import/jobs/{id}", Handle: s.handleImportJob, Tag: "profile", Summary: "An import job's status, stage, progress and result", Auth: "user", Resp: portability.Job{}, Errors: []int{401, 403, 404}},
		{Method: "GET", Path: "/api/v1/profile/import/jobs/{id}/events", Handle: s.handleImportEvents, Tag: "profile", Summary: "An import job's progress as server-sent events (progress, then done)", Auth: "user", Binary: "text/event-stream", Errors: []int{401, 403, 404}},
		{Method: "GET", Path: "/api/v1/profile/default_gear", Handle: s.handleDefaultGear, Tag: "profile", Summary: "Default gear per activity type", Auth: "user", Resp: profile.DefaultGear{}, Errors: authErrs},
		{Method: "PUT", Path: "/api/v1/profile/default_gear", Handle: s.handleDefaultGearUpdate, Tag: "profile", Summary: "Set default gear; gear must be the caller's", Auth: "user", Request: profile.DefaultGear{}, Resp: profile.DefaultGear{}, Errors: writeErrs},
		{Method: "GET", Path: "/api/v1/profile/goals", Handle: s.handleGoals, Tag: "profile", Summary: "Goals; null when there are none", Auth: "user", Resp: []profile.Goal{}, Errors: authErrs},
		{Method: "GET", Path: "/api/v1/profile/goals/results", Handle: s.handleGoalResults, Tag: "profile", Summary: "Progress of each goal on ?date=YYYY-MM-DD (default today); null when there are no goals", Auth: "user", Resp: []profile.GoalProgress{}, Errors: []int{401, 403, 422}},
		{Method: "POST", Path: "/api/v1/profile/goals", Handle: s.handleGoalCreate, Tag: "profile", Summary: "Create a goal", Auth: "user", Request: profile.GoalInput{}, Status: 201, Resp: profile.Goal{}, Errors: []int{401, 403, 409, 422}},
		{Method: "PUT", Path: "/api/v1/profile/goals/{goal_id}", Handle: s.handleGoalUpdate, Tag: "profile", Summary: "Edit a goal", Auth: "user", Request: profile.GoalInput{}, Resp: profile.Goal{}, Errors: []int{401, 403, 404, 409, 422}},
		{Method: "DELETE", Path: "/api/v1/profile/goals/{goal_id}", Handle: s.handleGoalDelete, Tag: "profile", Summary: "Delete a goal", Auth: "user", Resp: detailBody{}, Errors: []int{401, 403, 404}},
		{Method: "GET", Path: "/api/v1/profile/summary", Handle: s.handleSummary, Tag: "data", Summary: "What the caller's account holds: counts per kind, total file size, the span of its activities and activities per month (UTC)", Auth: "user", Resp: profile.AccountSummary{}, Errors: authErrs},
		{Method: "GET", Path: "/api/v1/profile/export", Handle: s.handleExport, Tag: "data", Summary: "Everything the caller owns as a ZIP in Endurain's layout plus manifest.json, streamed", Auth: "user", Binary: "application/zip", Errors: authErrs},
		{Method: "GET", Path: "/api/v1/gears", Handle: s.handleGears, Tag: "profile", Summary: "The caller's gear", Auth: "user", Resp: []profile.Gear{}, Errors: authErrs},
		{Method: "PUT", Path: "/api/v1/activities/visibility/{visibility}", Handle: s.handleActivitiesVisibility, Tag: "profile", Summary: "Set the visibility (0, 1, 2) of all the caller's activities", Auth: "user", Resp: detailBody{}, Errors: writeErrs},
		// Endurain has both /users/username/{username} and
		// /users/{user_id}/identity-providers, which ServeMux cannot tell apart
		// by pattern alone: one handler serves the three and dispatches.
		{Method: "GET", Path: "/api/v1/users/username/{username}", Pattern: "GET /api/v1/users/{a}/{b}", Handle: s.handleUsersPair, Tag: "profile", Summary: "Admins: the account (UserRead) or null. Others: null when free, {available: false} when taken. Throttled per user and address", Auth: "user", Resp: anyOf{jsonNull{}, availabilityBody{}, profile.UserRead{}}, Errors: []int{401, 403, 429}},
		{Method: "GET", Path: "/api/v1/users/email/{email}", Pattern: "GET /api/v1/users/{a}/{b}", Tag: "profile", Summary: "Admins: the account (UserRead) or null. Others: null when free, {available: false} when taken. Throttled per user and address", Auth: "user", Resp: anyOf{jsonNull{}, availabilityBody{}, profile.UserRead{}}, Errors: []int{401, 403, 429}},
		{Method: "GET", Path: "/api/v1/users/{user_id}/identity-providers", Pattern: "GET /api/v1/users/{a}/{b}", Tag: "identity providers", Summary: "A user's linked identities", Auth: "admin", Resp: []idp.Link{}, Errors: authErrs},
		{Method: "GET", Path: "/api/v1/public/server_settings", Handle: s.handlePublicServerSettings, Tag: "profile", Summary: "Public settings the web app loads first (ServerSettingsReadPublic)", Resp: account.PublicServerSettings{}},
		{Method: "POST", Path: "/api/v1/password-reset/request", Handle: s.handleResetRequest, Tag: "account", Summary: "Mail a reset link if an active account has the address; the same answer either way", Request: resetRequestBody{}, Resp: messageBody{}, Errors: []int{403, 422, 429}},
		{Method: "POST", Path: "/api/v1/sign-up/request", Handle: s.handleSignUp, Tag: "account", Summary: "Create an account as the server settings allow (sign-up on, email verification, admin approval); fields pass PUT /profile's checks", Request: signUpDoc{}, Status: 201, Resp: signup.Result{}, Errors: []int{403, 409, 422, 429}},
		{Method: "POST", Path: "/api/v1/sign-up/confirm", Handle: s.handleSignUpConfirm, Tag: "account", Summary: "Verify the email of a sign-up with the token from its mail (single use, 24 hours)", Request: signUpConfirmBody{}, Resp: signup.Result{}, Errors: []int{400, 403, 412, 422}},
		{Method: "GET", Path: "/api/v1/profile/notices", Handle: s.handleNoticeSettings, Tag: "account", Summary: "Security notice preferences: only the new-device notice (new_sign_in) can be turned off", Auth: "user", Resp: noticeSettingsBody{}, Errors: authErrs},
		{Method: "PUT", Path: "/api/v1/profile/notices", Handle: s.handleNoticeSettingsUpdate, Tag: "account", Summary: "Turn the new-device notice on or off (off needs a recent sign-in or step-up)", Auth: "user", Request: noticeSettingsBody{}, Resp: noticeSettingsBody{}, Errors: writeErrs},
		{Method: "POST", Path: "/api/v1/password-reset/confirm", Handle: s.handleResetConfirm, Tag: "account", Summary: "Set a new password with a reset token (single use, 1 hour); ends every session, keeps MFA", Request: resetConfirmBody{}, Resp: messageBody{}, Errors: []int{400, 403, 422}},

		{Method: "GET", Path: "/api/v1/profile/mfa/status", Handle: s.handleMFAStatus, Tag: "mfa", Summary: "MFA state", Auth: "user", Resp: mfaStatusBody{}, Errors: authErrs},
		{Method: "POST", Path: "/api/v1/profile/mfa/setup", Handle: s.handleMFASetup, Tag: "mfa", Summary: "Start TOTP enrolment (secret, QR code); needs a recent sign-in or step-up", Auth: "user", Resp: mfaSetupBody{}, Errors: []int{400, 401, 403}},
		{Method: "POST", Path: "/api/v1/profile/mfa/enable", Handle: s.handleMFAEnable, Tag: "mfa", Summary: "Finish enrolment with a code; returns the backup codes once", Auth: "user", Request: mfaCodeBody{}, Resp: mfaCodesBody{}, Errors: []int{400, 401, 403, 422}},
		{Method: "POST", Path: "/api/v1/profile/mfa/disable", Handle: s.handleMFADisable, Tag: "mfa", Summary: "Remove MFA with a code; signs out other sessions", Auth: "user", Request: mfaCodeBody{}, Resp: mfaDisableBody{}, Errors: []int{400, 401, 403, 422, 429}},
		{Method: "POST", Path: "/api/v1/profile/mfa/verify", Handle: s.handleMFAStepUp, Tag: "mfa", Summary: "Step up with a TOTP or backup code", Auth: "user", Request: mfaCodeBody{}, Resp: validUntilBody{}, Errors: []int{400, 401, 403, 422, 429}},
		{Method: "GET", Path: "/api/v1/profile/mfa/backup-codes/status", Handle: s.handleBackupCodesStatus, Tag: "mfa", Summary: "Backup codes left", Auth: "user", Resp: backupStatusBody{}, Errors: authErrs},
		{Method: "POST", Path: "/api/v1/profile/mfa/backup-codes", Handle: s.handleBackupCodesRegenerate, Tag: "mfa", Summary: "Regenerate backup codes (needs a recent step-up; 5 per hour, one at a time)", Auth: "user", Status: 201, Resp: backupCodesBody{}, Errors: []int{400, 401, 403, 429}},

		{Method: "GET", Path: "/api/v1/profile/passkeys", Handle: s.handlePasskeys, Tag: "passkeys", Summary: "The caller's passkeys (never the key or credential id)", Auth: "user", Resp: []passkey.Info{}, Errors: authErrs},
		{Method: "POST", Path: "/api/v1/profile/passkeys/register/begin", Handle: s.handlePasskeyRegisterBegin, Tag: "passkeys", Summary: "Options to create a passkey (discoverable, user verification preferred, existing ones excluded); needs a recent step-up", Auth: "user", Resp: protocol.CredentialCreation{}, Errors: []int{400, 401, 403}},
		{Method: "POST", Path: "/api/v1/profile/passkeys/register/finish", Handle: s.handlePasskeyRegisterFinish, Tag: "passkeys", Summary: "Store the passkey the browser created (credential as toJSON() gives it)", Auth: "user", Request: passkeyRegisterRequest{}, Status: 201, Resp: passkey.Info{}, Errors: []int{400, 401, 403, 409, 422}},
		{Method: "POST", Path: "/api/v1/profile/passkeys/reauth/begin", Handle: s.handlePasskeyReauthBegin, Tag: "passkeys", Summary: "Options to step up with one of the caller's passkeys", Auth: "user", Resp: protocol.CredentialAssertion{}, Errors: []int{400, 401, 403}},
		{Method: "POST", Path: "/api/v1/profile/passkeys/reauth/finish", Handle: s.handlePasskeyReauthFinish, Tag: "passkeys", Summary: "Step up with a passkey assertion", Auth: "user", Request: passkeyCredentialRequest{}, Resp: validUntilBody{}, Errors: []int{400, 401, 403, 422, 429}},
		{Method: "PUT", Path: "/api/v1/profile/passkeys/{id}", Handle: s.handlePasskeyRename, Tag: "passkeys", Summary: "Rename a passkey", Auth: "user", Request: passkeyNameBody{}, Resp: messageBody{}, Errors: []int{401, 403, 404, 422}},
		{Method: "DELETE", Path: "/api/v1/profile/passkeys/{id}", Handle: s.handlePasskeyDelete, Tag: "passkeys", Summary: "Remove a passkey (needs a recent step-up; refused for the account's last way to sign in)", Auth: "user", Status: 204, Errors: []int{400, 401, 403, 404}},
		{Method: "POST", Path: "/api/v1/passkeys/login/begin", Handle: s.handlePasskeyLoginBegin, Tag: "passkeys", Summary: "Options for a passwordless sign-in (discoverable credentials)", Resp: protocol.CredentialAssertion{}, Errors: []int{400, 429}},
		{Method: "POST", Path: "/api/v1/passkeys/login/finish", Handle: s.handlePasskeyLoginFinish, Tag: "passkeys", Summary: "Sign in with a passkey; answers as /token (a user-verified passkey needs no MFA step)", Request: passkeyCredentialRequest{}, Resp: anyOf{sessionIDBody{}, tokenBody{}, mfaChallengeBody{}}, Also: map[int]any{http.StatusAccepted: mfaChallengeBody{}}, Errors: []int{401, 422, 429}},
		{Method: "POST", Path: "/api/v1/mfa/passkey/begin", Handle: s.handleMFAPasskeyBegin, Tag: "passkeys", Summary: "Options for the passkey as the MFA step of a sign-in (ticket as for /mfa/verify)", Request: passkeyMFABeginRequest{}, Resp: protocol.CredentialAssertion{}, Errors: []int{400, 422, 429}},
		{Method: "POST", Path: "/api/v1/mfa/passkey/finish", Handle: s.handleMFAPasskeyFinish, Tag: "passkeys", Summary: "Finish a sign-in with a passkey assertion; answers as /mfa/verify", Request: passkeyMFAFinishRequest{}, Resp: anyOf{sessionIDBody{}, tokenBody{}}, Errors: []int{400, 401, 422, 429}},

		{Method: "GET", Path: "/api/v1/public/idp", Handle: s.handlePublicIdPs, Tag: "identity providers", Summary: "Enabled providers for the sign-in page (none while SSO is off)", Resp: []idp.PublicProvider{}},
		{Method: "GET", Path: "/api/v1/public/idp/login/{slug}", Handle: s.handleSSOLogin, Tag: "identity providers", Summary: "Start SSO: 307 to the provider; on failure 307 to /login?error=sso_failed, or for API clients (X-Client-Type or Accept: application/json) JSON errors: 403 while SSO is off, 502 when the provider is unreachable", Status: 307, Resp: redirect{}, Errors: []int{403, 404, 502}},
		{Method: "GET", Path: "/api/v1/public/idp/callback/{slug}", Handle: s.handleSSOCallback, Tag: "identity providers", Summary: "Provider callback: 307 to /login (?sso=success or ?error=<code>), /trailpass/mfa when the account has MFA, or /settings after a link; API clients get failures as JSON (502 when the provider is unreachable)", Status: 307, Resp: redirect{}, Errors: []int{400, 401, 403, 404, 409, 502}},
		{Method: "GET", Path: "/api/v1/profile/idp", Handle: s.handleMyIdPs, Tag: "identity providers", Summary: "The caller's linked identities", Auth: "user", Resp: []idp.Link{}, Errors: authErrs},
		{Method: "GET", Path: "/api/v1/profile/idp/{idp_id}/link", Handle: s.handleLinkIdP, Tag: "identity providers", Summary: "Start linking (browser navigation, needs a recent step-up): 307; a failure 307s to /settings?idp_link=error, or is JSON for API clients", Auth: "browser", Status: 307, Resp: redirect{}, Errors: []int{401, 404, 409, 502}},
		{Method: "DELETE", Path: "/api/v1/profile/idp/{idp_id}", Handle: s.handleUnlinkIdP, Tag: "identity providers", Summary: "Unlink, unless it is the last way to sign in", Auth: "user", Status: 204, Errors: []int{400, 401, 403, 404}},
		{Method: "GET", Path: "/api/v1/idp", Handle: s.handleIdPList, Tag: "identity providers", Summary: "Providers (configuration for admins, never secrets)", Auth: "user", Resp: anyOf{[]idp.Provider{}, []publicProviderView{}}, Errors: authErrs},
		{Method: "GET", Path: "/api/v1/idp/templates", Handle: s.handleIdPTemplates, Tag: "identity providers", Summary: "Provider presets", Auth: "user", Resp: []idp.Template{}, Errors: authErrs},
		{Method: "POST", Path: "/api/v1/idp", Handle: s.handleIdPCreate, Tag: "identity providers", Summary: "Add a provider; its discovery document is checked (422 for another issuer, a warning when unreachable)", Auth: "admin", Request: idp.ProviderInput{}, Status: 201, Resp: idp.Saved{}, Errors: []int{401, 403, 409, 422}},
		{Method: "PUT", Path: "/api/v1/idp/{idp_id}", Handle: s.handleIdPUpdate, Tag: "identity providers", Summary: "Edit a provider: only the fields sent change; the client secret only when a new one is sent", Auth: "admin", Request: idp.ProviderInput{}, Resp: idp.Saved{}, Errors: []int{401, 403, 404, 409, 422}},
		{Method: "DELETE", Path: "/api/v1/idp/{idp_id}", Handle: s.handleIdPDelete, Tag: "identity providers", Summary: "Delete a provider no user is linked to", Auth: "admin", Status: 204, Errors: []int{401, 403, 404, 409}},
		{Method: "GET", Path: "/api/v1/notifications/number", Handle: s.handleNotificationsCount, Tag: "notifications", Summary: "Number of the caller's notifications", Auth: "user", Resp: 0, Errors: authErrs},
		{Method: "GET", Path: "/api/v1/notifications/page_number/{page_number}/num_records/{num_records}", Handle: s.handleNotificationsPage, Tag: "notifications", Summary: "A page of the caller's notifications, newest first", Auth: "user", Resp: []notificationJSON{}, Errors: writeErrs},
		{Method: "PUT", Path: "/api/v1/notifications/{notification_id}/mark_as_read", Handle: s.handleNotificationRead, Tag: "notifications", Summary: "Mark one of the caller's notifications read", Auth: "user", Resp: detailBody{}, Errors: []int{401, 403, 404}},
		{Method: "GET", Path: "/api/v1/users/number", Handle: s.handleUsersCount, Tag: "users", Summary: "Number of accounts", Auth: "admin", Resp: 0, Errors: authErrs},
		{Method: "GET", Path: "/api/v1/users/page_number/{page_number}/num_records/{num_records}", Handle: s.handleUsersPage, Tag: "users", Summary: "A page of accounts", Auth: "admin", Resp: []profile.UserRead{}, Errors: writeErrs},
		{Method: "GET", Path: "/api/v1/users/id/{user_id}", Handle: s.handleUserByID, Tag: "users", Summary: "One account", Auth: "admin", Resp: profile.UserRead{}, Errors: []int{401, 403, 404}},
		{Method: "POST", Path: "/api/v1/users", Handle: s.handleUserCreate, Tag: "users", Summary: "Create an account with every profile field (UserCreate), under the profile's rules", Auth: "admin", Request: userCreateDoc{}, Status: 201, Resp: profile.UserRead{}, Errors: []int{400, 401, 403, 409, 422}},
		{Method: "PUT", Path: "/api/v1/users/{user_id}", Handle: s.handleUserUpdate, Tag: "users", Summary: "Edit an account (every profile field, role, active); the last active admin stays", Auth: "admin", Request: profile.UserRead{}, Resp: profile.UserRead{}, Errors: []int{401, 403, 404, 409, 422}},
		{Method: "PUT", Path: "/api/v1/users/{user_id}/password", Handle: s.handleUserPassword, Tag: "users", Summary: "Set an account's password; ends its sessions", Auth: "admin", Request: passwordBody{}, Resp: detailRevokedBody{}, Errors: []int{400, 401, 403, 404, 422}},
		{Method: "POST", Path: "/api/v1/users/{user_id}/mfa/reset", Handle: s.handleUserResetMFA, Tag: "users", Summary: "Remove an account's MFA", Auth: "admin", Resp: detailRevokedBody{}, Errors: []int{400, 401, 403}},
		{Method: "GET", Path: "/api/v1/users/search", Handle: s.handleUserFind, Tag: "users", Summary: "Accounts whose name, username or email contains ?q= (all without it), a page at a time, with the total", Auth: "admin", Resp: userSearchPage{}, Errors: []int{401, 403, 422},
			Query: [][2]string{{"q", "text to find in the name, username or email"}, {"page", "page number from 1 (default 1)"}, {"per_page", "accounts per page, 1 to 100 (default 20)"}}},
		{Method: "GET", Path: "/api/v1/users/username/contains/{username}", Handle: s.handleUserSearch, Tag: "users", Summary: "Accounts whose username contains the text (at most 100)", Auth: "admin", Resp: []profile.UserRead{}, Errors: []int{401, 403, 422}},
		{Method: "PUT", Path: "/api/v1/users/{user_id}/approve", Handle: s.handleUserApprove, Tag: "users", Summary: "Approve an account waiting for approval (its email must be verified)", Auth: "admin", Resp: messageBody{}, Errors: []int{400, 401, 403, 404}},
		{Method: "DELETE", Path: "/api/v1/users/{user_id}", Handle: s.handleUserDelete, Tag: "users", Summary: "Delete an account with all its rows and files; never one's own nor the last active admin", Auth: "admin", Resp: detailBody{}, Errors: []int{401, 403, 404}},
		{Method: "DELETE", Path: "/api/v1/users/{user_id}/photo", Handle: s.handleUserPhotoDelete, Tag: "users", Summary: "Delete an account's photo", Auth: "admin", Resp: detailBody{}, Errors: []int{401, 403, 404}},
		{Method: "POST", Path: "/api/v1/users/{user_id}/image", Handle: s.handleUserPhotoUpload, Tag: "users", Summary: "Upload an account's photo (JPEG or PNG, at most 20 MiB and 40 megapixels)", Auth: "admin", Request: multipartBody{}, Status: 201, Resp: "", Errors: []int{400, 401, 403, 404}},
		{Method: "GET", Path: "/api/v1/server_settings", Handle: s.handleServerSettings, Tag: "server settings", Summary: "Server settings (ServerSettingsRead)", Auth: "admin", Resp: account.ServerSettings{}, Errors: authErrs},
		{Method: "PUT", Path: "/api/v1/server_settings", Handle: s.handleServerSettingsUpdate, Tag: "server settings", Summary: "Edit server settings (ServerSettingsEdit; absent fields keep their value); effective at once on every instance", Auth: "admin", Request: account.ServerSettings{}, Resp: account.ServerSettings{}, Errors: []int{401, 403, 422}},
		{Method: "POST", Path: "/api/v1/server_settings/upload/login", Handle: s.handleLoginPhotoUpload, Tag: "server settings", Summary: "Upload the sign-in page's photo (JPEG or PNG, at most 20 MiB and 40 megapixels); sets login_photo_set", Auth: "admin", Request: multipartBody{}, Status: 201, Resp: jsonNull{}, Errors: []int{400, 401, 403}},
		{Method: "DELETE", Path: "/api/v1/server_settings/upload/login", Handle: s.handleLoginPhotoDelete, Tag: "server settings", Summary: "Remove the sign-in page's photo; clears login_photo_set", Auth: "admin", Resp: jsonNull{}, Errors: authErrs},
		{Method: "GET", Path: "/server_images/{file}", Handle: s.handleServerImage, Tag: "server settings", Summary: "The sign-in page's photo (login.png), public", Binary: "image/*", Errors: []int{404}},
		{Method: "DELETE", Path: "/api/v1/users/{user_id}/identity-providers/{idp_id}", Handle: s.handleUserIdPUnlink, Tag: "identity providers", Summary: "Unlink a user's identity", Auth: "admin", Status: 204, Errors: []int{400, 401, 403, 404}},
	}
}

// security maps apiOp.Auth to the operation's security requirements; an empty
// list marks a public operation, an empty object an optional credential.
var security = map[string][]any{
	"":        {},
	"user":    {req("cookie"), req("bearer")},
	"admin":   {req("cookie"), req("bearer")},
	"browser": {req("cookie"), req("bearer")},
	"refresh": {req("refresh_cookie"), req("bearer")},
	"any":     {req("cookie"), req("refresh_cookie"), req("bearer"), map[string]any{}},
	"ticket":  {req("mfa_ticket"), map[string]any{}},
}

func req(scheme string) map[string]any { return map[string]any{scheme: []string{}} }

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// intParams are the path parameters that hold integers.
var intParams = map[string]bool{"user_id": true, "goal_id": true, "idp_id": true, "notification_id": true,
	"page_number": true, "num_records": true, "visibility": true}

// openAPIDocument builds the OpenAPI 3.1 document from apiOps.
func openAPIDocument(ops []apiOp, server string) map[string]any {
	schemas := &schemaSet{defs: map[string]any{}, types: map[string]reflect.Type{}}
	errRef := schemas.of(ErrorBody{})
	paths := map[string]any{}
	for _, op := range ops {
		item, _ := paths[op.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.Path] = item
		}
		o := map[string]any{"tags": []string{op.Tag}, "summary": op.Summary,
			"operationId": strings.ToLower(op.Method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "_").Replace(op.Path)}
		var params []any
		errs := op.Errors
		for _, m := range pathParamRE.FindAllStringSubmatch(op.Path, -1) {
			typ := "string"
			if intParams[m[1]] {
				// Not a positive integer: 422, as FastAPI answers.
				typ = "integer"
				if !slices.Contains(errs, http.StatusUnprocessableEntity) {
					errs = append(slices.Clone(errs), http.StatusUnprocessableEntity)
				}
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": typ}})
		}
		for _, qp := range op.Query {
			typ := "integer"
			if qp[0] == "q" {
				typ = "string"
			}
			params = append(params, map[string]any{"name": qp[0], "in": "query", "required": false, "description": qp[1],
				"schema": map[string]any{"type": typ}})
		}
		if op.Auth == "user" || op.Auth == "admin" || strings.HasPrefix(op.Path, "/api/v1/token") || op.Path == "/api/v1/refresh" || op.Path == "/api/v1/logout" || op.Path == "/api/v1/mfa/verify" ||
			op.Path == "/api/v1/passkeys/login/finish" || strings.HasPrefix(op.Path, "/api/v1/mfa/passkey/") {
			params = append(params, map[string]any{"name": "X-Client-Type", "in": "header", "required": true,
				"schema": map[string]any{"type": "string", "enum": []string{"web", "mobile"}}})
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		o["security"] = security[op.Auth]
		switch op.Request.(type) {
		case nil:
		case formBody:
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/x-www-form-urlencoded": map[string]any{
				"schema": map[string]any{"type": "object", "required": []string{"username", "password"}, "properties": map[string]any{
					"username": map[string]any{"type": "string"}, "password": map[string]any{"type": "string"}, "grant_type": map[string]any{"type": "string", "const": "password"}}}}}}
		case multipartBody:
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"multipart/form-data": map[string]any{
				"schema": map[string]any{"type": "object", "required": []string{"file"}, "properties": map[string]any{"file": map[string]any{"type": "string", "format": "binary"}}}}}}
		default:
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schemas.of(op.Request)}}}
		}
		status := op.Status
		if status == 0 {
			status = http.StatusOK
		}
		resp := map[string]any{"description": http.StatusText(status)}
		switch {
		case op.Binary != "":
			resp["content"] = map[string]any{op.Binary: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
		case reflect.TypeOf(op.Resp) == reflect.TypeFor[redirect]():
			resp["headers"] = map[string]any{"Location": map[string]any{"schema": map[string]any{"type": "string"}}}
		case op.Resp != nil:
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": schemas.of(op.Resp)}}
		}
		responses := map[string]any{strconv.Itoa(status): resp}
		for code, body := range op.Also {
			responses[strconv.Itoa(code)] = map[string]any{"description": http.StatusText(code),
				"content": map[string]any{"application/json": map[string]any{"schema": schemas.of(body)}}}
		}
		for _, code := range errs {
			responses[strconv.Itoa(code)] = map[string]any{"description": http.StatusText(code),
				"content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
		}
		responses["default"] = map[string]any{"description": "Any other error: 500, or 503 while the database is unreachable",
			"content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
		o["responses"] = responses
		item[strings.ToLower(op.Method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "trailpass", "version": "1",
			"description": "Account and profile service with Endurain's API. Web clients (X-Client-Type: web) authenticate with the endurain_access_token cookie and send X-CSRF-Token on unsafe methods; mobile clients use a bearer token."},
		"servers": []any{map[string]any{"url": server}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas.defs,
			"securitySchemes": map[string]any{
				"cookie":         map[string]any{"type": "apiKey", "in": "cookie", "name": cookieAccess, "description": "Web clients' access token"},
				"bearer":         map[string]any{"type": "http", "scheme": "bearer", "description": "Mobile clients' access token (the refresh token on /api/v1/refresh)"},
				"refresh_cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": cookieRefresh, "description": "Web clients' refresh token"},
				"mfa_ticket":     map[string]any{"type": "apiKey", "in": "cookie", "name": cookieMFATicket, "description": "Web clients' MFA sign-in ticket (mobile clients send mfa_ticket in the body)"},
			},
		},
	}
}

// docPatterns returns the ServeMux patterns the document covers.
func docPatterns(ops []apiOp) []string {
	seen := map[string]bool{}
	var out []string
	for _, op := range ops {
		p := op.pattern()
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// handleOpenAPI serves the document: GET /api/openapi.json.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	s.openapiOnce.Do(func() {
		server := ""
		if s.Config.PublicURL != nil {
			server = s.Config.PublicURL.String()
		}
		s.openapi, _ = json.Marshal(openAPIDocument(s.apiOps(), server))
	})
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.openapi)
}
