package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/admin"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/profile"
)

// userReadJSON is a user as the admin routes show it, with the photo path the
// web app expects.
func userReadJSON(u *account.User, mfaEnabled bool) profile.UserRead {
	ur := profile.NewUserRead(u, mfaEnabled)
	ur.PhotoPath = publicPhotoPath(u.PhotoPath)
	return ur
}

func (s *Server) userRead(r *http.Request, u *account.User) (profile.UserRead, error) {
	on, err := s.MFA.Enabled(r.Context(), u.ID)
	return userReadJSON(u, on), err
}

// handleUsersCount: GET /api/v1/users/number.
func (s *Server) handleUsersCount(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	n, err := s.Accounts.Store.CountUsers(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, n)
}

// handleUsersPage: GET /api/v1/users/page_number/{page_number}/num_records/{num_records}.
func (s *Server) handleUsersPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	page, err1 := strconv.Atoi(r.PathValue("page_number"))
	per, err2 := strconv.Atoi(r.PathValue("num_records"))
	if err1 != nil || err2 != nil {
		s.writeError(w, r, account.ValidationError(account.FieldError{Field: "page_number", Message: "Input should be a valid integer"}))
		return
	}
	users, err := s.Admin.ListUsers(r.Context(), page, per)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeUsers(w, r, users)
}

// handleUserByID: GET /api/v1/users/id/{user_id}.
func (s *Server) handleUserByID(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, err := pathUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeUser(w, r, uid, http.StatusOK)
}

func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, uid int64, status int) {
	u, err := s.Accounts.Store.FindUserByID(r.Context(), uid)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ur, err := s.userRead(r, u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, status, ur)
}

// handleUserCreate: POST /api/v1/users → 201 with the account. Every profile
// field of Endurain's UserCreate is stored, under the profile's rules.
func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fields, err := profile.DecodeUpdate(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in userCreateBody
	if json.Unmarshal(body, &in) != nil {
		s.writeError(w, r, account.ValidationError(account.FieldError{Field: "body", Message: "JSON decode error"}))
		return
	}
	if in.Password == "" {
		s.writeError(w, r, account.ValidationError(account.FieldError{Field: "password", Message: "Field required"}))
		return
	}
	u, err := s.Admin.CreateUser(r.Context(), s.caller(r, p), account.NewUser{Username: in.Username, Email: in.Email, Name: in.Name,
		Password: in.Password, Admin: in.AccessType == account.AccessAdmin, Inactive: in.Active != nil && !*in.Active}, fields)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeUser(w, r, u.ID, http.StatusCreated)
}

// handleUserUpdate: PUT /api/v1/users/{user_id} with the web app's full
// UserRead; the last active admin can be neither deactivated nor demoted.
// Endurain answers {"detail"}; trailpass answers the updated UserRead (with
// that detail's information in it), which the web app does not read.
func (s *Server) handleUserUpdate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, err := pathUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := admin.DecodeUserUpdate(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.Admin.UpdateUser(r.Context(), s.caller(r, p), uid, in); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeUser(w, r, uid, http.StatusOK)
}

// handleUserSearch: GET /api/v1/users/username/contains/{username}, the users
// whose username contains the text (at most admin.MaxUserSearch).
func (s *Server) handleUserSearch(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	users, err := s.Admin.SearchUsers(r.Context(), r.PathValue("username"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeUsers(w, r, users)
}

// writeUsers answers a list of UserRead.
func (s *Server) writeUsers(w http.ResponseWriter, r *http.Request, users []*account.User) {
	out, err := s.userReads(r.Context(), users)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// userReads shows users as the admin routes do, reading every user's MFA flag
// in one query rather than one per user.
func (s *Server) userReads(ctx context.Context, users []*account.User) ([]profile.UserRead, error) {
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	mfaOn, err := s.MFA.EnabledUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]profile.UserRead, 0, len(users))
	for _, u := range users {
		out = append(out, userReadJSON(u, mfaOn[u.ID]))
	}
	return out, nil
}

// userAction runs act, an admin action on the user of the path's {user_id},
// and answers 200 with answer(id); the routes differ only in the action and the
// wording Endurain's web app shows.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request, p *auth.Principal,
	act func(context.Context, *account.Caller, int64) error, answer func(uid int64) any) {
	uid, err := pathUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := act(r.Context(), s.caller(r, p), uid); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, answer(uid))
}

// handleUserApprove: PUT /api/v1/users/{user_id}/approve lets an account that
// waits for approval sign in.
func (s *Server) handleUserApprove(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s.userAction(w, r, p, s.Admin.ApproveUser, func(uid int64) any {
		return messageBody{Message: fmt.Sprintf("User ID %d approved successfully.", uid)}
	})
}

// handleUserDelete: DELETE /api/v1/users/{user_id}, the account and everything
// it owns; never the caller's own account nor the last active admin.
func (s *Server) handleUserDelete(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s.userAction(w, r, p, s.Admin.DeleteUser, func(uid int64) any {
		return detailBody{Detail: fmt.Sprintf("User ID %d deleted successfully", uid)}
	})
}

// handleUserPhotoDelete: DELETE /api/v1/users/{user_id}/photo.
func (s *Server) handleUserPhotoDelete(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s.userAction(w, r, p, s.Profiles.DeletePhoto, func(uid int64) any {
		return detailBody{Detail: fmt.Sprintf("User ID %d photo deleted successfully", uid)}
	})
}

// handleUserPhotoUpload: POST /api/v1/users/{user_id}/image (multipart "file"),
// under the same content checks as the profile photo.
func (s *Server) handleUserPhotoUpload(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, err := pathUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.uploadPhoto(w, r, p, uid)
}

// handleUserPassword: PUT /api/v1/users/{user_id}/password {password}; the user's
// sessions end, since whoever held them may not know the new password.
func (s *Server) handleUserPassword(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, err := pathUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in passwordBody
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	keep := ""
	if uid == p.User.ID {
		keep = p.Session.ID
	}
	n, err := s.Accounts.ResetPassword(r.Context(), s.caller(r, p), uid, in.Password, keep)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, detailRevokedBody{Detail: "Password updated", SessionsRevoked: n})
}

// handleUserResetMFA: POST /api/v1/users/{user_id}/mfa/reset, for a user who lost
// their authenticator and backup codes.
func (s *Server) handleUserResetMFA(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, err := pathUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	keep := ""
	if uid == p.User.ID {
		keep = p.Session.ID
	}
	n, err := s.MFA.Reset(r.Context(), s.caller(r, p), uid, keep)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, detailRevokedBody{Detail: "MFA reset", SessionsRevoked: n})
}

// handleUserFind searches accounts by name, username or email, a page at a
// time: GET /api/v1/users/search?q=&page=1&per_page=20.
func (s *Server) handleUserFind(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	num := func(name string, def int) int {
		v := q.Get(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return -1 // refused by FindUsers with the field's message
		}
		return n
	}
	page, per := num("page", 1), num("per_page", 20)
	users, total, err := s.Admin.FindUsers(r.Context(), q.Get("q"), page, per)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reads, err := s.userReads(r.Context(), users)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userSearchPage{Users: reads, Total: total, Page: page, PerPage: per})
}
