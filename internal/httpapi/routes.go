package httpapi

import "net/http"

// handle registers a route and remembers its pattern, so the OpenAPI test can
// hold the document to what the server really serves.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, h)
}

// routes registers every route. Keep this the one list of what the server serves.
func (s *Server) routes() {
	s.handle("GET /healthz", s.handleHealthz)
	s.handle("GET /readyz", s.handleReadyz)
	s.handle("GET /api/openapi.json", s.handleOpenAPI)

	// Sign-in and sessions.
	s.handle("POST /api/v1/token", s.handleToken)
	s.handle("POST /api/v1/mfa/verify", s.handleMFAVerify)
	s.handle("POST /api/v1/refresh", s.handleRefresh)
	s.handle("POST /api/v1/logout", s.handleLogout)
	s.handle("POST /api/v1/profile/reauth", s.authed(s.handleReauth))
	s.handle("GET /api/v1/profile/sessions", s.authed(s.handleMySessions))
	s.handle("DELETE /api/v1/profile/sessions", s.authed(s.handleRevokeOtherSessions))
	s.handle("DELETE /api/v1/profile/sessions/{session_id}", s.authed(s.handleRevokeMySession))
	s.handle("GET /api/v1/profile/security-events", s.authed(s.handleSecurityEvents))
	s.handle("GET /api/v1/sessions/user/{user_id}", s.admin(s.handleUserSessions))
	s.handle("DELETE /api/v1/sessions/{session_id}/user/{user_id}", s.admin(s.handleDeleteUserSession))

	// Profile.
	s.handle("GET /api/v1/profile", s.authedProfile(s.handleProfile))
	s.handle("PUT /api/v1/profile", s.authed(s.handleProfileUpdate))
	s.handle("PUT /api/v1/profile/privacy", s.authed(s.handlePrivacyUpdate))
	s.handle("PUT /api/v1/profile/password", s.authed(s.handlePasswordChange))
	s.handle("POST /api/v1/profile/image", s.authed(s.handlePhotoUpload))
	s.handle("PUT /api/v1/profile/photo", s.authed(s.handlePhotoDelete))
	s.handle("GET /user_images/{file}", s.browser(s.handleUserImage))
	s.handle("GET /api/v1/profile/default_gear", s.authed(s.handleDefaultGear))
	s.handle("PUT /api/v1/profile/default_gear", s.authed(s.handleDefaultGearUpdate))
	s.handle("GET /api/v1/profile/goals", s.authed(s.handleGoals))
	s.handle("GET /api/v1/profile/goals/results", s.authed(s.handleGoalResults))
	s.handle("POST /api/v1/profile/goals", s.authed(s.handleGoalCreate))
	s.handle("PUT /api/v1/profile/goals/{goal_id}", s.authed(s.handleGoalUpdate))
	s.handle("DELETE /api/v1/profile/goals/{goal_id}", s.authed(s.handleGoalDelete))
	s.handle("GET /api/v1/gears", s.authed(s.handleGears))
	s.handle("PUT /api/v1/activities/visibility/{visibility}", s.authed(s.handleActivitiesVisibility))
	// Endurain has both /users/username/{username} and /users/{user_id}/identity-providers,
	// which ServeMux cannot tell apart by pattern alone; one handler dispatches.
	s.handle("GET /api/v1/users/{a}/{b}", s.authed(s.handleUsersPair))
	s.handle("GET /api/v1/public/server_settings", s.handlePublicServerSettings)
	s.handle("GET /api/v1/profile/export", s.authed(s.handleExport))
	s.handle("GET /api/v1/profile/summary", s.authed(s.handleSummary))

	// Password reset by email (issue 14).
	s.handle("POST /api/v1/password-reset/request", s.handleResetRequest)
	s.handle("POST /api/v1/password-reset/confirm", s.handleResetConfirm)
	s.handle("POST /api/v1/sign-up/request", s.handleSignUp)
	s.handle("POST /api/v1/sign-up/confirm", s.handleSignUpConfirm)
	s.handle("GET /api/v1/profile/notices", s.authed(s.handleNoticeSettings))
	s.handle("PUT /api/v1/profile/notices", s.authed(s.handleNoticeSettingsUpdate))

	// Import (issue 8).
	s.handle("POST /api/v1/profile/import", s.authed(s.handleImport))
	s.handle("GET /api/v1/profile/import/jobs/{id}", s.authed(s.handleImportJob))
	s.handle("GET /api/v1/profile/import/jobs/{id}/events", s.authed(s.handleImportEvents))

	// MFA.
	s.handle("GET /api/v1/profile/mfa/status", s.authed(s.handleMFAStatus))
	s.handle("POST /api/v1/profile/mfa/setup", s.authed(s.handleMFASetup))
	s.handle("POST /api/v1/profile/mfa/enable", s.authed(s.handleMFAEnable))
	s.handle("POST /api/v1/profile/mfa/disable", s.authed(s.handleMFADisable))
	s.handle("POST /api/v1/profile/mfa/verify", s.authed(s.handleMFAStepUp))
	s.handle("GET /api/v1/profile/mfa/backup-codes/status", s.authed(s.handleBackupCodesStatus))
	s.handle("POST /api/v1/profile/mfa/backup-codes", s.authed(s.handleBackupCodesRegenerate))

	// Passkeys.
	s.handle("GET /api/v1/profile/passkeys", s.authed(s.handlePasskeys))
	s.handle("POST /api/v1/profile/passkeys/register/begin", s.authed(s.handlePasskeyRegisterBegin))
	s.handle("POST /api/v1/profile/passkeys/register/finish", s.authed(s.handlePasskeyRegisterFinish))
	s.handle("POST /api/v1/profile/passkeys/reauth/begin", s.authed(s.handlePasskeyReauthBegin))
	s.handle("POST /api/v1/profile/passkeys/reauth/finish", s.authed(s.handlePasskeyReauthFinish))
	s.handle("PUT /api/v1/profile/passkeys/{id}", s.authed(s.handlePasskeyRename))
	s.handle("DELETE /api/v1/profile/passkeys/{id}", s.authed(s.handlePasskeyDelete))
	s.handle("POST /api/v1/passkeys/login/begin", s.handlePasskeyLoginBegin)
	s.handle("POST /api/v1/passkeys/login/finish", s.handlePasskeyLoginFinish)
	s.handle("POST /api/v1/mfa/passkey/begin", s.handleMFAPasskeyBegin)
	s.handle("POST /api/v1/mfa/passkey/finish", s.handleMFAPasskeyFinish)

	// Identity providers.
	s.handle("GET /api/v1/public/idp", s.handlePublicIdPs)
	s.handle("GET /api/v1/public/idp/login/{slug}", s.handleSSOLogin)
	s.handle("GET /api/v1/public/idp/callback/{slug}", s.handleSSOCallback)
	s.handle("GET /api/v1/profile/idp", s.authed(s.handleMyIdPs))
	s.handle("GET /api/v1/profile/idp/{idp_id}/link", s.browser(s.handleLinkIdP))
	s.handle("DELETE /api/v1/profile/idp/{idp_id}", s.authed(s.handleUnlinkIdP))
	s.handle("GET /api/v1/idp", s.authed(s.handleIdPList))
	s.handle("GET /api/v1/idp/templates", s.authed(s.handleIdPTemplates))
	s.handle("POST /api/v1/idp", s.admin(s.handleIdPCreate))
	s.handle("PUT /api/v1/idp/{idp_id}", s.admin(s.handleIdPUpdate))
	s.handle("DELETE /api/v1/idp/{idp_id}", s.admin(s.handleIdPDelete))
	s.handle("DELETE /api/v1/users/{user_id}/identity-providers/{idp_id}", s.admin(s.handleUserIdPUnlink))

	// Notifications (the web app's bell, asked on every page).
	s.handle("GET /api/v1/notifications/number", s.authed(s.handleNotificationsCount))
	s.handle("GET /api/v1/notifications/page_number/{page_number}/num_records/{num_records}", s.authed(s.handleNotificationsPage))
	s.handle("PUT /api/v1/notifications/{notification_id}/mark_as_read", s.authed(s.handleNotificationRead))

	// User administration (Endurain's /users paths).
	s.handle("GET /api/v1/users/number", s.admin(s.handleUsersCount))
	s.handle("GET /api/v1/users/page_number/{page_number}/num_records/{num_records}", s.admin(s.handleUsersPage))
	s.handle("GET /api/v1/users/id/{user_id}", s.admin(s.handleUserByID))
	s.handle("POST /api/v1/users", s.admin(s.handleUserCreate))
	s.handle("PUT /api/v1/users/{user_id}", s.admin(s.handleUserUpdate))
	s.handle("PUT /api/v1/users/{user_id}/password", s.admin(s.handleUserPassword))
	s.handle("POST /api/v1/users/{user_id}/mfa/reset", s.admin(s.handleUserResetMFA))
	s.handle("GET /api/v1/users/search", s.admin(s.handleUserFind))
	s.handle("GET /api/v1/users/username/contains/{username}", s.admin(s.handleUserSearch))
	s.handle("PUT /api/v1/users/{user_id}/approve", s.admin(s.handleUserApprove))
	s.handle("DELETE /api/v1/users/{user_id}", s.admin(s.handleUserDelete))
	s.handle("DELETE /api/v1/users/{user_id}/photo", s.admin(s.handleUserPhotoDelete))
	s.handle("POST /api/v1/users/{user_id}/image", s.admin(s.handleUserPhotoUpload))

	// Server settings (one database row, read per request).
	s.handle("GET /api/v1/server_settings", s.admin(s.handleServerSettings))
	s.handle("PUT /api/v1/server_settings", s.admin(s.handleServerSettingsUpdate))
	s.handle("POST /api/v1/server_settings/upload/login", s.admin(s.handleLoginPhotoUpload))
	s.handle("DELETE /api/v1/server_settings/upload/login", s.admin(s.handleLoginPhotoDelete))
	s.handle("GET /server_images/{file}", s.handleServerImage)

	// Anything else under /api answers JSON, never an HTML page, so clients can
	// always read the detail.
	s.handle("/api/", notFound)
	if s.Fallback != nil {
		s.mux.Handle("/", s.Fallback)
	}
}

// notFound answers a JSON 404, as Endurain does for paths it does not serve.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, ErrorBody{Detail: "Not Found", RequestID: requestIDFrom(r.Context())})
}
