package account

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/trailpass/trailpass/internal/blob"
)

// ServerSettings are Endurain's server-wide settings (ServerSettingsRead). They
// live in one database row and are read per request where they matter, so a
// change made on one instance holds on every instance at once.
type ServerSettings struct {
	ID                             int  `json:"id"`
	Units                          int  `json:"units"`
	PublicShareableLinks           bool `json:"public_shareable_links"`
	PublicShareableLinksUserInfo   bool `json:"public_shareable_links_user_info"`
	LoginPhotoSet                  bool `json:"login_photo_set"`
	Currency                       int  `json:"currency"`
	NumRecordsPerPage              int  `json:"num_records_per_page"`
	SignupEnabled                  bool `json:"signup_enabled"`
	SignupRequireAdminApproval     bool `json:"signup_require_admin_approval"`
	SignupRequireEmailVerification bool `json:"signup_require_email_verification"`
	SSOEnabled                     bool `json:"sso_enabled"`
	LocalLoginEnabled              bool `json:"local_login_enabled"`
	SSOAutoRedirect                bool `json:"sso_auto_redirect"`
}

// PublicServerSettings is Endurain's ServerSettingsReadPublic: everything but
// the sign-up requirements.
type PublicServerSettings struct {
	ID                           int  `json:"id"`
	Units                        int  `json:"units"`
	PublicShareableLinks         bool `json:"public_shareable_links"`
	PublicShareableLinksUserInfo bool `json:"public_shareable_links_user_info"`
	LoginPhotoSet                bool `json:"login_photo_set"`
	Currency                     int  `json:"currency"`
	NumRecordsPerPage            int  `json:"num_records_per_page"`
	SignupEnabled                bool `json:"signup_enabled"`
	SSOEnabled                   bool `json:"sso_enabled"`
	LocalLoginEnabled            bool `json:"local_login_enabled"`
	SSOAutoRedirect              bool `json:"sso_auto_redirect"`
	// EmailEnabled, beyond Endurain, tells whether an SMTP server is configured:
	// without one, password reset and email verification are unavailable.
	EmailEnabled bool `json:"email_enabled"`
}

// Public returns the settings an anonymous visitor may see.
func (s *ServerSettings) Public() PublicServerSettings {
	return PublicServerSettings{ID: s.ID, Units: s.Units, PublicShareableLinks: s.PublicShareableLinks,
		PublicShareableLinksUserInfo: s.PublicShareableLinksUserInfo, LoginPhotoSet: s.LoginPhotoSet,
		Currency: s.Currency, NumRecordsPerPage: s.NumRecordsPerPage, SignupEnabled: s.SignupEnabled,
		SSOEnabled: s.SSOEnabled, LocalLoginEnabled: s.LocalLoginEnabled, SSOAutoRedirect: s.SSOAutoRedirect}
}

// SettingsStore keeps the one row of server settings.
type SettingsStore interface {
	// ServerSettings reads the row.
	ServerSettings(ctx context.Context) (*ServerSettings, error)
	// UpdateServerSettings writes every field of s but login_photo_set to the row.
	UpdateServerSettings(ctx context.Context, s *ServerSettings) error
	// SetLoginPhotoSet sets login_photo_set alone.
	SetLoginPhotoSet(ctx context.Context, set bool) error
}

// LoginPhotoKey is the blob key of the sign-in page's photo, served at
// /server_images/login.png as Endurain serves it.
const LoginPhotoKey = "server_images/login.png"

// MsgLocalLoginDisabled refuses a password sign-in while local login is off.
const MsgLocalLoginDisabled = "Local login is disabled. Sign in with your identity provider."

// MsgSSODisabled refuses an SSO sign-in while SSO is off.
const MsgSSODisabled = "SSO login is disabled"

// SettingsService reads and changes the server settings. Authorisation (the
// caller is an admin or an operator) is the caller's job.
type SettingsService struct {
	Store SettingsStore
	// Images checks an uploaded login photo under the profile photo's rules.
	Images interface {
		CheckImage(ctx context.Context, r io.Reader) ([]byte, string, error)
	}
	Blobs blob.Store
	// Recent enforces the recent-authentication rule on every write; nil
	// refuses them.
	Recent RecentAuthChecker
}

// SetLoginPhoto stores the sign-in page's photo from r, checked and
// re-encoded like a profile photo, and sets login_photo_set. EINVALID for a
// rejected image, which leaves the current photo in place.
func (s *SettingsService) SetLoginPhoto(ctx context.Context, c *Caller, r io.Reader) error {
	if err := RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return err
	}
	data, _, err := s.Images.CheckImage(ctx, r)
	if err != nil {
		return err
	}
	if _, err := s.Blobs.Put(ctx, LoginPhotoKey, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("store login photo: %w", err)
	}
	return s.Store.SetLoginPhotoSet(ctx, true)
}

// DeleteLoginPhoto removes the sign-in page's photo and clears login_photo_set.
func (s *SettingsService) DeleteLoginPhoto(ctx context.Context, c *Caller) error {
	if err := RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return err
	}
	if err := s.Store.SetLoginPhotoSet(ctx, false); err != nil {
		return err
	}
	if err := s.Blobs.Delete(ctx, LoginPhotoKey); err != nil {
		return fmt.Errorf("delete login photo: %w", err)
	}
	return nil
}

// OpenLoginPhoto opens the sign-in page's photo; ENOTFOUND when there is none.
func (s *SettingsService) OpenLoginPhoto(ctx context.Context) (io.ReadCloser, error) {
	rc, err := s.Blobs.Open(ctx, LoginPhotoKey)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, Errorf(ENOTFOUND, "Server image not found")
	} else if err != nil {
		return nil, fmt.Errorf("open login photo: %w", err)
	}
	return rc, nil
}

// Get returns the current settings, straight from the database.
func (s *SettingsService) Get(ctx context.Context) (*ServerSettings, error) {
	st, err := s.Store.ServerSettings(ctx)
	if err != nil {
		return nil, fmt.Errorf("read server settings: %w", err)
	}
	return st, nil
}

// settingFields maps each editable field's JSON name to a setter. login_photo_set
// is left out: it follows the upload and removal of the login photo.
var settingFields = map[string]func(s *ServerSettings, raw json.RawMessage) bool{
	"units":                             intField(func(s *ServerSettings) *int { return &s.Units }),
	"currency":                          intField(func(s *ServerSettings) *int { return &s.Currency }),
	"num_records_per_page":              intField(func(s *ServerSettings) *int { return &s.NumRecordsPerPage }),
	"public_shareable_links":            boolField(func(s *ServerSettings) *bool { return &s.PublicShareableLinks }),
	"public_shareable_links_user_info":  boolField(func(s *ServerSettings) *bool { return &s.PublicShareableLinksUserInfo }),
	"signup_enabled":                    boolField(func(s *ServerSettings) *bool { return &s.SignupEnabled }),
	"signup_require_admin_approval":     boolField(func(s *ServerSettings) *bool { return &s.SignupRequireAdminApproval }),
	"signup_require_email_verification": boolField(func(s *ServerSettings) *bool { return &s.SignupRequireEmailVerification }),
	"sso_enabled":                       boolField(func(s *ServerSettings) *bool { return &s.SSOEnabled }),
	"local_login_enabled":               boolField(func(s *ServerSettings) *bool { return &s.LocalLoginEnabled }),
	"sso_auto_redirect":                 boolField(func(s *ServerSettings) *bool { return &s.SSOAutoRedirect }),
}

func intField(f func(*ServerSettings) *int) func(*ServerSettings, json.RawMessage) bool {
	return func(s *ServerSettings, raw json.RawMessage) bool {
		var v int
		if isNull(raw) || json.Unmarshal(raw, &v) != nil {
			return false
		}
		*f(s) = v
		return true
	}
}

func boolField(f func(*ServerSettings) *bool) func(*ServerSettings, json.RawMessage) bool {
	return func(s *ServerSettings, raw json.RawMessage) bool {
		var v bool
		if isNull(raw) || json.Unmarshal(raw, &v) != nil {
			return false
		}
		*f(s) = v
		return true
	}
}

// SettingNames lists the settings Update and Set accept.
func SettingNames() []string {
	out := make([]string, 0, len(settingFields))
	for k := range settingFields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Update applies the fields present in body (Endurain's ServerSettingsEdit, a
// JSON object; absent fields keep their value, id and login_photo_set are
// ignored: the latter follows the login photo's upload and removal) and returns the stored result. A value of the wrong type or out of
// range is EUNPROCESSABLE naming its field, and nothing is written.
func (s *SettingsService) Update(ctx context.Context, c *Caller, body []byte) (*ServerSettings, error) {
	if err := RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, ValidationError(FieldError{Field: "body", Message: "Body must be a JSON object"})
	}
	st, err := s.Get(ctx)
	if err != nil {
		return nil, err
	}
	var problems []FieldError
	for _, name := range SettingNames() {
		if v, ok := raw[name]; ok && !settingFields[name](st, v) {
			problems = append(problems, FieldError{Field: name, Message: "Input should be a valid " + settingType(name)})
		}
	}
	return s.save(ctx, st, problems)
}

// Set changes one setting from its text form ("true", "25"), for the operator
// CLI (c is account.Operator()). EUNPROCESSABLE for an unknown name or a bad value.
func (s *SettingsService) Set(ctx context.Context, c *Caller, name, value string) (*ServerSettings, error) {
	if err := RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return nil, err
	}
	set, ok := settingFields[name]
	if !ok {
		return nil, ValidationError(FieldError{Field: name, Message: "Unknown setting; known: " + strings.Join(SettingNames(), ", ")})
	}
	st, err := s.Get(ctx)
	if err != nil {
		return nil, err
	}
	raw := json.RawMessage(strings.ToLower(strings.TrimSpace(value)))
	if _, err := strconv.ParseBool(string(raw)); settingType(name) == "boolean" && err != nil {
		raw = nil
	}
	var problems []FieldError
	if raw == nil || !set(st, raw) {
		problems = append(problems, FieldError{Field: name, Message: "Input should be a valid " + settingType(name)})
	}
	return s.save(ctx, st, problems)
}

func settingType(name string) string {
	switch name {
	case "units", "currency", "num_records_per_page":
		return "integer"
	}
	return "boolean"
}

func (s *SettingsService) save(ctx context.Context, st *ServerSettings, problems []FieldError) (*ServerSettings, error) {
	if st.Units < 1 || st.Units > 2 {
		problems = append(problems, FieldError{Field: "units", Message: "Units must be 1 (metric) or 2 (imperial)"})
	}
	if st.Currency < 1 || st.Currency > 3 {
		problems = append(problems, FieldError{Field: "currency", Message: "Currency must be 1 (EUR), 2 (USD) or 3 (GBP)"})
	}
	if st.NumRecordsPerPage < 1 || st.NumRecordsPerPage > 500 {
		problems = append(problems, FieldError{Field: "num_records_per_page", Message: "Records per page must be between 1 and 500"})
	}
	if len(problems) > 0 {
		return nil, ValidationError(problems...)
	}
	st.ID = 1
	if err := s.Store.UpdateServerSettings(ctx, st); err != nil {
		return nil, fmt.Errorf("update server settings: %w", err)
	}
	return st, nil
}

func isNull(m json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(m), []byte("null")) }
