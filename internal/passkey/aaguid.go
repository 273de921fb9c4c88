package passkey

import "encoding/hex"

// knownAuthenticators names a few common authenticator models by AAGUID, so
// the list of passkeys can say where each one lives. Unknown ones (and the
// all-zero AAGUID that "none" attestation often carries) stay unnamed.
var knownAuthenticators = map[string]string{
	"ea9b8d664d011d213ce4b6b48cb575d4": "Google Password Manager",
	"adce000235bcc60a648b0b25f1f05503": "Chrome on Mac",
	"08987058cadc4b81b6e130de50dcbe96": "Windows Hello",
	"9ddd1817af5a4672a2b93e3dd95000a9": "Windows Hello",
	"6028b017b1d44c02b4b3afcdafc96bb2": "Windows Hello",
	"fbfc3007154e4ecc8c0b6e020557d7bd": "iCloud Keychain",
	"bada5566a7aa401fbd9645619a55120d": "1Password",
	"d548826e79b4db40a3d811116f7e8349": "Bitwarden",
	"531126d6e717415c93203d9aa6981239": "Dashlane",
	"ee882879721c491397753dfcce97072a": "YubiKey 5 Series",
}

func authenticatorName(aaguid []byte) *string {
	if name, ok := knownAuthenticators[hex.EncodeToString(aaguid)]; ok {
		return &name
	}
	return nil
}
