package httpapi

import "net/http"

// routes registers every route. Keep this the one list of what the server serves.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)

	// Sign-in and sessions.
	s.mux.HandleFunc("POST /api/v1/token", s.handleToken)
	s.mux.HandleFunc("POST /api/v1/mfa/verify", s.handleMFAVerify)
	s.mux.HandleFunc("POST /api/v1/refresh", s.handleRefresh)
	s.mux.HandleFunc("POST /api/v1/logout", s.handleLogout)
	s.mux.HandleFunc("POST /api/v1/profile/reauth", s.authed(s.handleReauth))
	s.mux.HandleFunc("GET /api/v1/profile/sessions", s.authed(s.handleMySessions))
	s.mux.HandleFunc("DELETE /api/v1/profile/sessions", s.authed(s.handleRevokeOtherSessions))
	s.mux.HandleFunc("DELETE /api/v1/profile/sessions/{session_id}", s.authed(s.handleRevokeMySession))
	s.mux.HandleFunc("GET /api/v1/sessions/user/{user_id}", s.admin(s.handleUserSessions))
	s.mux.HandleFunc("DELETE /api/v1/sessions/{session_id}/user/{user_id}", s.admin(s.handleDeleteUserSession))

	// Profile.
	s.mux.HandleFunc("GET /api/v1/profile", s.authed(s.handleProfile))
	s.mux.HandleFunc("PUT /api/v1/profile", s.authed(s.handleProfileUpdate))
	s.mux.HandleFunc("PUT /api/v1/profile/privacy", s.authed(s.handlePrivacyUpdate))
	s.mux.HandleFunc("PUT /api/v1/profile/password", s.authed(s.handlePasswordChange))
	s.mux.HandleFunc("POST /api/v1/profile/image", s.authed(s.handlePhotoUpload))
	s.mux.HandleFunc("PUT /api/v1/profile/photo", s.authed(s.handlePhotoDelete))
	s.mux.HandleFunc("GET /user_images/{file}", s.browser(s.handleUserImage))
	s.mux.HandleFunc("GET /api/v1/profile/default_gear", s.authed(s.handleDefaultGear))
	s.mux.HandleFunc("PUT /api/v1/profile/default_gear", s.authed(s.handleDefaultGearUpdate))
	s.mux.HandleFunc("GET /api/v1/profile/goals", s.authed(s.handleGoals))
	s.mux.HandleFunc("GET /api/v1/profile/goals/results", s.authed(s.handleGoalResults))
	s.mux.HandleFunc("POST /api/v1/profile/goals", s.authed(s.handleGoalCreate))
	s.mux.HandleFunc("PUT /api/v1/profile/goals/{goal_id}", s.authed(s.handleGoalUpdate))
	s.mux.HandleFunc("DELETE /api/v1/profile/goals/{goal_id}", s.authed(s.handleGoalDelete))
	s.mux.HandleFunc("GET /api/v1/gears", s.authed(s.handleGears))
	s.mux.HandleFunc("PUT /api/v1/activities/visibility/{visibility}", s.authed(s.handleActivitiesVisibility))
	// Endurain has both /users/username/{username} and /users/{user_id}/identity-providers,
	// which ServeMux cannot tell apart by pattern alone; one handler dispatches.
	s.mux.HandleFunc("GET /api/v1/users/{a}/{b}", s.authed(s.handleUsersPair))
	s.mux.HandleFunc("GET /api/v1/public/server_settings", s.handlePublicServerSettings)

	// MFA.
	s.mux.HandleFunc("GET /api/v1/profile/mfa/status", s.authed(s.handleMFAStatus))
	s.mux.HandleFunc("POST /api/v1/profile/mfa/setup", s.authed(s.handleMFASetup))
	s.mux.HandleFunc("POST /api/v1/profile/mfa/enable", s.authed(s.handleMFAEnable))
	s.mux.HandleFunc("POST /api/v1/profile/mfa/disable", s.authed(s.handleMFADisable))
	s.mux.HandleFunc("POST /api/v1/profile/mfa/verify", s.authed(s.handleMFAStepUp))
	s.mux.HandleFunc("GET /api/v1/profile/mfa/backup-codes/status", s.authed(s.handleBackupCodesStatus))
	s.mux.HandleFunc("POST /api/v1/profile/mfa/backup-codes", s.authed(s.handleBackupCodesRegenerate))

	// Identity providers.
	s.mux.HandleFunc("GET /api/v1/public/idp", s.handlePublicIdPs)
	s.mux.HandleFunc("GET /api/v1/public/idp/login/{slug}", s.handleSSOLogin)
	s.mux.HandleFunc("GET /api/v1/public/idp/callback/{slug}", s.handleSSOCallback)
	s.mux.HandleFunc("GET /api/v1/profile/idp", s.authed(s.handleMyIdPs))
	s.mux.HandleFunc("GET /api/v1/profile/idp/{idp_id}/link", s.browser(s.handleLinkIdP))
	s.mux.HandleFunc("DELETE /api/v1/profile/idp/{idp_id}", s.authed(s.handleUnlinkIdP))
	s.mux.HandleFunc("GET /api/v1/idp", s.authed(s.handleIdPList))
	s.mux.HandleFunc("GET /api/v1/idp/templates", s.authed(s.handleIdPTemplates))
	s.mux.HandleFunc("POST /api/v1/idp", s.admin(s.handleIdPCreate))
	s.mux.HandleFunc("PUT /api/v1/idp/{idp_id}", s.admin(s.handleIdPUpdate))
	s.mux.HandleFunc("DELETE /api/v1/idp/{idp_id}", s.admin(s.handleIdPDelete))
	s.mux.HandleFunc("DELETE /api/v1/users/{user_id}/identity-providers/{idp_id}", s.admin(s.handleUserIdPUnlink))

	// Anything else under /api answers JSON, never an HTML page, so clients can
	// always read the detail.
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
	})
}
