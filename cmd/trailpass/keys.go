package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"

	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/mfa"
	"github.com/trailpass/trailpass/internal/store"
)

// sealedColumns lists every column holding keyring ciphertexts, with the
// binding each row's value was sealed to (the capability packages own those).
func sealedColumns() []store.SealedColumn {
	byID := func(f func(int64) string) func(string) string {
		return func(k string) string {
			id, _ := strconv.ParseInt(k, 10, 64)
			return f(id)
		}
	}
	return []store.SealedColumn{
		{Table: "mfa_factors", Key: "user_id", Column: "secret_ciphertext", Binding: byID(mfa.FactorBinding)},
		{Table: "mfa_setups", Key: "user_id", Column: "secret_ciphertext", Binding: byID(mfa.SetupBinding)},
		{Table: "identity_providers", Key: "id", Column: "client_secret", Binding: byID(idp.ClientSecretBinding)},
		{Table: "oidc_states", Key: "state_hash", Column: "code_verifier", Binding: idp.VerifierBinding},
	}
}

// keysRotate re-encrypts every secret at rest with the current master key
// (TRAILPASS_SECRET_KEY, or the data directory's key file), reading old values
// with TRAILPASS_OLD_SECRET_KEYS. Afterwards the old keys can be dropped, but
// for one thing: backup codes are kept as MACs under a key derived from the
// master key, and a MAC cannot be re-keyed without the code. Codes made under
// an old key keep working while that key stays in TRAILPASS_OLD_SECRET_KEYS and
// stop working once it goes; the command says how many are left, so the
// operator can wait for those users to regenerate (or tell them to).
func (e env) keysRotate(ctx context.Context, args []string) error {
	cfg, err := e.loadConfig(flag.NewFlagSet("keys rotate", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	if len(cfg.OldSecretKeys) == 0 {
		return errors.New("keys rotate: set TRAILPASS_OLD_SECRET_KEYS to the key(s) being retired and TRAILPASS_SECRET_KEY to the new one")
	}
	logger := newLogger(e.stderr, cfg.LogLevel)
	keyring, err := loadKeyring(cfg, logger)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := checkKeyring(ctx, st, keyring); err != nil {
		return err
	}
	n, err := st.Reseal(ctx, sealedColumns(), keyring.Reseal)
	if err != nil {
		return fmt.Errorf("keys rotate: %w (values already rewritten stay valid with the new key)", err)
	}
	// From now on the old keys may be dropped: the check value must open with
	// the new key alone.
	if err := st.SetMeta(ctx, keyCheckName, keyring.KeyCheck(), timeNow()); err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	codes, users, err := st.CountBackupCodesNotUnder(ctx, keyring.PrimaryCodeMACPrefix())
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	if codes == 0 {
		fmt.Fprintf(e.stdout, "re-encrypted %d secret(s) with key %s; the old keys can now be removed\n", n, keyring.PrimaryKeyID())
		return nil
	}
	fmt.Fprintf(e.stdout, "re-encrypted %d secret(s) with key %s\n", n, keyring.PrimaryKeyID())
	fmt.Fprintf(e.stdout, "%d unused backup code(s) of %d user(s) were made under an old key and cannot be re-keyed: "+
		"they work while TRAILPASS_OLD_SECRET_KEYS holds that key and stop working when it is removed; "+
		"run keys rotate again to see how many remain after those users regenerate their codes\n", codes, users)
	return nil
}
