package portability

import (
	"fmt"

	"github.com/trailpass/trailpass/internal/account"
)

// Endurain's import error texts ({op} is "profile data import"), so clients that
// show the detail keep showing the same words; trailpass appends which entry and
// what is wrong.
const opImport = "profile data import"

func errFormat(format string, args ...any) error {
	return account.Errorf(account.EINVALID, "Invalid file format during %s. %s", opImport, fmt.Sprintf(format, args...))
}

func errStructure(format string, args ...any) error {
	return account.Errorf(account.EINVALID, "Invalid ZIP file structure during %s. %s", opImport, fmt.Sprintf(format, args...))
}

func errJSON(format string, args ...any) error {
	return account.Errorf(account.EINVALID, "JSON parsing error during %s. %s", opImport, fmt.Sprintf(format, args...))
}

func errSchema(format string, args ...any) error {
	return account.Errorf(account.EINVALID, "Schema validation error during %s. %s", opImport, fmt.Sprintf(format, args...))
}

func errTooLarge(format string, args ...any) error {
	return account.Errorf(account.ETOOLARGE, "File too large during %s. %s", opImport, fmt.Sprintf(format, args...))
}

func errTooMany(format string, args ...any) error {
	return account.Errorf(account.ETOOLARGE, "Too many activities during %s. %s", opImport, fmt.Sprintf(format, args...))
}

func errIntegrity(format string, args ...any) error {
	return account.Errorf(account.EUNPROCESSABLE, "Data integrity error during %s. %s", opImport, fmt.Sprintf(format, args...))
}

// errStorage is Endurain's FileSystemError text; the cause goes to the log only.
func errStorage(err error) error {
	return fmt.Errorf("%w: %w", account.Errorf(account.EINSUFFICIENT, "File system error during %s. Server storage may be full.", opImport), err)
}
