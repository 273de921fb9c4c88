package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/trailpass/trailpass/internal/account"
)

// Errors that mean the database cannot be reached become EUNAVAILABLE (503);
// others pass through unchanged.
func TestMapErr_UnreachableDatabaseIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, err := range []error{
		driver.ErrBadConn,
		fmt.Errorf("query: %w", refused),
		fmt.Errorf("read: %w", io.ErrUnexpectedEOF),
		fmt.Errorf("ping: %w", context.DeadlineExceeded),
		syscall.ECONNRESET,
	} {
		if got := account.ErrorCode(mapErr(err)); got != account.EUNAVAILABLE {
			t.Errorf("mapErr(%v) code = %q, want EUNAVAILABLE", err, got)
		}
	}
	plain := errors.New("syntax error")
	if got := mapErr(plain); got != plain {
		t.Errorf("mapErr changed an unrelated error: %v", got)
	}
}
