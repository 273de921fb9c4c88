package idp_test

import (
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// An update changes only what it names, as Endurain's does: the web app's edit
// form never sends link_by_verified_email or user_mapping, and must not reset
// them (nor auto_create_users, nor the secret).
func TestAdmin_PartialUpdate(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		icon := "keycloak"
		post := idp.AuthPost
		no := false
		p := e.addProvider(t, "part", func(in *idp.ProviderInput) {
			in.AutoCreateUsers, in.SyncUserInfo, in.LinkByVerifiedEmail = &no, &no, true
			in.Icon, in.TokenEndpointAuthMethod = &icon, &post
			in.UserMapping = idp.UserMapping{"username": {"nickname"}}
		})
		_, sealed, _ := st.FindIdentityProvider(ctx, p.ID)

		// What the v0.16.2 edit form sends (no secret, no extras).
		got, err := e.svc.Update(ctx, p.ID, patch(t, map[string]any{"name": "Part two", "slug": "part", "provider_type": "oidc",
			"enabled": true, "issuer_url": e.op.Issuer(), "client_id": e.op.ClientID(), "scopes": "openid profile email",
			"icon": "keycloak", "auto_create_users": false, "sync_user_info": false}))
		if err != nil {
			t.Fatal(err)
		}
		stored, after, _ := st.FindIdentityProvider(ctx, p.ID)
		for _, v := range []*idp.Provider{&got.Provider, stored} {
			if v.Name != "Part two" || v.AutoCreateUsers || v.SyncUserInfo || !v.LinkByVerifiedEmail || v.Icon == nil ||
				v.TokenEndpointAuthMethod == nil || *v.TokenEndpointAuthMethod != idp.AuthPost ||
				len(v.UserMapping["username"]) != 1 || !v.HasClientSecret {
				t.Fatalf("form update lost fields: %+v", v)
			}
		}
		if after != sealed {
			t.Fatal("an update without a secret changed the stored secret")
		}

		// A single field; null clears the optional ones and keeps the secret.
		got, err = e.svc.Update(ctx, p.ID, patch(t, map[string]any{"icon": nil, "user_mapping": nil,
			"token_endpoint_auth_method": nil, "client_secret": nil}))
		if err != nil {
			t.Fatal(err)
		}
		stored, after, _ = st.FindIdentityProvider(ctx, p.ID)
		if stored.Icon != nil || stored.UserMapping != nil || stored.TokenEndpointAuthMethod != nil ||
			stored.Name != "Part two" || stored.AutoCreateUsers || !stored.LinkByVerifiedEmail || after != sealed {
			t.Fatalf("null patch: %+v (secret kept: %v)", stored, after == sealed)
		}
		if got.TokenEndpointAuthMethod != nil || got.Icon != nil {
			t.Fatalf("response after null patch: %+v", got)
		}

		// null for a required field is refused, naming the field; nothing changes.
		for _, f := range []string{"name", "slug", "enabled", "scopes", "auto_create_users", "client_id", "issuer_url", "link_by_verified_email"} {
			body := map[string]any{"name": "Changed", f: nil}
			_, err := e.svc.Update(ctx, p.ID, patch(t, body))
			wantCode(t, err, account.EUNPROCESSABLE)
			if fe := err.(*account.Error).Fields; len(fe) != 1 || fe[0].Field != f {
				t.Fatalf("null %s: fields %+v", f, fe)
			}
		}
		_, err = e.svc.Update(ctx, p.ID, patch(t, map[string]any{"token_endpoint_auth_method": "private_key_jwt"}))
		wantCode(t, err, account.EUNPROCESSABLE)
		if stored, _, _ := st.FindIdentityProvider(ctx, p.ID); stored.Name != "Part two" || stored.TokenEndpointAuthMethod != nil {
			t.Fatalf("a refused update changed the row: %+v", stored)
		}

		// A save based on a row that changed since it was read is refused.
		stale := *stored
		stale.Name = "Stale"
		err = st.UpdateIdentityProvider(ctx, &stale, stored.UpdatedAt.Add(-1e9), nil)
		wantCode(t, err, account.ECONFLICT)
		err = st.UpdateIdentityProvider(ctx, &stale, stored.UpdatedAt, nil)
		if err != nil {
			t.Fatalf("update from the current row: %v", err)
		}
	})
}

// Saving checks the provider's discovery document: an issuer the provider does
// not confirm is refused, an unreachable provider is saved with a warning.
func TestAdmin_SaveChecksDiscovery(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		base := func(slug, issuer string) idp.ProviderInput {
			return idp.ProviderInput{Name: slug, Slug: slug, Enabled: true, ClientID: e.op.ClientID(),
				ClientSecret: e.op.ClientSecret(), IssuerURL: issuer}
		}
		// The issuer with a trailing slash the provider does not use.
		_, err := e.svc.Create(ctx, base("slash", e.op.Issuer()+"/"))
		wantCode(t, err, account.EUNPROCESSABLE)
		fe := err.(*account.Error).Fields
		if len(fe) != 1 || fe[0].Field != "issuer_url" || !strings.Contains(fe[0].Message, `"`+e.op.Issuer()+`"`) {
			t.Fatalf("issuer mismatch: %+v", fe)
		}
		if _, err := e.svc.Update(ctx, e.prov.ID, patch(t, map[string]any{"issuer_url": e.op.Issuer() + "/",
			"client_secret": e.op.ClientSecret()})); account.ErrorCode(err) != account.EUNPROCESSABLE {
			t.Fatalf("update to a mismatching issuer: %v", err)
		}
		list, _ := e.svc.List(ctx)
		if len(list) != 1 || list[0].IssuerURL != e.op.Issuer() {
			t.Fatalf("a refused save left something behind: %+v", list)
		}

		// Not reachable yet: saved, with a warning.
		down := testkit.UnreachableURL(t)
		s, err := e.svc.Create(ctx, base("down", down))
		if err != nil {
			t.Fatal(err)
		}
		if s.ID == 0 || !strings.Contains(s.Warning, "could not be read") {
			t.Fatalf("unreachable provider: %+v", s)
		}
		if _, err := e.svc.Get(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		// A reachable, matching provider saves without a warning.
		s, err = e.svc.Update(ctx, e.prov.ID, patch(t, map[string]any{"name": "Fine"}))
		if err != nil || s.Warning != "" {
			t.Fatalf("clean update: %+v %v", s, err)
		}
		// An auth method the provider does not advertise is only a warning.
		e.op.AdvertiseAuthMethods(idp.AuthBasic)
		s, err = e.svc.Update(ctx, e.prov.ID, patch(t, map[string]any{"token_endpoint_auth_method": idp.AuthPost}))
		if err != nil || !strings.Contains(s.Warning, "client_secret_post") {
			t.Fatalf("unadvertised method: %+v %v", s, err)
		}
	})
}

// The token endpoint is called once per sign-in, in the style the client is
// registered for: no failed first attempt, no retry in the other style.
func TestLogin_TokenEndpointAuthMethod(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		loginCalls := func(slug string) (int, error) {
			before := e.op.TokenCalls()
			e.op.QueueUser("sub-"+slug, slug, slug+"@idp.example", true)
			_, err := e.finish(e.beginLogin(t, slug, ""), slug)
			return e.op.TokenCalls() - before, err
		}
		// Default: basic, which the provider accepts.
		if n, err := loginCalls("mock"); err != nil || n != 1 {
			t.Fatalf("basic sign-in: %d token calls, %v", n, err)
		}
		// A client registered for client_secret_post: basic fails, once, with
		// no retry in the other style.
		e.op.RejectBasicAuth(true)
		n, err := loginCalls("mock")
		wantCode(t, err, account.EUNAUTHORIZED)
		if n != 1 {
			t.Fatalf("refused basic: %d token calls", n)
		}
		if _, err := e.svc.Update(ctx, e.prov.ID, patch(t, map[string]any{"token_endpoint_auth_method": idp.AuthPost})); err != nil {
			t.Fatal(err)
		}
		if n, err := loginCalls("mock"); err != nil || n != 1 {
			t.Fatalf("post sign-in: %d token calls, %v", n, err)
		}
		// Unset, the method follows discovery: a provider advertising only post.
		e.op.AdvertiseAuthMethods(idp.AuthPost)
		e.addProvider(t, "postonly", nil)
		if n, err := loginCalls("postonly"); err != nil || n != 1 {
			t.Fatalf("discovered post sign-in: %d token calls, %v", n, err)
		}
	})
}

// A provider that cannot be reached is the provider's failure (EUPSTREAM, 502),
// never an internal error, and leaves nothing behind.
func TestLogin_UnreachableProvider(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		down := e.addProviderWarned(t, "down", func(in *idp.ProviderInput) { in.IssuerURL = testkit.UnreachableURL(t) })
		_, _, err := e.svc.BeginLogin(ctx, down.Slug, "")
		wantCode(t, err, account.EUPSTREAM)
		if !strings.Contains(account.ErrorMessage(err), "could not be reached") {
			t.Fatalf("message: %q", account.ErrorMessage(err))
		}
		_, _, err = e.svc.BeginLink(ctx, e.passwordUser(t, "ann", "ann@example.com").ID, "s", down.ID)
		wantCode(t, err, account.EUPSTREAM)

		// Discovery works, the token endpoint does not answer.
		tok := testkit.UnreachableURL(t) + "/token"
		dead := e.addProvider(t, "deadtoken", func(in *idp.ProviderInput) { in.TokenEndpoint = &tok })
		users, links, _ := e.counts(t)
		e.op.QueueUser("sub-dead", "dead", "dead@idp.example", true)
		_, err = e.finish(e.beginLogin(t, dead.Slug, ""), dead.Slug)
		wantCode(t, err, account.EUPSTREAM)
		u2, l2, states := e.counts(t)
		if u2 != users || l2 != links || states != 0 {
			t.Fatalf("left behind: users %d->%d links %d->%d states %d", users, u2, links, l2, states)
		}
	})
}

// email_verified vouches for the email claim only: an address the provider's
// mapping takes from another claim never links an account, nor counts as
// verified on a new one.
func TestLogin_MappedEmailNotTrusted(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		victim := e.passwordUser(t, "victim", "victim@corp.example")
		p := e.addProvider(t, "mapped", func(in *idp.ProviderInput) {
			in.LinkByVerifiedEmail = true
			in.UserMapping = idp.UserMapping{"email": {"preferred_username", "email"}}
		})
		// preferred_username is free text at many providers.
		e.op.QueueUser("sub-mallory", "victim@corp.example", "mallory@idp.example", true)
		_, err := e.finish(e.beginLogin(t, p.Slug, ""), p.Slug)
		wantCode(t, err, account.ECONFLICT)
		if links, _ := e.svc.ListLinks(ctx, victim.ID); len(links) != 0 {
			t.Fatalf("linked by a mapped email: %+v", links)
		}

		// The same address from the email claim links, as before (no
		// preferred_username, so the mapping falls through to email).
		e.op.QueueUser("sub-victim", "", "victim@corp.example", true)
		out, err := e.finish(e.beginLogin(t, p.Slug, ""), p.Slug)
		if err != nil || out.UserID != victim.ID || out.Created {
			t.Fatalf("verified email claim: %+v %v", out, err)
		}

		// A new account from a mapped address does not get a verified email.
		e.op.QueueUser("sub-newbie", "newbie@corp.example", "other@idp.example", true)
		out, err = e.finish(e.beginLogin(t, p.Slug, ""), p.Slug)
		if err != nil || !out.Created {
			t.Fatalf("auto-create: %+v %v", out, err)
		}
		u, _ := st.FindUserByID(ctx, out.UserID)
		if u.Email != "newbie@corp.example" || u.EmailVerified {
			t.Fatalf("new account email %q verified=%v", u.Email, u.EmailVerified)
		}
	})
}

// addProviderWarned is addProvider for a provider saved with a warning.
func (e *env) addProviderWarned(t *testing.T, slug string, edit func(*idp.ProviderInput)) *idp.Provider {
	t.Helper()
	in := idp.ProviderInput{Name: "Mock " + slug, Slug: slug, Enabled: true, ClientID: e.op.ClientID(),
		ClientSecret: e.op.ClientSecret(), IssuerURL: e.op.Issuer()}
	edit(&in)
	p, err := e.svc.Create(ctx, in)
	if err != nil || p.Warning == "" {
		t.Fatalf("create provider: %+v %v", p, err)
	}
	return &p.Provider
}
