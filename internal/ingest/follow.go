package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// follow reads a growing file like `tail -F`: it resumes at the offset in the ledger, waits for
// new lines, reads a truncated file again from its start, and moves to the new file when the
// path is replaced (log rotation), after reading what was left in the old one. Offsets are
// committed with the rows they cover.
func (r *runner) follow(ctx context.Context) error {
	path, err := filepath.Abs(r.opts.Path)
	if err != nil {
		return fmt.Errorf("follow %s: %w", r.opts.Path, err)
	}
	r.rep.Source = path
	if r.entry, err = claimFollow(ctx, r.conn, r.opts.Format, path); err != nil {
		return err
	}
	held, ok, err := lockEntry(ctx, r.conn, r.entry.ID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %w", path, ErrBusy)
	}
	defer held.Release(context.WithoutCancel(ctx))
	if err := r.parser.restore(r.entry.State); err != nil {
		return err
	}
	f, err := r.openWait(ctx, path)
	if f == nil {
		return err
	}
	defer func() { _ = r.f.Close() }() // read-only: nothing to lose on close
	r.f = f
	if r.entry.Offset > 0 {
		switch same, err := r.sameFile(); {
		case err != nil:
			return err
		case !same:
			r.restart()
		}
	}
	r.rep.StartLine = r.entry.Lines
	if _, err := f.Seek(r.entry.Offset, io.SeekStart); err != nil {
		return fmt.Errorf("seek %s: %w", path, err)
	}
	br := bufio.NewReaderSize(f, 1<<20)
	committed := r.entry.Offset
	r.lastCommit = time.Now()
	stop := func() error {
		// A normal stop: keep what was read. Open port-scan windows stay open in the ledger.
		if err := r.commit(ctx, false, r.parser.watermark()); err != nil {
			return err
		}
		return r.drain()
	}
	for {
		if err := r.readAll(ctx, br, false); err != nil {
			if ctx.Err() != nil {
				return stop()
			}
			return err
		}
		r.progress(false)
		// Windows may close with the passing of time alone.
		wm := r.parser.watermark()
		if now := r.opts.Now(); now.After(wm) {
			wm = now
		}
		r.parser.flush(r.batch, wm, false)
		if (r.batch.Len() > 0 || r.entry.Offset != committed) && time.Since(r.lastCommit) >= r.opts.FlushEvery {
			if err := r.commit(ctx, false, wm); err != nil {
				if ctx.Err() != nil {
					return stop()
				}
				return err
			}
			committed = r.entry.Offset
		}

		cur, err := r.f.Stat()
		if err != nil {
			return fmt.Errorf("follow %s: %w", path, err)
		}
		readPos := r.entry.Offset + int64(len(r.pending)) + r.dropped
		if st, err := os.Stat(path); err == nil && !os.SameFile(st, cur) {
			// Rotated: finish the old file (its last line is complete now), then switch.
			if err := r.readAll(ctx, br, true); err != nil {
				return err
			}
			if err := r.commit(ctx, false, r.parser.watermark()); err != nil {
				return err
			}
			nf, err := os.Open(path) // #nosec G304 -- the log file the operator asked to follow
			if err != nil {
				continue // gone again; look next time
			}
			_ = r.f.Close() // read-only, finished above
			r.f = nf
			r.restart()
			r.rep.Rotations++
			br.Reset(nf)
			committed = -1
			continue
		}
		if cur.Size() < readPos {
			// Truncated in place (copytruncate): read again from the start.
			if _, err := r.f.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("seek %s: %w", path, err)
			}
			r.restart()
			r.rep.Truncations++
			br.Reset(r.f)
			committed = -1
			continue
		}
		select {
		case <-ctx.Done():
			return stop()
		case <-time.After(r.opts.Poll):
		}
	}
}

// restart positions the ledger entry at the start of a new file.
func (r *runner) restart() {
	r.entry.Offset, r.entry.Lines, r.entry.HeadLen, r.entry.HeadSHA = 0, 0, 0, nil
	r.pending, r.dropped = r.pending[:0], 0
}

// sameFile reports whether the open file is the one the ledger offset belongs to: at least as
// long as the offset, and starting with the bytes fingerprinted then.
func (r *runner) sameFile() (bool, error) {
	st, err := r.f.Stat()
	if err != nil {
		return false, fmt.Errorf("follow %s: %w", r.opts.Path, err)
	}
	if st.Size() < r.entry.Offset {
		r.rep.Truncations++
		return false, nil
	}
	if r.entry.HeadLen == 0 {
		return true, nil
	}
	buf := make([]byte, r.entry.HeadLen)
	if _, err := r.f.ReadAt(buf, 0); err != nil {
		return false, fmt.Errorf("follow %s: %w", r.opts.Path, err)
	}
	sum := sha256.Sum256(buf)
	if !bytes.Equal(sum[:], r.entry.HeadSHA) {
		r.rep.Rotations++
		return false, nil
	}
	return true, nil
}

// openWait opens path, waiting for it to appear. It returns a nil file when ctx ends first.
func (r *runner) openWait(ctx context.Context, path string) (*os.File, error) {
	told := false
	for {
		f, err := os.Open(path) // #nosec G304 -- the log file the operator asked to follow
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("follow %s: %w", path, err)
		}
		if !told && r.opts.Progress != nil {
			fmt.Fprintf(r.opts.Progress, "ingest %s: waiting for %s to appear\n", r.opts.Format, path)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(r.opts.Poll):
		}
	}
}
