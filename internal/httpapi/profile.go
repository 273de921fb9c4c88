package httpapi

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/profile"
)

// The web app turns photo_path into a URL by dropping its first four "/"-separated
// parts (Endurain stores /app/backend/data/user_images/<file>), so the path it is
// given keeps that depth; the file is served at /user_images/<file>.
const photoPathPrefix = "/app/backend/data/"

func publicPhotoPath(key *string) *string {
	if key == nil || *key == "" {
		return nil
	}
	p := photoPathPrefix + *key
	return &p
}

// readBody reads a JSON body of at most 1 MiB.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if account.ErrorCode(err) == account.ETIMEOUT {
		return nil, err
	} else if err != nil {
		return nil, account.Errorf(account.ETOOLARGE, "Request body too large")
	}
	return b, nil
}

// handleProfile answers GET /api/v1/profile with the UserMe shape; no secret is
// part of that type.
// The profile comes with the request's session lookup (authedProfile).
func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request, p *auth.Principal, prof *profile.Profile) {
	if prof.Privacy == nil {
		// No privacy row: ProfileOf reads it again and answers as GetProfile does.
		var err error
		if prof, err = s.Profiles.ProfileOf(r.Context(), p.User); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	me := prof.UserMe()
	me.PhotoPath = publicPhotoPath(me.PhotoPath)
	writeJSON(w, http.StatusOK, me)
}

// handleProfileUpdate applies the editable fields of the web app's full body:
// PUT /api/v1/profile. Privileged fields in the body are ignored by construction.
func (s *Server) handleProfileUpdate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := profile.DecodeUpdate(body)
	if err == nil {
		_, err = s.Profiles.UpdateProfile(r.Context(), s.caller(r, p), p.User.ID, in)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, detailBody{Detail: fmt.Sprintf("User ID %d updated successfully", p.User.ID)})
}

// handlePrivacyUpdate: PUT /api/v1/profile/privacy. Like Endurain it answers a
// one-string array; id and user_id in the body are ignored.
func (s *Server) handlePrivacyUpdate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := profile.DecodePrivacyUpdate(body)
	if err == nil {
		_, err = s.Profiles.UpdatePrivacy(r.Context(), p.User.ID, in)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, []string{fmt.Sprintf("User ID %d privacy settings updated successfully", p.User.ID)})
}

// handlePasswordChange: PUT /api/v1/profile/password {password, current_password?}.
func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in profile.PasswordChange
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.Profiles.ChangePassword(r.Context(), s.caller(r, p), p.User.ID, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	msg := fmt.Sprintf("User ID %d password updated successfully", p.User.ID)
	if n > 0 {
		msg += fmt.Sprintf("; %d other session(s) signed out", n)
	}
	w.Header().Set("X-Revoked-Sessions", strconv.Itoa(n))
	writeJSON(w, http.StatusOK, []string{msg})
}

// maxPhotoUpload leaves room for the multipart envelope around a 20 MiB photo;
// the service itself refuses more than 20 MiB of image.
const maxPhotoUpload = 21 << 20

// handlePhotoUpload: POST /api/v1/profile/image (multipart "file"), 201 with the
// new photo path. The file part is streamed, never buffered whole by net/http.
func (s *Server) handlePhotoUpload(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s.uploadPhoto(w, r, p, p.User.ID)
}

// uploadPhoto stores the multipart field "file" as userID's photo, under the
// profile photo's content checks, and answers 201 with its path.
func (s *Server) uploadPhoto(w http.ResponseWriter, r *http.Request, p *auth.Principal, userID int64) {
	var key string
	if !s.withUploadedImage(w, r, func(f io.Reader) (err error) {
		key, err = s.Profiles.SetPhoto(r.Context(), s.caller(r, p), userID, f)
		return err
	}) {
		return
	}
	writeJSON(w, http.StatusCreated, publicPhotoPath(&key))
}

// withUploadedImage streams the multipart field "file" of an image upload (at
// most 20 MiB) to store and reports whether it succeeded; on failure the
// answer has been written.
func (s *Server) withUploadedImage(w http.ResponseWriter, r *http.Request, store func(io.Reader) error) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxPhotoUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		s.writeError(w, r, account.Errorf(account.EINVALID, "Expected a multipart/form-data upload with a file field"))
		return false
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			s.writeError(w, r, account.Errorf(account.EINVALID, "No file field in the upload"))
			return false
		} else if account.ErrorCode(err) == account.ETIMEOUT {
			s.writeError(w, r, err)
			return false
		} else if err != nil {
			s.writeError(w, r, account.Errorf(account.EINVALID, "File too large: the limit is 20 MiB"))
			return false
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		err = store(part)
		part.Close()
		if err != nil {
			s.writeError(w, r, err)
			return false
		}
		return true
	}
}

// handlePhotoDelete: PUT /api/v1/profile/photo removes the photo.
func (s *Server) handlePhotoDelete(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if err := s.Profiles.DeletePhoto(r.Context(), s.caller(r, p), p.User.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, fmt.Sprintf("User ID %d photo deleted successfully", p.User.ID))
}

// handleUserImage serves /user_images/<file> to its owner and to admins only
// (Endurain served photos to anyone, and ids are sequential). Others get the
// same 404 as for a missing file, so the answer does not tell which accounts
// have a photo.
func (s *Server) handleUserImage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	rc, ctype, err := s.Profiles.OpenPhoto(r.Context(), p.User, r.PathValue("file"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "private, max-age=300")
	io.Copy(w, rc)
}

// handleDefaultGear: GET /api/v1/profile/default_gear.
func (s *Server) handleDefaultGear(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	dg, err := s.Profiles.GetDefaultGear(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, dg)
}

// handleDefaultGearUpdate: PUT /api/v1/profile/default_gear; gear that is not the
// caller's is a 422 naming the field.
func (s *Server) handleDefaultGearUpdate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := profile.DecodeDefaultGear(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	dg, err := s.Profiles.UpdateDefaultGear(r.Context(), p.User.ID, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, dg)
}

// handleGoals: GET /api/v1/profile/goals.
func (s *Server) handleGoals(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	goals, err := s.Profiles.ListGoals(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, goals) // null when there are none, as Endurain
}

// handleGoalResults: GET /api/v1/profile/goals/results[?date=YYYY-MM-DD]; null
// when the caller has no goals. Endurain takes no date and always uses today.
func (s *Server) handleGoalResults(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	res, err := s.Profiles.GoalResults(r.Context(), p.User.ID, r.URL.Query().Get("date"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) goalInput(w http.ResponseWriter, r *http.Request) (profile.GoalInput, error) {
	body, err := readBody(w, r)
	if err != nil {
		return profile.GoalInput{}, err
	}
	return profile.DecodeGoalInput(body)
}

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, account.ValidationError(account.FieldError{Field: name, Message: "Input should be a valid integer"})
	}
	return id, nil
}

// handleGoalCreate: POST /api/v1/profile/goals → 201 with the goal.
func (s *Server) handleGoalCreate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	in, err := s.goalInput(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.Profiles.CreateGoal(r.Context(), p.User.ID, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, g)
}

// handleGoalUpdate: PUT /api/v1/profile/goals/{goal_id}; another user's goal is 404.
func (s *Server) handleGoalUpdate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := pathID(r, "goal_id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := s.goalInput(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.Profiles.UpdateGoal(r.Context(), p.User.ID, id, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, g)
}

// handleGoalDelete: DELETE /api/v1/profile/goals/{goal_id}.
func (s *Server) handleGoalDelete(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := pathID(r, "goal_id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Profiles.DeleteGoal(r.Context(), p.User.ID, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, detailBody{Detail: fmt.Sprintf("Goal ID %d deleted successfully", id)})
}

// handleGears: GET /api/v1/gears, the caller's gear for the default-gear selectors.
func (s *Server) handleGears(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	gear, err := s.Profiles.ListGear(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if gear == nil {
		gear = []*profile.Gear{}
	}
	writeJSON(w, http.StatusOK, gear)
}

// handleActivitiesVisibility: PUT /api/v1/activities/visibility/{visibility}.
func (s *Server) handleActivitiesVisibility(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	v, err := strconv.Atoi(r.PathValue("visibility"))
	if err != nil {
		s.writeError(w, r, account.ValidationError(account.FieldError{Field: "visibility", Message: "Input should be 0, 1 or 2"}))
		return
	}
	if err := s.Profiles.SetActivitiesVisibility(r.Context(), p.User.ID, v); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, detailBody{Detail: "Activities visibility updated successfully"})
}

// handleUsersPair serves GET /api/v1/users/username/{username},
// /users/email/{email} and, for admins, /users/{user_id}/identity-providers.
func (s *Server) handleUsersPair(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a, b := r.PathValue("a"), r.PathValue("b")
	switch {
	case a == "username", a == "email":
		s.lookupUser(w, r, p, a, b)
	case b == "identity-providers":
		if !p.User.IsAdmin() {
			s.writeError(w, r, account.Errorf(account.EFORBIDDEN, "Unauthorized Access - Missing permissions: admin"))
			return
		}
		r.SetPathValue("user_id", a)
		s.handleUserIdPs(w, r, p)
	default:
		notFound(w, r)
	}
}

// lookupUser answers /users/username/{x} and /users/email/{x}. Admins get
// Endurain's answer (the UserRead, or null); anyone else, for the profile form,
// learns only whether the value is free: null when free (or their own),
// {"available": false} when taken. Both are throttled per user and address.
func (s *Server) lookupUser(w http.ResponseWriter, r *http.Request, p *auth.Principal, field, value string) {
	res, err := s.Profiles.LookupUser(r.Context(), p.User, s.clientIP(r), field, value)
	if err != nil || !res.Admin {
		s.writeAvailability(w, r, err == nil && res.Available, err)
		return
	}
	if res.User == nil {
		writeJSON(w, http.StatusOK, nil)
		return
	}
	ur, err := s.userRead(r, res.User)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ur)
}

func (s *Server) writeAvailability(w http.ResponseWriter, r *http.Request, available bool, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if available {
		writeJSON(w, http.StatusOK, nil)
		return
	}
	writeJSON(w, http.StatusOK, availabilityBody{Available: false})
}

// handlePublicServerSettings: GET /api/v1/public/server_settings, which the web
// app awaits before it mounts: Endurain's ServerSettingsReadPublic, read from the
// database on every request.
func (s *Server) handlePublicServerSettings(w http.ResponseWriter, r *http.Request) {
	st, err := s.Settings.Get(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pub := st.Public()
	pub.EmailEnabled = s.Mail != nil && s.Mail.Enabled()
	writeJSON(w, http.StatusOK, pub)
}

// handleServerSettings: GET /api/v1/server_settings (admin), ServerSettingsRead.
func (s *Server) handleServerSettings(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	st, err := s.Settings.Get(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// handleServerSettingsUpdate: PUT /api/v1/server_settings (admin) with
// ServerSettingsEdit; answers the stored ServerSettingsRead.
func (s *Server) handleServerSettingsUpdate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.Settings.Update(r.Context(), s.caller(r, p), body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// handleLoginPhotoUpload: POST /api/v1/server_settings/upload/login (admin,
// multipart "file"), the sign-in page's photo under the profile photo's checks.
// 201 with null, as Endurain.
func (s *Server) handleLoginPhotoUpload(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if s.withUploadedImage(w, r, func(f io.Reader) error { return s.Settings.SetLoginPhoto(r.Context(), s.caller(r, p), f) }) {
		writeJSON(w, http.StatusCreated, nil)
	}
}

// handleLoginPhotoDelete: DELETE /api/v1/server_settings/upload/login (admin).
func (s *Server) handleLoginPhotoDelete(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if err := s.Settings.DeleteLoginPhoto(r.Context(), s.caller(r, p)); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, nil)
}

// handleServerImage: GET /server_images/{file}, the sign-in page's photo, public
// like the page that shows it. Only login.png exists.
func (s *Server) handleServerImage(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("file") != "login.png" {
		s.writeError(w, r, account.Errorf(account.ENOTFOUND, "Server image not found"))
		return
	}
	rc, err := s.Settings.OpenLoginPhoto(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer rc.Close()
	// Endurain names it login.png whatever it is; the stored file was
	// re-encoded as PNG or JPEG, so its first bytes tell which.
	br := bufio.NewReader(rc)
	head, _ := br.Peek(512)
	w.Header().Set("Content-Type", http.DetectContentType(head))
	w.Header().Set("Cache-Control", "no-cache")
	io.Copy(w, br)
}
