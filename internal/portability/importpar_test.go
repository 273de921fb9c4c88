package portability

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A worker's panic fails the import with an error; it must not take the
// server down, and the entries before it are still applied in order.
func TestOrdered_WorkerPanicIsAnError(t *testing.T) {
	ru := &run{ctx: context.Background()}
	var applied []int
	err := ru.ordered(3, 2, func(i int) task {
		return task{work: func(context.Context) (func() error, error) {
			if i == 1 {
				panic("a bug met on hostile input")
			}
			return func() error { applied = append(applied, i); return nil }, nil
		}}
	})
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("err = %v, want the worker's panic as an error", err)
	}
	if len(applied) != 1 || applied[0] != 0 {
		t.Errorf("applied = %v, want only entry 0 (before the failing one)", applied)
	}
}

// The first error by entry order wins, whichever worker finishes first.
func TestOrdered_FirstErrorByEntryOrder(t *testing.T) {
	ru := &run{ctx: context.Background()}
	first, second := errors.New("entry 1"), errors.New("entry 2")
	release := make(chan struct{})
	err := ru.ordered(3, 3, func(i int) task {
		return task{work: func(ctx context.Context) (func() error, error) {
			switch i {
			case 1:
				<-release // finishes after entry 2 has failed
				return nil, first
			case 2:
				close(release)
				return nil, second
			}
			return nil, nil
		}}
	})
	if !errors.Is(err, first) {
		t.Fatalf("err = %v, want entry 1's", err)
	}
}
