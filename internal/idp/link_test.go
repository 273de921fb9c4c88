package idp_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// beginLink starts a link flow for userID and plays the browser at the provider.
func (e *env) beginLink(t *testing.T, userID int64, idpID int64) *flow {
	t.Helper()
	u, b, err := e.svc.BeginLink(ctx, account.Operator(), userID, e.session(t, userID), idpID)
	if err != nil {
		t.Fatalf("begin link: %v", err)
	}
	f := &flow{authURL: u, binding: b}
	f.code, f.state = e.op.Authorize(t, u)
	return f
}

func TestLink_ListAndUnlink(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		carol := e.passwordUser(t, "carol", "carol@example.com")
		// The provider's email differs and is unverified: link mode does not care.
		e.op.QueueUser("sub-carol", "carol-idp", "someone@else.example", false)
		out, err := e.finish(e.beginLink(t, carol.ID, e.prov.ID), e.prov.Slug)
		if err != nil {
			t.Fatalf("link callback: %v", err)
		}
		if out.Mode != idp.ModeLink || out.UserID != carol.ID || !strings.HasPrefix(out.SessionID, "s-") ||
			out.ProviderName != e.prov.Name || out.Created {
			t.Fatalf("outcome = %+v", out)
		}
		links, err := e.svc.ListLinks(ctx, carol.ID)
		if err != nil || len(links) != 1 {
			t.Fatalf("links = %+v, %v", links, err)
		}
		l := links[0]
		if l.IdPID != e.prov.ID || l.IdPName != e.prov.Name || l.IdPSlug != "mock" || l.IdPSubject != "sub-carol" ||
			!l.LinkedAt.Equal(e.clock.Now()) || l.UserID != carol.ID {
			t.Fatalf("link = %+v", l)
		}

		// Linking again is refused up front.
		_, _, err = e.svc.BeginLink(ctx, account.Operator(), carol.ID, "s", e.prov.ID)
		wantCode(t, err, account.ECONFLICT)
		wantMessage(t, err, "Identity provider Mock mock is already linked to your account")

		// The linked identity now signs carol in.
		e.op.QueueUser("sub-carol", "carol-idp", "someone@else.example", false)
		if got := e.login(t); got.UserID != carol.ID {
			t.Fatalf("sso login signed in %d, want carol %d", got.UserID, carol.ID)
		}

		// Carol has a password, so she may unlink her only provider.
		if err := e.svc.Unlink(ctx, account.Operator(), carol.ID, e.prov.ID); err != nil {
			t.Fatalf("unlink: %v", err)
		}
		if links, _ := e.svc.ListLinks(ctx, carol.ID); len(links) != 0 {
			t.Fatalf("links after unlink = %+v", links)
		}
		err = e.svc.Unlink(ctx, account.Operator(), carol.ID, e.prov.ID)
		wantCode(t, err, account.ENOTFOUND)
		wantMessage(t, err, "Identity provider Mock mock is not linked to your account")
		err = e.svc.Unlink(ctx, account.Operator(), carol.ID, 9999)
		wantCode(t, err, account.ENOTFOUND)
		wantMessage(t, err, "Identity provider with id 9999 not found")
		if ev := eventTypes(t, st, carol.ID); ev[account.EventIdPLinked] != 1 || ev[account.EventIdPUnlinked] != 1 {
			t.Fatalf("events = %v", ev)
		}
	})
}

func TestLink_IdentityOfAnotherAccount(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.op.QueueUser("sub-dave", "dave", "dave@example.com", true)
		dave := e.login(t)
		carol := e.passwordUser(t, "carol", "carol@example.com")

		e.op.QueueUser("sub-dave", "dave", "dave@example.com", true)
		out, err := e.finish(e.beginLink(t, carol.ID, e.prov.ID), e.prov.Slug)
		wantCode(t, err, account.ECONFLICT)
		if out == nil || out.Mode != idp.ModeLink || out.UserID != 0 {
			t.Fatalf("outcome on conflict = %+v, want link mode without user", out)
		}
		if links, _ := e.svc.ListLinks(ctx, carol.ID); len(links) != 0 {
			t.Fatalf("carol's links = %+v", links)
		}
		links, _ := e.svc.ListLinks(ctx, dave.UserID)
		if len(links) != 1 || links[0].IdPSubject != "sub-dave" {
			t.Fatalf("dave's links = %+v", links)
		}
		if ev := eventTypes(t, st, carol.ID); ev[account.EventIdPLinked] != 0 {
			t.Fatalf("carol's events = %v", ev)
		}
	})
}

func TestBeginLink_UnknownOrDisabled(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		carol := e.passwordUser(t, "carol", "carol@example.com")
		off := e.addProvider(t, "off", func(in *idp.ProviderInput) { in.Enabled = false })
		for _, id := range []int64{off.ID, 4242} {
			_, _, err := e.svc.BeginLink(ctx, account.Operator(), carol.ID, "s", id)
			wantCode(t, err, account.ENOTFOUND)
			wantMessage(t, err, "Identity provider not found or disabled")
		}
	})
}

func TestUnlink_LastMethodGuard(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.op.QueueUser("sub-erin", "erin", "erin@example.com", true)
		erin := e.login(t).UserID

		err := e.svc.Unlink(ctx, account.Operator(), erin, e.prov.ID)
		wantCode(t, err, account.EINVALID)
		wantMessage(t, err, idp.LastMethodMessage)
		if links, _ := e.svc.ListLinks(ctx, erin); len(links) != 1 {
			t.Fatalf("links after refused unlink = %+v", links)
		}

		// With a second provider linked, one of the two may go, then not the other.
		second := e.addProvider(t, "second", nil)
		e.op.QueueUser("sub-erin-2", "erin", "erin@example.com", true)
		if _, err := e.finish(e.beginLink(t, erin, second.ID), second.Slug); err != nil {
			t.Fatalf("link second: %v", err)
		}
		if err := e.svc.Unlink(ctx, account.Operator(), erin, e.prov.ID); err != nil {
			t.Fatalf("unlink with another link left: %v", err)
		}
		wantCode(t, e.svc.Unlink(ctx, account.Operator(), erin, second.ID), account.EINVALID)

		// Once she sets a password, the last link may go too.
		if _, err := e.accounts.ResetPassword(ctx, account.Operator(), erin, "Another-pass-2", ""); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Unlink(ctx, account.Operator(), erin, second.ID); err != nil {
			t.Fatalf("unlink with password: %v", err)
		}
	})
}

// Two concurrent unlinks of an SSO-only account's two links must not remove both.
func TestUnlink_ConcurrentKeepsOneMethod(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.op.QueueUser("sub-finn", "finn", "finn@example.com", true)
		finn := e.login(t).UserID
		second := e.addProvider(t, "second", nil)
		e.op.QueueUser("sub-finn-2", "finn", "finn@example.com", true)
		if _, err := e.finish(e.beginLink(t, finn, second.ID), second.Slug); err != nil {
			t.Fatalf("link second: %v", err)
		}
		for round := range 5 {
			errs := make(chan error, 2)
			for _, id := range []int64{e.prov.ID, second.ID} {
				go func() { errs <- e.svc.Unlink(ctx, account.Operator(), finn, id) }()
			}
			e1, e2 := <-errs, <-errs
			links, _ := e.svc.ListLinks(ctx, finn)
			if len(links) != 1 || (e1 == nil) == (e2 == nil) {
				t.Fatalf("round %d: errors %v / %v, links %d; want exactly one unlink", round, e1, e2, len(links))
			}
			// Relink the removed provider for the next round.
			gone := e.prov
			if links[0].IdPID == e.prov.ID {
				gone = second
			}
			e.op.QueueUser(fmt.Sprintf("sub-finn-r%d", round), "finn", "finn@example.com", true)
			if _, err := e.finish(e.beginLink(t, finn, gone.ID), gone.Slug); err != nil {
				t.Fatalf("relink: %v", err)
			}
		}
	})
}
