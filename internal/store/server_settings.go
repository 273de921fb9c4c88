package store

import (
	"context"
	"fmt"

	"github.com/trailpass/trailpass/internal/account"
)

var _ account.SettingsStore = (*Store)(nil)

// ServerSettings reads the single row of server settings.
func (s *Store) ServerSettings(ctx context.Context) (*account.ServerSettings, error) {
	var st account.ServerSettings
	err := s.db.QueryRowContext(ctx, `SELECT id, units, currency, num_records_per_page, public_shareable_links,
		public_shareable_links_user_info, login_photo_set, signup_enabled, signup_require_admin_approval,
		signup_require_email_verification, sso_enabled, local_login_enabled, sso_auto_redirect
		FROM server_settings WHERE id = 1`).Scan(&st.ID, &st.Units, &st.Currency, &st.NumRecordsPerPage,
		&st.PublicShareableLinks, &st.PublicShareableLinksUserInfo, &st.LoginPhotoSet, &st.SignupEnabled,
		&st.SignupRequireAdminApproval, &st.SignupRequireEmailVerification, &st.SSOEnabled, &st.LocalLoginEnabled,
		&st.SSOAutoRedirect)
	if err != nil {
		return nil, fmt.Errorf("read server settings: %w", mapErr(err))
	}
	return &st, nil
}

// UpdateServerSettings writes every field of st but login_photo_set (which
// follows the photo's upload) to the single row.
func (s *Store) UpdateServerSettings(ctx context.Context, st *account.ServerSettings) error {
	_, err := s.db.ExecContext(ctx, `UPDATE server_settings SET units = $1, currency = $2, num_records_per_page = $3,
		public_shareable_links = $4, public_shareable_links_user_info = $5, signup_enabled = $6,
		signup_require_admin_approval = $7, signup_require_email_verification = $8, sso_enabled = $9,
		local_login_enabled = $10, sso_auto_redirect = $11 WHERE id = 1`,
		st.Units, st.Currency, st.NumRecordsPerPage, st.PublicShareableLinks, st.PublicShareableLinksUserInfo,
		st.SignupEnabled, st.SignupRequireAdminApproval, st.SignupRequireEmailVerification,
		st.SSOEnabled, st.LocalLoginEnabled, st.SSOAutoRedirect)
	if err != nil {
		return fmt.Errorf("update server settings: %w", mapErr(err))
	}
	return nil
}

// SetLoginPhotoSet sets login_photo_set alone.
func (s *Store) SetLoginPhotoSet(ctx context.Context, set bool) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE server_settings SET login_photo_set = $1 WHERE id = 1`, set); err != nil {
		return fmt.Errorf("set login_photo_set: %w", mapErr(err))
	}
	return nil
}
