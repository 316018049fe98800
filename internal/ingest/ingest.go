// Package ingest loads probe reports into the raw tables: JSON lines of minipot, fwlogs and
// faillogs messages, the lines of an sshd auth.log, IDEA and IntelMQ events (feed_events) and
// HaaS sessions (incidents, passwords, commands). Rows are enriched with country and ASN
// from the geo prefixes and written with binary COPY in batches, one transaction per batch,
// together with a ledger checkpoint, so a file is counted once and a followed log resumes where
// it stopped. Bad lines are counted and reported with their numbers; they never stop an ingest.
package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/badline"
	"github.com/sview-project/sview/internal/geo"
)

// Options say what to ingest and how. Format and Path are required.
type Options struct {
	Format   string // one of Formats
	Path     string // a file, or "-" for Stdin
	Follow   bool   // keep reading a growing file like `tail -F` until ctx ends
	Probe    *Probe // sshd: the probe every line belongs to; haas: of sessions without sn/device_token
	Host     string // haas: without Probe, sessions without sn/device_token belong to HostProbe(Host) (default "haas")
	Year     int    // sshd: the year of classic syslog stamps; 0 infers it from Now
	Provider string // idea: feed_events.provider of every event ("" is NULL)

	Stdin         io.Reader        // read for Path "-" (default os.Stdin)
	Now           func() time.Time // default time.Now
	Geo           *geo.Table       // enrichment; nil loads geo_prefixes
	BatchRows     int              // rows per COPY transaction (default 100,000)
	MaxBad        int              // bad lines kept with their numbers (default badline.DefaultKeep)
	Progress      io.Writer        // periodic progress lines; nil for none
	ProgressEvery time.Duration    // default 2 s
	Poll          time.Duration    // follow: how often to look for new data (default 250 ms)
	FlushEvery    time.Duration    // follow: commit new data at least this often (default 1 s)
}

// Report is what an ingest did.
type Report struct {
	Format          string
	Source          string
	AlreadyIngested bool  // the same content was ingested before: nothing was done
	StartLine       int64 // lines before the first one read (resumed or continued), 0 from the start
	Lines           int64 // lines read by this run
	OK              int64 // lines that produced rows
	Bad             int64
	Skipped         int64          // blank lines and lines without data (e.g. other programs in an auth.log)
	BadLines        []badline.Line // the first Options.MaxBad bad lines
	Rows            Counts
	NewProbes       int
	Truncations     int // follow: the file shrank and was read again from its start
	Rotations       int // follow: the path was replaced by a new file
	Duration        time.Duration
}

// Summary writes the end-of-run account for operators.
func (r *Report) Summary(w io.Writer) {
	if r.AlreadyIngested {
		fmt.Fprintf(w, "ingest %s %s: already ingested (same content), nothing done\n", r.Format, r.Source)
		return
	}
	rate := 0.0
	if s := r.Duration.Seconds(); s > 0 {
		rate = float64(r.Lines) / s
	}
	fmt.Fprintf(w, "ingest %s %s: %d lines (%d ok, %d bad, %d skipped) in %s, %.0f lines/s\n",
		r.Format, r.Source, r.Lines, r.OK, r.Bad, r.Skipped, r.Duration.Round(time.Millisecond), rate)
	if r.StartLine > 0 {
		fmt.Fprintf(w, "  started after line %d (earlier imports of this source covered the lines before)\n", r.StartLine)
	}
	fmt.Fprintf(w, "  rows: %d incidents, %d passwords, %d ports, %d feed events, %d commands; %d new probes\n",
		r.Rows.Incidents, r.Rows.Passwords, r.Rows.Ports, r.Rows.FeedEvents, r.Rows.Commands, r.NewProbes)
	if r.Truncations+r.Rotations > 0 {
		fmt.Fprintf(w, "  followed through %d truncations and %d rotations\n", r.Truncations, r.Rotations)
	}
	badline.Print(w, "  ", r.BadLines, r.Bad)
}

// ErrBusy means another process is reading the same ledger entry right now.
var ErrBusy = errors.New("another process is ingesting this source")

// maxLine is the longest line read; longer ones are bad lines.
const maxLine = 1 << 20

// headMax is how many leading bytes of a followed file fingerprint it.
const headMax = 1024

// Run ingests opts.Path. Without Follow it reads to the end and returns; with Follow it keeps
// reading until ctx ends, which is a normal stop (the report is returned with a nil error).
func Run(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Report, error) {
	start := time.Now()
	if !slices.Contains(Formats, opts.Format) {
		return nil, fmt.Errorf("unknown format %q: want %s", opts.Format, strings.Join(Formats, ", "))
	}
	if opts.Probe != nil {
		if opts.Format != "sshd" && opts.Format != "haas" {
			return nil, errors.New("--sn and --token are for the sshd and haas formats; the other JSON formats carry their own")
		}
		if err := ValidateProbe(*opts.Probe); err != nil {
			return nil, err
		}
	}
	if opts.Host != "" {
		if opts.Format != "haas" {
			return nil, errors.New("--probe is for the haas format")
		}
		if opts.Probe != nil {
			return nil, errors.New("--probe and --sn/--token both name the probe: give one")
		}
		if err := ValidateProbe(HostProbe(opts.Host)); err != nil {
			return nil, fmt.Errorf("--probe: %w", err)
		}
	}
	if opts.Provider != "" && opts.Format != "idea" {
		return nil, errors.New("--provider is for the idea format; IntelMQ events carry feed.provider")
	}
	if opts.Follow && opts.Path == "-" {
		return nil, errors.New("--follow needs a file, not standard input")
	}
	setDefaults(&opts)
	ids := NewIdentities(pool)
	r := &runner{opts: opts, ids: ids, rep: &Report{Format: opts.Format}, bad: badline.NewCollector(opts.MaxBad), lastProgress: start}
	r.parser = newParser(opts, ids)
	if opts.Geo != nil {
		r.geo = opts.Geo
	} else {
		t, err := geo.Load(ctx, pool)
		if err != nil {
			return nil, err
		}
		r.geo = t
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	r.conn = conn
	r.startWriter(ctx)
	defer r.drain()
	if opts.Follow {
		err = r.follow(ctx)
	} else {
		err = r.file(ctx)
	}
	if derr := r.drain(); err == nil {
		err = derr
	}
	r.rep.Bad, r.rep.BadLines = r.bad.Count(), r.bad.Lines()
	r.rep.NewProbes = ids.New
	r.rep.Duration = time.Since(start)
	return r.rep, err
}

func setDefaults(o *Options) {
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 100_000
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 2 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
}

func newParser(o Options, ids *Identities) lineParser {
	switch o.Format {
	case "minipot":
		return &minipotParser{ids: ids}
	case "fwlogs":
		return &fwlogsParser{ids: ids, scans: newScanTracker()}
	case "faillogs":
		return &faillogsParser{ids: ids}
	case "idea":
		return &ideaParser{provider: CleanText(o.Provider)}
	case "intelmq":
		return &intelmqParser{}
	case "haas":
		p := &haasParser{ids: ids, probe: HostProbe("haas")}
		if o.Probe != nil {
			p.probe = *o.Probe
		} else if o.Host != "" {
			p.probe = HostProbe(o.Host)
		}
		return p
	}
	return &sshdParser{ids: ids, probe: o.Probe, now: o.Now().UTC(), year: o.Year}
}

type runner struct {
	opts   Options
	conn   *pgxpool.Conn
	ids    *Identities
	parser lineParser
	geo    *geo.Table
	writer Writer
	batch  *Batch
	entry  ledgerEntry
	rep    *Report
	bad    *badline.Collector
	f      *os.File // the file being read (follow: for the head fingerprint)

	pending []byte // the start of a line not read to its end yet
	dropped int64  // bytes of an over-long line that were not kept

	lastProgress, lastCommit time.Time
	lastProgressLines        int64

	// The writer goroutine: a batch is parsed while the previous one is being copied, and
	// batches are committed strictly in order.
	jobs     chan writeJob
	free     chan *Batch
	wdone    chan struct{}
	mu       sync.Mutex // guards werr and rep.Rows
	werr     error
	stopOnce sync.Once
}

type writeJob struct {
	b *Batch
	e ledgerEntry
}

// file ingests a whole file (or standard input, spooled to a temporary file first so its
// content can be hashed before anything is written).
func (r *runner) file(ctx context.Context) error {
	path, source := r.opts.Path, r.opts.Path
	if path == "-" {
		tmp, err := spool(r.opts.Stdin)
		if err != nil {
			return err
		}
		defer os.Remove(tmp)
		path, source = tmp, "stdin"
	} else if abs, err := filepath.Abs(path); err == nil {
		source = abs
	}
	r.rep.Source = source
	f, err := os.Open(path) // #nosec G304 -- the log file the operator asked to ingest (or our spool of stdin)
	if err != nil {
		return fmt.Errorf("open %s: %w", r.opts.Path, err)
	}
	defer f.Close()
	r.f = f

	prev, err := finishedFromSource(ctx, r.conn, r.opts.Format, source)
	if err != nil {
		return err
	}
	sum, continued, err := hashWithPrefixes(f, prev)
	if err != nil {
		return fmt.Errorf("read %s: %w", r.opts.Path, err)
	}
	r.entry, err = claimContent(ctx, r.conn, r.opts.Format, source, sum)
	if err != nil {
		return err
	}
	if r.entry.Finished {
		r.rep.AlreadyIngested = true
		return nil
	}
	held, ok, err := lockEntry(ctx, r.conn, r.entry.ID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %w", source, ErrBusy)
	}
	defer held.Release(context.WithoutCancel(ctx))
	if r.entry.Offset == 0 && r.entry.Lines == 0 && continued != nil {
		// An earlier import read this content's first bytes: go on after them.
		r.entry.Offset, r.entry.Lines = continued.Offset, continued.Lines
	}
	r.rep.StartLine = r.entry.Lines
	if err := r.parser.restore(r.entry.State); err != nil {
		return err
	}
	if _, err := f.Seek(r.entry.Offset, io.SeekStart); err != nil {
		return fmt.Errorf("seek %s: %w", r.opts.Path, err)
	}
	if err := r.readAll(ctx, bufio.NewReaderSize(f, 1<<20), true); err != nil {
		return err
	}
	if err := r.commit(ctx, true, r.parser.watermark()); err != nil {
		return err
	}
	if err := r.drain(); err != nil {
		return err
	}
	return finishEntry(ctx, r.conn, r.entry.ID)
}

// spool copies standard input into a temporary file.
func spool(in io.Reader) (string, error) {
	f, err := os.CreateTemp("", "sview-ingest-*.log")
	if err != nil {
		return "", fmt.Errorf("spool standard input: %w", err)
	}
	if _, err := io.Copy(f, in); err != nil {
		// Best-effort cleanup: the copy error is the one to report.
		_ = f.Close()
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("spool standard input: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name()) // best effort: the close error is the one to report
		return "", fmt.Errorf("spool standard input: %w", err)
	}
	return f.Name(), nil
}

// hashWithPrefixes hashes the whole file and, on the way, its first bytes at the lengths of
// earlier imports from the same source; it returns the longest earlier import this content
// starts with.
func hashWithPrefixes(f *os.File, prev []previousPrefix) ([]byte, *previousPrefix, error) {
	offsets := map[int64][]int{}
	for i, p := range prev {
		offsets[p.Offset] = append(offsets[p.Offset], i)
	}
	h := sha256.New()
	var best *previousPrefix
	var pos int64
	buf := make([]byte, 1<<20)
	check := func() {
		for _, i := range offsets[pos] {
			if bytes.Equal(h.Sum(nil), prev[i].SHA) && (best == nil || prev[i].Offset > best.Offset) {
				best = &prev[i]
			}
		}
	}
	for {
		want := len(buf)
		// Stop exactly at the next earlier import's length.
		for off := range offsets {
			if off > pos && off-pos < int64(want) {
				want = int(off - pos)
			}
		}
		n, err := f.Read(buf[:want])
		h.Write(buf[:n])
		pos += int64(n)
		if n > 0 {
			check()
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if best != nil && best.Offset == pos {
		best = nil // the very same content: the ledger says so already
	}
	return h.Sum(nil), best, nil
}

// readAll reads lines to the end of the reader. With final, a last line without a newline is
// read too; otherwise it is kept in r.pending (a followed file may still be writing it) and
// r.entry.Offset stays before it.
func (r *runner) readAll(ctx context.Context, br *bufio.Reader, final bool) error {
	for {
		chunk, err := br.ReadSlice('\n')
		eof := errors.Is(err, io.EOF)
		if errors.Is(err, bufio.ErrBufferFull) || (eof && !final) {
			r.keep(chunk)
			if eof {
				return nil
			}
			continue
		}
		if err != nil && !eof {
			return fmt.Errorf("read %s: %w", r.opts.Path, err)
		}
		line := chunk
		if len(r.pending) > 0 || r.dropped > 0 {
			r.keep(chunk)
			line = r.pending
		}
		size := int64(len(line)) + r.dropped
		if size > 0 {
			text := bytes.TrimSuffix(line, []byte("\n"))
			if err := r.line(ctx, text, size, r.dropped > 0); err != nil {
				return err
			}
		}
		r.pending, r.dropped = r.pending[:0], 0
		if eof {
			return nil
		}
		if !r.opts.Follow && r.rep.Lines&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// keep holds part of a line that is not complete yet; past maxLine only its length is kept.
func (r *runner) keep(chunk []byte) {
	if r.dropped > 0 || len(r.pending)+len(chunk) > maxLine {
		r.dropped += int64(len(r.pending) + len(chunk))
		r.pending = r.pending[:0]
		return
	}
	r.pending = append(r.pending, chunk...)
}

// line handles one line that ends at r.entry.Offset+size.
func (r *runner) line(ctx context.Context, text []byte, size int64, tooLong bool) error {
	r.entry.Lines++
	r.rep.Lines++
	no := r.entry.Lines
	var err error
	switch {
	case tooLong:
		err = bad("line longer than %d bytes", maxLine)
	case len(trimLine(text)) == 0:
		err = errSkip
	default:
		err = r.parser.parse(ctx, trimLine(text), r.batch)
	}
	var le *lineError
	switch {
	case err == nil:
		r.rep.OK++
		r.entry.OK++
	case errors.Is(err, errSkip):
		r.rep.Skipped++
	case errors.As(err, &le):
		r.bad.Add(no, le)
		r.entry.Bad++
	default:
		return fmt.Errorf("line %d: %w", no, err)
	}
	r.entry.Offset += size
	if r.batch.Len() >= r.opts.BatchRows {
		if err := r.commit(ctx, false, r.parser.watermark()); err != nil {
			return err
		}
	}
	if r.rep.Lines&4095 == 0 {
		r.progress(false)
	}
	return nil
}

func (r *runner) progress(force bool) {
	if r.opts.Progress == nil {
		return
	}
	now := time.Now()
	if !force && now.Sub(r.lastProgress) < r.opts.ProgressEvery {
		return
	}
	rate := float64(r.rep.Lines-r.lastProgressLines) / now.Sub(r.lastProgress).Seconds()
	fmt.Fprintf(r.opts.Progress, "ingest %s: %d lines, %d bad, %.0f lines/s, %d rows written\n",
		r.opts.Format, r.rep.Lines, r.bad.Count(), rate, r.rowsWritten().Total())
	r.lastProgress, r.lastProgressLines = now, r.rep.Lines
}

// commit hands the batch and the ledger checkpoint that covers it to the writer, which copies
// them in one transaction. Rows held back by the parser are released first: those complete at
// the watermark, or all of them when final. It waits only while an earlier batch is queued.
func (r *runner) commit(ctx context.Context, final bool, watermark time.Time) error {
	if err := r.writeErr(); err != nil {
		return err
	}
	r.parser.flush(r.batch, watermark, final)
	state, err := r.parser.state()
	if err != nil {
		return err
	}
	r.entry.State = state
	if r.opts.Follow && r.entry.HeadLen < headMax && r.entry.Offset > int64(r.entry.HeadLen) {
		if err := r.fingerprint(); err != nil {
			return err
		}
	}
	r.jobs <- writeJob{r.batch, r.entry}
	select {
	case r.batch = <-r.free:
	default:
		r.batch = &Batch{}
	}
	r.lastCommit = time.Now()
	return nil
}

// startWriter starts the goroutine that writes batches. It works on a context that ignores
// cancellation, so a batch handed over is committed even when the ingest is interrupted: an
// interrupted run keeps everything it read up to its last hand-over.
func (r *runner) startWriter(ctx context.Context) {
	r.jobs = make(chan writeJob, 1)
	r.free = make(chan *Batch, 2)
	r.wdone = make(chan struct{})
	r.batch = &Batch{}
	wctx := context.WithoutCancel(ctx)
	go func() {
		defer close(r.wdone)
		for j := range r.jobs {
			if r.writeErr() == nil {
				c, err := r.write(wctx, j)
				r.mu.Lock()
				if err != nil {
					r.werr = err
				} else {
					r.rep.Rows = r.rep.Rows.Add(c)
				}
				r.mu.Unlock()
			}
			j.b.Reset()
			select {
			case r.free <- j.b:
			default:
			}
		}
	}()
}

func (r *runner) write(ctx context.Context, j writeJob) (Counts, error) {
	j.b.Enrich(r.geo)
	tx, err := r.conn.Begin(ctx)
	if err != nil {
		return Counts{}, fmt.Errorf("begin batch: %w", err)
	}
	defer tx.Rollback(context.Background())
	c, err := r.writer.Copy(ctx, tx, j.b)
	if err != nil {
		return Counts{}, err
	}
	if err := checkpoint(ctx, tx, j.e); err != nil {
		return Counts{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Counts{}, fmt.Errorf("commit batch: %w", err)
	}
	return c, nil
}

// drain waits for the writer to commit everything handed to it and stops it.
func (r *runner) drain() error {
	r.stopOnce.Do(func() {
		close(r.jobs)
		<-r.wdone
	})
	return r.writeErr()
}

func (r *runner) writeErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.werr
}

func (r *runner) rowsWritten() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rep.Rows
}

// fingerprint hashes the first bytes of the followed file, up to headMax, that have been read.
func (r *runner) fingerprint() error {
	n := min(r.entry.Offset, headMax)
	buf := make([]byte, n)
	if _, err := r.f.ReadAt(buf, 0); err != nil {
		return fmt.Errorf("read the start of %s: %w", r.opts.Path, err)
	}
	sum := sha256.Sum256(buf)
	r.entry.HeadLen, r.entry.HeadSHA = int(n), sum[:]
	return nil
}
