package idp

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"

	"github.com/trailpass/trailpass/internal/account"
)

// LastMethodMessage is Endurain's text for refusing to unlink the only way left
// to sign in.
const LastMethodMessage = "Cannot unlink last authentication method. Please set a password first."

// signIn resolves which account the identity signs in to (login mode).
func (s *Service) signIn(ctx context.Context, p *Provider, id *identity, out *Outcome) error {
	now := s.Now().UTC()
	link, err := s.Store.FindIdentityLink(ctx, p.ID, id.subject)
	switch {
	case err == nil:
		u, err := s.Store.FindUserByID(ctx, link.UserID)
		if err != nil {
			return err
		}
		if err := s.refuseInactive(ctx, u, p); err != nil {
			out.Failure = FailInactive
			return err
		}
		if err := s.Store.TouchIdentityLink(ctx, link.ID, now); err != nil {
			return err
		}
		if p.SyncUserInfo {
			s.syncUser(ctx, p, u, id)
		}
		out.UserID = u.ID
	case account.ErrorCode(err) != account.ENOTFOUND:
		return err
	default:
		email, verified := id.email(p.UserMapping)
		var u *account.User
		if p.LinkByVerifiedEmail && email != "" && verified {
			u, err = s.Store.FindUserByEmail(ctx, email)
			if err != nil && account.ErrorCode(err) != account.ENOTFOUND {
				return err
			}
		}
		if u != nil && !u.EmailVerified {
			// The account's email is only its owner's claim (it may have been set
			// to someone else's address): never hand the account to that address.
			return account.Errorf(account.ECONFLICT, "An account already uses this email; sign in to it and link the provider from its security settings")
		}
		if u != nil {
			// The provider vouches for this email, and so does this server for
			// the account's: link the one account that has it.
			if err := s.refuseInactive(ctx, u, p); err != nil {
				out.Failure = FailInactive
				return err
			}
			if err := s.createLink(ctx, u.ID, p, id.subject); err != nil {
				return err
			}
			out.UserID = u.ID
		} else {
			if !p.AutoCreateUsers {
				out.Failure = FailNoAccount
				return account.Errorf(account.EFORBIDDEN, "No account is linked to this identity and automatic account creation is disabled")
			}
			u, err := s.createAccount(ctx, p, id)
			if err != nil {
				return err
			}
			out.UserID, out.Created = u.ID, true
		}
	}
	s.record(ctx, out.UserID, account.EventIdPLogin, p, map[string]any{"created": out.Created})
	return nil
}

// linkTo links the identity to userID (link mode).
func (s *Service) linkTo(ctx context.Context, p *Provider, id *identity, userID int64) error {
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	if !u.Active {
		return account.Errorf(account.EFORBIDDEN, "User is inactive")
	}
	if l, err := s.Store.FindIdentityLink(ctx, p.ID, id.subject); err == nil {
		if l.UserID == userID {
			return account.Errorf(account.ECONFLICT, "Identity provider %s is already linked to your account", p.Name)
		}
		return account.Errorf(account.ECONFLICT, "This %s identity is already linked to another account", p.Name)
	} else if account.ErrorCode(err) != account.ENOTFOUND {
		return err
	}
	ctx = account.Notify(ctx, s.Notices, userID, account.Notice{Kind: account.NoticeIdPLinked, At: s.Now(), Detail: map[string]string{"provider": p.Name}})
	return s.createLink(ctx, userID, p, id.subject)
}

// createLink stores a link; the unique constraints decide races.
func (s *Service) createLink(ctx context.Context, userID int64, p *Provider, subject string) error {
	now := s.Now().UTC()
	l := &Link{UserID: userID, IdPID: p.ID, IdPSubject: subject, LinkedAt: now, LastLogin: &now}
	if err := s.Store.CreateIdentityLink(ctx, l); err != nil {
		if account.ErrorCode(err) == account.ECONFLICT {
			return account.Errorf(account.ECONFLICT, "Identity provider %s is already linked to this account or this identity to another account", p.Name)
		}
		return err
	}
	s.record(ctx, userID, account.EventIdPLinked, p, nil)
	return nil
}

// createAccount creates a password-less account for the identity and links it.
// If the link cannot be stored (a concurrent sign-in of the same identity won),
// the account is deleted again.
func (s *Service) createAccount(ctx context.Context, p *Provider, id *identity) (*account.User, error) {
	email, verified := id.email(p.UserMapping)
	if email != "" && account.ValidateEmail(email) != nil {
		email = ""
	}
	if email != "" {
		if _, err := s.Store.FindUserByEmail(ctx, email); err == nil {
			// Never take over or shadow an existing account by email: its owner
			// can link the provider from the profile.
			return nil, account.Errorf(account.ECONFLICT, "An account with this email already exists. Sign in and link %s from your profile", p.Name)
		} else if account.ErrorCode(err) != account.ENOTFOUND {
			return nil, err
		}
	}
	username, err := s.freeUsername(ctx, baseUsername(id.claim(p.UserMapping, "username"), email, id.subject))
	if err != nil {
		return nil, err
	}
	if email == "" {
		email = username + "@sso.local"
	}
	name := strings.TrimSpace(id.claim(p.UserMapping, "name"))
	if len(name) > 250 {
		name = name[:250]
	}
	u, err := s.Accounts.CreateUser(ctx, account.NewUser{Username: username, Email: email, Name: name})
	if err != nil {
		return nil, fmt.Errorf("create sso account: %w", err)
	}
	if verified && !strings.HasSuffix(email, "@sso.local") {
		if err := s.Store.SyncUserFromIdP(ctx, u.ID, u.Name, "", true, s.Now().UTC()); err != nil {
			s.Store.DeleteUserWithoutCredentials(ctx, u.ID)
			return nil, err
		}
		u.EmailVerified = true
	}
	if err := s.createLink(ctx, u.ID, p, id.subject); err != nil {
		if derr := s.Store.DeleteUserWithoutCredentials(ctx, u.ID); derr != nil {
			return nil, fmt.Errorf("undo sso account: %w (after %w)", derr, err)
		}
		return nil, err
	}
	return u, nil
}

// baseUsername picks the username candidate: the mapped claim, else the email's
// local part, else user_<first 8 of sub>; lower-cased and cut to the allowed set.
func baseUsername(mapped, email, subject string) string {
	for _, c := range []string{mapped, strings.SplitN(email, "@", 2)[0]} {
		if u := cleanUsername(c); u != "" {
			return u
		}
	}
	sub := cleanUsername(subject)
	if len(sub) > 8 {
		sub = sub[:8]
	}
	return "user_" + sub
}

func cleanUsername(s string) string {
	s = account.NormalizeUsername(s)
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || strings.ContainsRune("._@+-", r) {
			b.WriteRune(r)
		}
	}
	out := strings.TrimLeft(b.String(), "._@+-")
	if len(out) > 200 {
		out = out[:200]
	}
	return out
}

// freeUsername returns base, or base_<6 random digits> when base is taken.
func (s *Service) freeUsername(ctx context.Context, base string) (string, error) {
	candidate := base
	for range 10 {
		if _, err := s.Store.FindUserByUsername(ctx, candidate); account.ErrorCode(err) == account.ENOTFOUND {
			return candidate, nil
		} else if err != nil {
			return "", err
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
		candidate = fmt.Sprintf("%s_%06d", base, n.Int64())
	}
	return "", account.Errorf(account.ECONFLICT, "Could not find a free username")
}

// syncUser copies name and a verified, unused email from the claims. Failures
// are logged, never fatal to the sign-in.
func (s *Service) syncUser(ctx context.Context, p *Provider, u *account.User, id *identity) {
	name := strings.TrimSpace(id.claim(p.UserMapping, "name"))
	if name == "" || len(name) > 250 {
		name = u.Name
	}
	email, verified := id.email(p.UserMapping)
	if !verified || email == u.Email || account.ValidateEmail(email) != nil {
		email = ""
	} else if _, err := s.Store.FindUserByEmail(ctx, email); err == nil {
		email = "" // taken by another account: keep ours
	}
	if name == u.Name && email == "" {
		return
	}
	if err := s.Store.SyncUserFromIdP(ctx, u.ID, name, email, email != "", s.Now().UTC()); err != nil {
		logWarn(ctx, "sync user from identity provider", p, err)
	}
}

func (s *Service) refuseInactive(ctx context.Context, u *account.User, p *Provider) error {
	if u.Active && !u.PendingAdminApproval {
		return nil
	}
	s.record(ctx, u.ID, account.EventLoginFailed, p, map[string]any{"reason": "inactive"})
	return account.Errorf(account.EFORBIDDEN, "User is inactive")
}

// claim returns the first non-empty string claim mapped to field.
func (id *identity) claim(m UserMapping, field string) string {
	for _, c := range m.claimsFor(field) {
		if v, ok := id.claims[c].(string); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// email returns the mapped email and whether the provider vouches for it.
// email_verified speaks about the standard email claim only: an address mapped
// from another claim (mail, upn) is never taken as verified, so it neither links
// an existing account nor marks a new one's email verified.
func (id *identity) email(m UserMapping) (string, bool) {
	for _, c := range m.claimsFor("email") {
		if v, ok := id.claims[c].(string); ok && strings.TrimSpace(v) != "" {
			return account.NormalizeEmail(v), id.emailVerified && c == "email"
		}
	}
	return "", false
}

// ListLinks returns userID's linked providers. Never any IdP token.
func (s *Service) ListLinks(ctx context.Context, userID int64) ([]*Link, error) {
	return s.Store.ListIdentityLinks(ctx, userID)
}

// Unlink removes userID's link to idpID. Returns ENOTFOUND "Identity provider
// with id N not found" or "Identity provider <name> is not linked to your
// account", and EINVALID LastMethodMessage when the account has no password and
// no other link. It needs c's recent authentication (the user's own, or an
// admin's acting on userID).
func (s *Service) Unlink(ctx context.Context, c *account.Caller, userID, idpID int64) error {
	if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return err
	}
	p, _, err := s.Store.FindIdentityProvider(ctx, idpID)
	if err != nil {
		return err
	}
	notLinked := account.Errorf(account.ENOTFOUND, "Identity provider %s is not linked to your account", p.Name)
	if _, err := s.Store.FindUserIdentityLink(ctx, userID, idpID); account.ErrorCode(err) == account.ENOTFOUND {
		return notLinked
	} else if err != nil {
		return err
	}
	noticeCtx := account.Notify(ctx, s.Notices, userID, account.Notice{Kind: account.NoticeIdPUnlinked, At: s.Now(), Detail: map[string]string{"provider": p.Name}})
	if err := s.Store.DeleteIdentityLink(noticeCtx, userID, idpID, LastMethodMessage); account.ErrorCode(err) == account.ENOTFOUND {
		return notLinked
	} else if err != nil {
		return err
	}
	s.record(ctx, userID, account.EventIdPUnlinked, p, nil)
	return nil
}
