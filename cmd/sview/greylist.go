package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/badline"
	"github.com/sview-project/sview/internal/greylist"
	"github.com/sview-project/sview/internal/leak"
	"github.com/sview-project/sview/internal/store"
)

// maxShownBadLines bounds the bad lines an import prints; the count is always complete.
const maxShownBadLines = 50

func cmdGreylist(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New("greylist: want build or export")
	}
	switch args[0] {
	case "build":
		return greylistBuild(ctx, e, args[1:])
	case "export":
		return greylistExport(ctx, e, args[1:])
	}
	return fmt.Errorf("greylist: unknown subcommand %q: want build or export", args[0])
}

func greylistBuild(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("greylist build")
	minProbes := fs.Int("min-probes", greylist.DefaultMinProbes, "distinct probes an address must have hit")
	days := fs.Int("days", greylist.DefaultDays, fmt.Sprintf("window in days, ending now (1 to %d)", greylist.MaxDays))
	if _, err := parseAll(fs, args, 0); err != nil {
		return err
	}
	// Build reads zero as "the default"; on the command line zero is a mistake.
	if *minProbes < 1 || *days < 1 {
		return fmt.Errorf("greylist build: --min-probes %d, --days %d: want 1 or more", *minProbes, *days)
	}
	pool, err := openPool(ctx, e, "sview-greylist")
	if err != nil {
		return err
	}
	defer pool.Close()
	res, err := greylist.Build(ctx, pool, greylist.Options{MinProbes: *minProbes, Days: *days, Logger: e.logger})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "greylist %s: %d addresses (%d added, %d removed) from %s to %s in %s\n",
		res.Day.Format(time.DateOnly), res.Entries, res.Added, res.Removed,
		res.From.Format(time.RFC3339), res.To.Format(time.RFC3339), res.Duration.Round(time.Millisecond))
	return nil
}

func greylistExport(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("greylist export")
	date := fs.String("date", "", "export the snapshot of this day (YYYY-MM-DD) instead of the current list")
	out := fs.String("out", "", "write to FILE (replaced atomically) instead of standard output")
	if _, err := parseAll(fs, args, 0); err != nil {
		return err
	}
	var day time.Time
	if *date != "" {
		var err error
		if day, err = time.Parse(time.DateOnly, *date); err != nil {
			return fmt.Errorf("greylist export: --date %q: want YYYY-MM-DD", *date)
		}
	}
	pool, err := openPool(ctx, e, "sview-greylist")
	if err != nil {
		return err
	}
	defer pool.Close()
	var entries []greylist.Entry
	if day.IsZero() {
		entries, err = greylist.List(ctx, pool, greylist.Filter{})
	} else {
		entries, err = greylist.Snapshot(ctx, pool, day, nil)
	}
	if err != nil {
		return err
	}
	if *out == "" {
		return greylist.WriteCSV(e.stdout, entries)
	}
	if err := writeFileAtomic(*out, func(w io.Writer) error { return greylist.WriteCSV(w, entries) }); err != nil {
		return fmt.Errorf("greylist export: %w", err)
	}
	e.logger.Info("greylist exported", "file", *out, "entries", len(entries))
	return nil
}

func importGreylist(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("import greylist")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: sview import greylist FILE|-")
		fmt.Fprintln(e.stderr, "  layout detected by the header: Address,Tags or the legacy Address,Country,Tags,ASN")
	}
	pos, err := parseAll(fs, args, 1)
	if err != nil {
		return err
	}
	name := pos[0]
	r, pool, done, err := openImport(ctx, e, name)
	if err != nil {
		return err
	}
	defer done()
	res, err := greylist.Import(ctx, pool, r, name, e.logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s (%s): %d lines, %d loaded, %d addresses upserted, %d bad\n",
		name, res.Layout, res.Lines, res.Loaded, res.Upserted, res.Bad)
	printBadLines(e, name, res.BadLines, res.Bad)
	return nil
}

func importPwned(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("import pwned")
	format := fs.String("format", "auto", "auto, csv (count,password,sources) or hibp (SUFFIX:COUNT range file)")
	prefix := fs.String("prefix", "", "5-hex prefix of an HIBP range file (default: from a file name like ABCDE.txt)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: sview import pwned [--format auto|csv|hibp] [--prefix ABCDE] FILE|-")
		fs.PrintDefaults()
	}
	pos, err := parseAll(fs, args, 1)
	if err != nil {
		return err
	}
	name := pos[0]
	f, err := leak.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("import pwned: %w", err)
	}
	if *prefix == "" {
		*prefix, _ = leak.PrefixFromFileName(name)
	}
	r, pool, done, err := openImport(ctx, e, name)
	if err != nil {
		return err
	}
	defer done()
	res, err := leak.Import(ctx, pool, r, leak.ImportOptions{
		ScanOptions: leak.ScanOptions{Format: f, Prefix: *prefix},
		Source:      name,
		Logger:      e.logger,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s (%s): %d lines, %d loaded, %d hashes merged, %d padding skipped, %d bad\n",
		name, res.Format, res.Lines, res.Loaded, res.Hashes, res.Padding, res.Bad)
	printBadLines(e, name, res.BadLines, res.Bad)
	return nil
}

// cmdLeak runs the leaked-password builder once and answers lookups; `sview run` schedules the
// same builder. It is wired in commands() as "leak".
func cmdLeak(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New("leak: want build or lookup")
	}
	switch args[0] {
	case "build":
		fs := e.newFlags("leak build")
		grace := fs.Duration("grace", leak.DefaultGrace, "leave passwords younger than this for the next run")
		if _, err := parseAll(fs, args[1:], 0); err != nil {
			return err
		}
		pool, err := openPool(ctx, e, "sview-leak")
		if err != nil {
			return err
		}
		defer pool.Close()
		res, err := leak.Build(ctx, pool, leak.Options{Grace: *grace, Logger: e.logger})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "leak build: %d raw rows hashed into %d hashes, %s to %s, in %s\n",
			res.Rows, res.Hashes, res.From.Format(time.RFC3339), res.To.Format(time.RFC3339), res.Duration.Round(time.Millisecond))
		return nil
	case "lookup":
		fs := e.newFlags("leak lookup")
		fs.Usage = func() { fmt.Fprintln(e.stderr, "usage: sview leak lookup PREFIX (1 to 40 hex characters of a SHA-1)") }
		pos, err := parseAll(fs, args[1:], 1)
		if err != nil {
			return err
		}
		pool, err := openPool(ctx, e, "sview-leak")
		if err != nil {
			return err
		}
		defer pool.Close()
		recs, err := leak.ByPrefix(ctx, pool, pos[0])
		if err != nil {
			return err
		}
		for _, r := range recs {
			fmt.Fprintf(e.stdout, "%s %d %s\n", r.Hash, r.Count, strings.Join(r.Sources, ","))
		}
		return nil
	}
	return fmt.Errorf("leak: unknown subcommand %q: want build or lookup", args[0])
}

// printBadLines shows the first maxShownBadLines bad lines of an import on stderr.
func printBadLines(e *env, name string, kept []badline.Line, total int64) {
	badline.Print(e.stderr, name+": ", kept[:min(len(kept), maxShownBadLines)], total)
}

// parseAll parses flags placed before, between or after the positional arguments
// ("ingest sshd auth.log --follow") and returns the positional arguments, of which there must be
// exactly want. Everything after "--" is positional.
func parseAll(fs *flag.FlagSet, args []string, want int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if used := len(args) - fs.NArg(); used > 0 && args[used-1] == "--" {
			pos = append(pos, fs.Args()...)
			break
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != want {
		fs.Usage()
		return nil, fmt.Errorf("%s: want %d argument(s), got %d", fs.Name(), want, len(pos))
	}
	return pos, nil
}

// openPool connects to the configured database; app names the connections in pg_stat_activity.
func openPool(ctx context.Context, e *env, app string) (*pgxpool.Pool, error) {
	url, err := e.requireDatabase()
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, url, app)
}

// openImport opens the input of an import command, a file or standard input for "-", and the
// database it goes into; done closes both.
func openImport(ctx context.Context, e *env, name string) (r io.Reader, pool *pgxpool.Pool, done func(), err error) {
	closeFile := func() {}
	r = os.Stdin
	if name != "-" {
		f, err := os.Open(name) // #nosec G304 -- the file the operator names on the command line
		if err != nil {
			return nil, nil, nil, err // *PathError: "open NAME: reason"
		}
		r, closeFile = f, func() { _ = f.Close() } // read-only: nothing to lose on close
	}
	if pool, err = openPool(ctx, e, "sview-import"); err != nil {
		closeFile()
		return nil, nil, nil, err
	}
	return r, pool, func() { pool.Close(); closeFile() }, nil
}

// writeFileAtomic writes through a temporary file in the same directory and renames it over
// path, so a web server serving path never hands out half a list.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := write(tmp); err != nil {
		_ = tmp.Close() // the write error is the one to report; the file is removed
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close() // the chmod error is the one to report; the file is removed
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}
