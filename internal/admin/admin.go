// Package admin holds the rules of user administration: listing, searching,
// editing (under the profile's rules), approving and deleting accounts.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/profile"
)

// Messages of user administration.
const (
	// MsgLastAdmin is the answer when a change would leave no active admin.
	MsgLastAdmin = "Cannot deactivate or demote the last active admin"
	// MsgLastAdminDelete is the answer when a deletion would leave no active admin.
	MsgLastAdminDelete = "Cannot delete the last active admin"
	// MsgDeleteSelf refuses an admin deleting their own account from the admin
	// pages, where one click would lock them out.
	MsgDeleteSelf = "You cannot delete your own account"
	// MsgEmailNotVerified is Endurain's answer to approving an unverified account.
	MsgEmailNotVerified = "User email is not verified"
	// MaxUserSearch bounds the users a username search returns.
	MaxUserSearch = 100
)

// UserFiles are the files and staging folders of a deleted user, removed after
// the rows are gone.
type UserFiles struct {
	Keys []string // blob keys
	Dirs []string // blob prefixes removed whole (import staging)
}

// Store is what user administration needs from storage beyond account.Store.
type Store interface {
	// ListUsersPage returns users ordered by id, limit at a time from offset.
	ListUsersPage(ctx context.Context, offset, limit int) ([]*account.User, error)
	// AdminUpdateUser writes u's profile fields (as UpdateProfile does), access
	// type and active flag, recomputing the BMI of the user's weights when
	// recomputeBMI is set. In the same transaction it refuses (EFORBIDDEN
	// MsgLastAdmin) a result without any active admin, and when the user ends up
	// inactive it deletes their sessions. ECONFLICT for a taken username or email.
	AdminUpdateUser(ctx context.Context, u *account.User, recomputeBMI bool) error
	// SearchUsers returns at most limit users whose username contains part.
	SearchUsers(ctx context.Context, part string, limit int) ([]*account.User, error)
	// FindUsers returns limit users from offset, ordered by id, whose name,
	// username or email contains q (case-insensitive; "" matches all), and how
	// many match in all.
	FindUsers(ctx context.Context, q string, offset, limit int) ([]*account.User, int, error)
	// ApproveUser clears the pending approval and activates the account;
	// EINVALID MsgEmailNotVerified when its email is not verified.
	ApproveUser(ctx context.Context, id int64, now time.Time) error
	// DeleteUser deletes the user and every row they own in one transaction and
	// returns their files. EFORBIDDEN MsgLastAdminDelete when no active admin
	// would remain; ENOTFOUND for no such user.
	DeleteUser(ctx context.Context, id int64) (UserFiles, error)
}

// UserUpdate is what an admin may change on an account: the profile
// fields under the profile's own rules, plus the role and the active flag. Nil
// keeps a field.
type UserUpdate struct {
	profile.Update
	AccessType *int
	Active     *bool
}

// DecodeUserUpdate reads the body of PUT /api/v1/users/{id}, the web app's
// full UserRead object. Like profile.DecodeUpdate it keeps the editable fields
// and ignores the rest (id, photo_path, mfa_*, email_verified,
// pending_admin_approval: those change only through their own routes).
func DecodeUserUpdate(body []byte) (UserUpdate, error) {
	pu, err := profile.DecodeUpdate(body)
	var problems []account.FieldError
	var e *account.Error
	if errors.As(err, &e) {
		problems = e.Fields
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(body, &raw) // a non-object is already among the problems
	var d profile.FieldDecoder
	in := UserUpdate{Update: pu}
	in.AccessType = profile.DecodeRequired[int](&d, raw, "access_type", "Input should be a valid integer")
	in.Active = profile.DecodeRequired[bool](&d, raw, "active", "Input should be a valid boolean")
	if problems = append(problems, d.Problems...); len(problems) > 0 {
		return UserUpdate{}, account.ValidationError(problems...)
	}
	return in, nil
}

// Service holds the rules of user administration, shared by the API and the
// console. Authorisation (the caller is an admin) is the caller's job; every
// write needs the caller's recent authentication, which the service enforces.
type Service struct {
	Store interface {
		account.Store
		Store
	}
	Accounts *account.Service
	// Blobs holds the users' files; DeleteUser removes them after the commit.
	Blobs  blob.Store
	Events account.EventStore // required: deletions are recorded
	Logger *slog.Logger       // required
	// Recent enforces the recent-authentication rule on every write; nil
	// refuses them.
	Recent account.RecentAuthChecker
	// Mail (required), when enabled, sends the welcome notice on approval.
	Mail account.Mailer
}

// ListUsers returns a page of users (page numbers start at 1).
func (s *Service) ListUsers(ctx context.Context, page, perPage int) ([]*account.User, error) {
	if page < 1 || perPage < 1 || perPage > 500 || page > math.MaxInt32/perPage {
		return nil, account.ValidationError(account.FieldError{Field: "num_records", Message: "page_number must be at least 1 and num_records between 1 and 500"})
	}
	return s.Store.ListUsersPage(ctx, (page-1)*perPage, perPage)
}

// FindUsers returns page (from 1) of perPage (1 to 100) users whose name,
// username or email contains q, and how many match: the console's search.
func (s *Service) FindUsers(ctx context.Context, q string, page, perPage int) ([]*account.User, int, error) {
	q = strings.TrimSpace(q)
	var bad []account.FieldError
	if len(q) > 250 {
		bad = append(bad, account.FieldError{In: "query", Field: "q", Message: "Search text must be at most 250 characters"})
	}
	if page < 1 || page > 1_000_000 {
		bad = append(bad, account.FieldError{In: "query", Field: "page", Message: "Input should be an integer from 1"})
	}
	if perPage < 1 || perPage > 100 {
		bad = append(bad, account.FieldError{In: "query", Field: "per_page", Message: "Input should be an integer from 1 to 100"})
	}
	if len(bad) > 0 {
		return nil, 0, account.ValidationError(bad...)
	}
	return s.Store.FindUsers(ctx, q, (page-1)*perPage, perPage)
}

// SearchUsers returns the users whose username contains part (case-insensitive),
// at most MaxUserSearch.
func (s *Service) SearchUsers(ctx context.Context, part string) ([]*account.User, error) {
	part = strings.TrimSpace(part)
	if part == "" || len(part) > 250 {
		return nil, account.ValidationError(account.FieldError{Field: "username", Message: "Search text must be 1-250 characters"})
	}
	return s.Store.SearchUsers(ctx, part, MaxUserSearch)
}

// UpdateUser applies an admin's changes to userID. Returns EUNPROCESSABLE for bad
// fields, ECONFLICT for a taken username or email, EFORBIDDEN when no active
// admin would remain, ENOTFOUND for an unknown user.
func (s *Service) UpdateUser(ctx context.Context, c *account.Caller, userID int64, in UserUpdate) (*account.User, error) {
	if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return nil, err
	}
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	oldHeight := u.Height
	var problems []account.FieldError
	var e *account.Error
	if errors.As(profile.Apply(u, in.Update, s.Accounts.Now()), &e) {
		problems = e.Fields
	}
	problems = append(problems, applyRole(u, in.AccessType, in.Active)...)
	if len(problems) > 0 {
		return nil, account.ValidationError(problems...)
	}
	u.UpdatedAt = s.Accounts.Now().UTC()
	if err := s.Store.AdminUpdateUser(ctx, u, profile.HeightChanged(oldHeight, u.Height)); err != nil {
		return nil, err
	}
	return u, nil
}

func applyRole(u *account.User, accessType *int, active *bool) []account.FieldError {
	var problems []account.FieldError
	if accessType != nil {
		if *accessType != account.AccessRegular && *accessType != account.AccessAdmin {
			problems = append(problems, account.FieldError{Field: "access_type", Message: "Input should be 1 (regular) or 2 (admin)"})
		}
		u.AccessType = *accessType
	}
	if active != nil {
		u.Active = *active
	}
	return problems
}

// CreateUser creates an account as an admin asked (role and active flag are in
// in), vouching for its email. fields carries the other profile fields
// (Endurain's UserCreate), checked under the profile's rules before anything is
// written.
func (s *Service) CreateUser(ctx context.Context, c *account.Caller, in account.NewUser, fields profile.Update) (*account.User, error) {
	if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return nil, err
	}
	in.EmailVerified = true
	in.Profile = fields.ForNewUser()
	return s.Accounts.CreateUser(ctx, in)
}

// ApproveUser lets an account waiting for approval sign in: it clears
// pending_admin_approval and activates it, as Endurain does. EINVALID
// MsgEmailNotVerified when its email is not verified; ENOTFOUND for no such user.
func (s *Service) ApproveUser(ctx context.Context, c *account.Caller, userID int64) error {
	if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return err
	}
	// An account that was waiting gets a welcome mail, queued with the approval.
	if s.Mail.Enabled() {
		if u, err := s.Store.FindUserByID(ctx, userID); err == nil && u.PendingAdminApproval {
			if m, err := s.Mail.Message(account.MailRequest{Kind: account.MailWelcome, User: u}); err == nil {
				ctx = account.WithMail(ctx, m)
			}
		}
	}
	return s.Store.ApproveUser(ctx, userID, s.Accounts.Now().UTC())
}

// DeleteUser deletes userID's account and everything it owns, rows in one
// transaction and then its files. An admin cannot delete their own account
// (EFORBIDDEN MsgDeleteSelf), and the last active admin stays (EFORBIDDEN
// MsgLastAdminDelete). ENOTFOUND for an unknown user. A file that cannot be
// removed after the commit is logged, not reported: the account is gone.
func (s *Service) DeleteUser(ctx context.Context, c *account.Caller, userID int64) error {
	if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return err
	}
	var actor *int64
	if c.User != nil {
		if c.User.ID == userID {
			return account.Errorf(account.EFORBIDDEN, MsgDeleteSelf)
		}
		actor = &c.User.ID
	}
	files, err := s.Store.DeleteUser(ctx, userID)
	if err != nil {
		return err
	}
	// Recorded on the admin: the deleted user's own log is gone with them.
	_ = s.Events.RecordSecurityEvent(ctx, &account.SecurityEvent{UserID: actor, Type: account.EventUserDeleted,
		Detail: map[string]any{"deleted_user_id": userID}, CreatedAt: s.Accounts.Now().UTC()})
	keys := append(files.Keys, profile.PhotoKey(userID, profile.PhotoExtPNG), profile.PhotoKey(userID, profile.PhotoExtJPEG))
	for _, k := range keys {
		if !blob.ValidKey(k) {
			continue
		}
		if err := s.Blobs.Delete(ctx, k); err != nil {
			s.logFileError(ctx, userID, k, err)
		}
	}
	if ra, ok := s.Blobs.(interface {
		RemoveAll(ctx context.Context, prefix string) error
	}); ok {
		for _, d := range files.Dirs {
			if err := ra.RemoveAll(ctx, d); err != nil {
				s.logFileError(ctx, userID, d, err)
			}
		}
	}
	return nil
}

func (s *Service) logFileError(ctx context.Context, userID int64, key string, err error) {
	s.Logger.WarnContext(ctx, "deleted user's file not removed", "user_id", userID, "key", key, "err", fmt.Errorf("delete: %w", err))
}
