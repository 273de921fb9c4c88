package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/signup"
	"github.com/trailpass/trailpass/internal/testkit"
)

func signUpBody(username string) map[string]any {
	return map[string]any{"name": "New " + username, "username": username, "email": username + "@example.org",
		"password": "Sign!Up-pass9", "preferred_language": "us", "city": "Porto", "gender": 2, "units": 1,
		"first_day_of_week": 1, "currency": 1}
}

func TestSignUp_EachCombinationOfSettings(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		smtp := e.EnableMail()
		verifiedUser(t, e, "boss") // a regular user: no approval mail for them
		root, err := e.Accounts.CreateUser(context.Background(), account.NewUser{Username: "root", Email: "root@example.com",
			Password: httpapitest.Password, Admin: true, EmailVerified: true})
		if err != nil {
			t.Fatal(err)
		}
		admin := e.NewClient("web")
		admin.MustLogin("root")
		set := func(enabled, verify, approve bool) {
			t.Helper()
			r := admin.Do("PUT", "/api/v1/server_settings", map[string]any{"signup_enabled": enabled,
				"signup_require_email_verification": verify, "signup_require_admin_approval": approve})
			if r.Status != 200 {
				t.Fatalf("settings: %d %s", r.Status, r.Body)
			}
		}
		anon := e.NewClient("web")
		login := func(username string) *httpapitest.Response {
			return e.NewClient("mobile").Login(username, "Sign!Up-pass9")
		}
		n := 0
		for _, tc := range []struct {
			enabled, verify, approve bool
		}{{false, false, false}, {false, true, true}, {true, false, false}, {true, true, false}, {true, false, true}, {true, true, true}} {
			t.Run(fmt.Sprintf("enabled=%v,verify=%v,approve=%v", tc.enabled, tc.verify, tc.approve), func(t *testing.T) {
				set(tc.enabled, tc.verify, tc.approve)
				n++
				name := fmt.Sprintf("newbie%d", n)
				before := len(e.DeliverMail())
				r := anon.Do("POST", "/api/v1/sign-up/request", signUpBody(name))
				if !tc.enabled {
					if r.Status != 403 || r.Detail() != signup.MsgDisabled {
						t.Fatalf("disabled: %d %s", r.Status, r.Body)
					}
					if _, err := e.Store.FindUserByUsername(context.Background(), name); err == nil {
						t.Fatal("an account was created while sign-up is off")
					}
					return
				}
				if r.Status != 201 {
					t.Fatalf("sign-up: %d %s", r.Status, r.Body)
				}
				body := r.JSON(t)
				want := signup.MsgCreated
				if tc.verify {
					want += signup.MsgEmailSent
				}
				if tc.approve {
					want += signup.MsgPendingApproval
				}
				if !tc.verify && !tc.approve {
					want += signup.MsgCanLogIn
				}
				if body["message"] != want || (body["email_verification_required"] == true) != tc.verify || (body["admin_approval_required"] == true) != tc.approve {
					t.Fatalf("answer: %s", r.Body)
				}
				u, err := e.Store.FindUserByUsername(context.Background(), name)
				if err != nil || u.City == nil || *u.City != "Porto" || u.Gender != 2 || u.AccessType != account.AccessRegular {
					t.Fatalf("stored account: %+v %v", u, err)
				}
				msgs := e.DeliverMail()[before:]
				var verifyMail, approvalMail int
				var link string
				for _, m := range msgs {
					switch {
					case m.To[0] == name+"@example.org" && strings.Contains(m.Subject, "Confirm your email"):
						verifyMail++
						link = m.Link("/verify-email?token=")
					case m.To[0] == "root@example.com" && strings.Contains(m.Subject, "waits for your approval"):
						approvalMail++
					default:
						t.Fatalf("unexpected mail %q to %v", m.Subject, m.To)
					}
				}
				if tc.verify != (verifyMail == 1) || verifyMail > 1 {
					t.Fatalf("verification mails: %d", verifyMail)
				}
				if wantApproval := tc.approve && !tc.verify; wantApproval != (approvalMail == 1) || approvalMail > 1 {
					t.Fatalf("approval mails at sign-up: %d", approvalMail)
				}
				if !tc.verify && !tc.approve {
					if r := login(name); r.Status != 200 {
						t.Fatalf("sign-in: %d %s", r.Status, r.Body)
					}
					return
				}
				if tc.verify {
					if r := login(name); r.Status != 403 || r.Detail() != account.MsgEmailNotVerifiedLogin {
						t.Fatalf("sign-in before verifying: %d %s", r.Status, r.Body)
					}
					if !strings.HasPrefix(link, e.URL+"/verify-email?token=") {
						t.Fatalf("link %q", link)
					}
					before = len(e.SMTP.Messages())
					r := anon.Do("POST", "/api/v1/sign-up/confirm", map[string]string{"token": tokenOf(t, link)})
					wantMsg := signup.MsgEmailVerified + signup.MsgCanLogIn
					if tc.approve {
						wantMsg = signup.MsgEmailVerified + signup.MsgNowPendingApproval
					}
					if r.Status != 200 || r.JSON(t)["message"] != wantMsg {
						t.Fatalf("confirm: %d %s", r.Status, r.Body)
					}
					if r := anon.Do("POST", "/api/v1/sign-up/confirm", map[string]string{"token": tokenOf(t, link)}); r.Status != 400 || r.Detail() != signup.MsgBadTokenText {
						t.Fatalf("second confirm: %d %s", r.Status, r.Body)
					}
					msgs := e.DeliverMail()[before:]
					if tc.approve && (len(msgs) != 1 || msgs[0].To[0] != "root@example.com") {
						t.Fatalf("approval mail after verifying: %d", len(msgs))
					}
					if !tc.approve {
						if len(msgs) != 0 {
							t.Fatalf("mail after verifying: %d", len(msgs))
						}
						if r := login(name); r.Status != 200 {
							t.Fatalf("sign-in after verifying: %d %s", r.Status, r.Body)
						}
						return
					}
				}
				// Waiting for approval: refused, saying why.
				if r := login(name); r.Status != 403 || r.Detail() != account.MsgPendingApprovalLogin {
					t.Fatalf("sign-in while pending: %d %s", r.Status, r.Body)
				}
				before = len(e.SMTP.Messages())
				if r := admin.Do("PUT", "/api/v1/users/"+itoa(u.ID)+"/approve", nil); r.Status != 200 {
					t.Fatalf("approve: %d %s", r.Status, r.Body)
				}
				msgs = e.DeliverMail()[before:]
				if len(msgs) != 1 || msgs[0].To[0] != name+"@example.org" || !strings.Contains(msgs[0].Subject, "is ready") {
					t.Fatalf("welcome mail: %d", len(msgs))
				}
				// Approving again sends nothing more.
				admin.Do("PUT", "/api/v1/users/"+itoa(u.ID)+"/approve", nil)
				if got := e.DeliverMail(); len(got) != before+1 {
					t.Fatalf("second approval sent mail")
				}
				if r := login(name); r.Status != 200 {
					t.Fatalf("sign-in after approval: %d %s", r.Status, r.Body)
				}
			})
		}
		_ = root
		_ = smtp
	})
}

func TestSignUp_RulesAndLimits(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		admin := e.NewClient("web")
		e.CreateUser("root", true)
		admin.MustLogin("root")
		admin.Do("PUT", "/api/v1/server_settings", map[string]any{"signup_enabled": true, "signup_require_email_verification": true})
		anon := e.NewClient("web")
		// Verification required but no mail server: refused, nothing created.
		r := anon.Do("POST", "/api/v1/sign-up/request", signUpBody("nomail"))
		if r.Status != 403 || r.Detail() != account.MsgEmailNotConfigured {
			t.Fatalf("without SMTP: %d %s", r.Status, r.Body)
		}
		if r := anon.Do("POST", "/api/v1/sign-up/confirm", map[string]string{"token": "x"}); r.Status != 403 {
			t.Fatalf("confirm without SMTP: %d %s", r.Status, r.Body)
		}
		admin.Do("PUT", "/api/v1/server_settings", map[string]any{"signup_require_email_verification": false})
		if r := anon.Do("POST", "/api/v1/sign-up/confirm", map[string]string{"token": "x"}); r.Status != 412 || r.Detail() != signup.MsgVerificationDisabled {
			t.Fatalf("confirm with verification off: %d %s", r.Status, r.Body)
		}
		// The fields pass PUT /profile's checks; every problem is listed.
		bad := signUpBody("bad")
		bad["gender"] = 9
		bad["password"] = "weak"
		bad["email"] = "not-an-address"
		r = anon.Do("POST", "/api/v1/sign-up/request", bad)
		if r.Status != 422 || !strings.Contains(string(r.Body), "gender") || !strings.Contains(string(r.Body), "password") || !strings.Contains(string(r.Body), "email") {
			t.Fatalf("bad fields: %d %s", r.Status, r.Body)
		}
		for _, body := range []string{`{}`, `[]`, `{"name":"x","username":"y","email":"y@example.org"}`} {
			if r := anon.Do("POST", "/api/v1/sign-up/request", body); r.Status != 422 {
				t.Fatalf("%s: %d %s", body, r.Status, r.Body)
			}
		}
		if r := anon.Do("POST", "/api/v1/sign-up/request", signUpBody("root")); r.Status != 409 {
			t.Fatalf("taken username: %d %s", r.Status, r.Body)
		}
		// Throttled per address.
		for i := 0; ; i++ {
			r := anon.Do("POST", "/api/v1/sign-up/request", signUpBody(fmt.Sprintf("spam%d", i)))
			if r.Status == 429 {
				break
			}
			if i > 10 {
				t.Fatalf("sign-up never throttled")
			}
		}
	})
}
