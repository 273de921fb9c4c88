package account

import (
	"context"
	"math"
)

// MsgLastAdmin is the answer when a change would leave no active admin.
const MsgLastAdmin = "Cannot deactivate or demote the last active admin"

// AdminStore is what user administration needs from storage beyond Store.
type AdminStore interface {
	// ListUsersPage returns users ordered by id, limit at a time from offset.
	ListUsersPage(ctx context.Context, offset, limit int) ([]*User, error)
	// AdminUpdateUser writes u's name, username, email, access type and active
	// flag. In the same transaction it refuses (EFORBIDDEN MsgLastAdmin) a result
	// without any active admin, and when the user ends up inactive it deletes
	// their sessions. ECONFLICT for a taken username or email.
	AdminUpdateUser(ctx context.Context, u *User) error
}

// AdminUserUpdate is what an admin may change on an account; nil keeps a field.
type AdminUserUpdate struct {
	Name       *string `json:"name"`
	Username   *string `json:"username"`
	Email      *string `json:"email"`
	AccessType *int    `json:"access_type"`
	Active     *bool   `json:"active"`
}

// AdminService holds the rules of user administration, shared by the API and the
// console. Authorisation (the caller is an admin) is the caller's job.
type AdminService struct {
	Store interface {
		Store
		AdminStore
	}
	Accounts *Service
}

// ListUsers returns a page of users (page numbers start at 1).
func (s *AdminService) ListUsers(ctx context.Context, page, perPage int) ([]*User, error) {
	if page < 1 || perPage < 1 || perPage > 500 || page > math.MaxInt32/perPage {
		return nil, ValidationError(FieldError{Field: "num_records", Message: "page_number must be at least 1 and num_records between 1 and 500"})
	}
	return s.Store.ListUsersPage(ctx, (page-1)*perPage, perPage)
}

// UpdateUser applies an admin's changes to userID. Returns EUNPROCESSABLE for bad
// fields, ECONFLICT for a taken username or email, EFORBIDDEN when no active
// admin would remain, ENOTFOUND for an unknown user.
func (s *AdminService) UpdateUser(ctx context.Context, userID int64, in AdminUserUpdate) (*User, error) {
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	problems := applyIdentity(u, in.Name, in.Username, in.Email)
	if in.AccessType != nil {
		if *in.AccessType != AccessRegular && *in.AccessType != AccessAdmin {
			problems = append(problems, FieldError{Field: "access_type", Message: "Input should be 1 (regular) or 2 (admin)"})
		}
		u.AccessType = *in.AccessType
	}
	if in.Active != nil {
		u.Active = *in.Active
	}
	if len(problems) > 0 {
		return nil, ValidationError(problems...)
	}
	u.UpdatedAt = s.Accounts.Now().UTC()
	if err := s.Store.AdminUpdateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// CreateUser creates an account as an admin asked (role and active flag are in
// in), vouching for its email.
func (s *AdminService) CreateUser(ctx context.Context, in NewUser) (*User, error) {
	in.EmailVerified = true
	return s.Accounts.CreateUser(ctx, in)
}
