package idp_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

func TestAdmin_SecretNeverReturned(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, sealed, err := st.FindIdentityProvider(ctx, e.prov.ID)
		if err != nil || sealed == "" || strings.Contains(sealed, e.op.ClientSecret()) {
			t.Fatalf("stored secret %q is not a ciphertext (err %v)", sealed, err)
		}
		list, err := e.svc.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Get(ctx, e.prov.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []any{list, got, e.prov} {
			b, _ := json.Marshal(v)
			if strings.Contains(string(b), e.op.ClientSecret()) || strings.Contains(string(b), sealed) ||
				strings.Contains(string(b), `"client_secret"`) {
				t.Fatalf("JSON carries the secret: %s", b)
			}
			if !strings.Contains(string(b), `"has_client_secret":true`) || !strings.Contains(string(b), `"slug":"mock"`) {
				t.Fatalf("JSON lacks expected fields: %s", b)
			}
		}
	})
}

func TestAdmin_CreateValidatesAndRefusesDuplicateSlug(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, err := e.svc.Create(ctx, idp.ProviderInput{Name: "", Slug: "Bad Slug", ProviderType: "saml",
			IssuerURL: "ftp://x", Scopes: "profile email"})
		wantCode(t, err, account.EUNPROCESSABLE)
		fields := map[string]bool{}
		for _, f := range err.(*account.Error).Fields {
			fields[f.Field] = true
		}
		for _, f := range []string{"name", "slug", "provider_type", "client_id", "client_secret", "issuer_url", "scopes"} {
			if !fields[f] {
				t.Errorf("no field error for %s (got %v)", f, fields)
			}
		}
		_, err = e.svc.Create(ctx, idp.ProviderInput{Name: "Dup", Slug: "mock", ClientID: "c", ClientSecret: "s",
			IssuerURL: e.op.Issuer()})
		wantCode(t, err, account.ECONFLICT)

		p, err := e.svc.Create(ctx, idp.ProviderInput{Name: "Zed", Slug: "zed", ClientID: "c", ClientSecret: "s",
			IssuerURL: e.op.Issuer(), UserMapping: idp.UserMapping{"username": {"nickname"}}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Scopes != idp.DefaultScopes || p.ProviderType != idp.TypeOIDC || !p.AutoCreateUsers || !p.SyncUserInfo ||
			p.Enabled || p.LinkByVerifiedEmail {
			t.Fatalf("defaults not applied: %+v", p)
		}
		got, _ := e.svc.Get(ctx, p.ID)
		if len(got.UserMapping["username"]) != 1 || got.UserMapping["username"][0] != "nickname" {
			t.Fatalf("user_mapping round trip = %v", got.UserMapping)
		}
		// Update onto a taken slug.
		_, err = e.svc.Update(ctx, p.ID, patch(t, map[string]any{"name": "Zed", "slug": "mock"}))
		wantCode(t, err, account.ECONFLICT)
		_, err = e.svc.Update(ctx, 777, patch(t, map[string]any{"name": "Zed", "slug": "zzz"}))
		wantCode(t, err, account.ENOTFOUND)
	})
}

func TestAdmin_UpdateKeepsSecretAndDeleteGuard(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, before, _ := st.FindIdentityProvider(ctx, e.prov.ID)
		// Rename without a secret: the stored secret stays and sign-in still works
		// (mockoidc checks the secret at the token endpoint).
		p, err := e.svc.Update(ctx, e.prov.ID, patch(t, map[string]any{"name": "Renamed", "slug": "mock", "enabled": true,
			"client_id": e.op.ClientID(), "issuer_url": e.op.Issuer(), "link_by_verified_email": true}))
		if err != nil {
			t.Fatal(err)
		}
		_, after, _ := st.FindIdentityProvider(ctx, e.prov.ID)
		if p.Name != "Renamed" || !p.HasClientSecret || after != before {
			t.Fatalf("update lost the secret or the name: %+v", p)
		}
		out := e.login(t)
		if out.ProviderName != "Renamed" {
			t.Fatalf("outcome = %+v", out)
		}

		// A wrong new secret is used from then on: the exchange fails.
		if _, err := e.svc.Update(ctx, e.prov.ID, patch(t, map[string]any{"client_secret": "wrong"})); err != nil {
			t.Fatal(err)
		}
		_, err = e.finish(e.beginLogin(t, "mock", ""), "mock")
		wantCode(t, err, account.EUNAUTHORIZED)

		// Linked users block deletion; an unused provider goes.
		wantCode(t, e.svc.Delete(ctx, e.prov.ID), account.ECONFLICT)
		spare := e.addProvider(t, "spare", nil)
		if err := e.svc.Delete(ctx, spare.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Get(ctx, spare.ID)
		wantCode(t, err, account.ENOTFOUND)
		wantCode(t, e.svc.Delete(ctx, spare.ID), account.ENOTFOUND)
	})
}

func TestPublicListAndTemplates(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.addProvider(t, "off", func(in *idp.ProviderInput) { in.Enabled = false })
		pub, err := e.svc.PublicList(ctx)
		if err != nil || len(pub) != 1 || pub[0].Slug != "mock" || pub[0].ID != e.prov.ID {
			t.Fatalf("public list = %+v, %v", pub, err)
		}
		b, _ := json.Marshal(pub)
		if string(b) != `[{"id":`+jsonInt(e.prov.ID)+`,"name":"Mock mock","slug":"mock","icon":null}]` {
			t.Fatalf("public JSON = %s", b)
		}
	})
	ids := map[string]bool{}
	for _, tpl := range idp.Templates() {
		ids[tpl.TemplateID] = true
		if tpl.IssuerURL == "" || !strings.Contains(tpl.Scopes, "openid") || tpl.ConfigurationNotes == "" {
			t.Errorf("template %s incomplete: %+v", tpl.TemplateID, tpl)
		}
	}
	for _, id := range []string{"keycloak", "authentik", "authelia", "pocket-id", "generic-oidc"} {
		if !ids[id] {
			t.Errorf("no template %s", id)
		}
	}
}

func TestUserMappingJSON(t *testing.T) {
	var m idp.UserMapping
	if err := json.Unmarshal([]byte(`{"username":"nick","email":["mail","email"]}`), &m); err != nil {
		t.Fatal(err)
	}
	if len(m["username"]) != 1 || m["username"][0] != "nick" || len(m["email"]) != 2 || m["email"][1] != "email" {
		t.Fatalf("mapping = %v", m)
	}
	if err := json.Unmarshal([]byte(`{"username":3}`), &m); err == nil {
		t.Fatal("a number was accepted as a claim name")
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
