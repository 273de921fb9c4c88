package portability

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

// dataWorkers is how many data entries the first pass reads at once:
// decoding wants CPUs, so as many as there are, up to four (read when an
// import starts: GOMAXPROCS may follow a cgroup limit). Each worker holds one
// row and one entry's buffers; entries large enough to hold a row near
// MaxRowBytes are read alone (see validate), so a hostile archive's peak is
// what it was with one reader. Staging a file mostly waits on its fsync,
// which the file system commits together for concurrent writers (1,000 files:
// 1.2 s one after another, 0.19 s four at once): fileWorkers.
func dataWorkers() int { return max(1, min(4, runtime.GOMAXPROCS(0))) }

const fileWorkers = 4

// task is the first pass's work on one entry: either work, which runs on a
// worker and returns what to apply to the run once every earlier entry is
// applied, or inline, which runs alone once every earlier entry is applied
// (entries whose checks write the run's state: gear, activities, media rows).
type task struct {
	work   func(ctx context.Context) (apply func() error, err error)
	inline func() error
}

// ordered runs n tasks, made in entry order by next, at most workers at
// once, and applies their results in entry order. The error is the first by
// entry order, as one entry after another would give: when an entry fails,
// later entries being read are cancelled and their outcome ignored.
func (ru *run) ordered(n, workers int, next func(i int) task) error {
	ctx, cancel := context.WithCancel(ru.ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	type slot struct {
		done  chan struct{}
		apply func() error
		err   error
	}
	var pending []*slot
	applyFirst := func() error {
		s := pending[0]
		pending = pending[1:]
		<-s.done
		if s.err != nil {
			return s.err
		}
		if s.apply != nil {
			return s.apply()
		}
		return nil
	}
	drain := func() error {
		for len(pending) > 0 {
			if err := applyFirst(); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range n {
		if err := ru.ctx.Err(); err != nil {
			return err
		}
		t := next(i)
		if t.work == nil {
			if err := drain(); err != nil {
				return err
			}
			if t.inline != nil {
				if err := t.inline(); err != nil {
					return err
				}
			}
			continue
		}
		if len(pending) >= workers {
			if err := applyFirst(); err != nil {
				return err
			}
		}
		s := &slot{done: make(chan struct{})}
		pending = append(pending, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(s.done)
			// The request's recover does not reach this goroutine: a bug met
			// on a hostile archive must fail the import, not the server.
			defer func() {
				if v := recover(); v != nil {
					s.err = fmt.Errorf("import: reading an entry panicked: %v\n%s", v, debug.Stack())
				}
			}()
			s.apply, s.err = t.work(ctx)
		}()
	}
	return drain()
}
