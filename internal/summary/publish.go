package summary

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
)

// Why a month has no summary (both are "not found" to a client).
var (
	ErrBeforeData = errors.New("no data for this month")
	ErrNotFinal   = errors.New("month not final yet")
	// ErrNoFile marks a file name that is not one of FileNames.
	ErrNoFile = errors.New("no such file in a monthly summary")
)

// Availability says which months have a summary: those that end after the data starts and at
// or before the daily rollups are final.
type Availability struct {
	// From is the oldest bucket of the daily rollups; zero when they are empty.
	From time.Time
	// Through is the least daily watermark of the rollups that have one: every day before it
	// is final. Zero when none has.
	Through time.Time
}

// ReadAvailability reads the oldest daily bucket and the daily watermarks: one index probe
// per table and one row per watermark.
func ReadAvailability(ctx context.Context, db rollupstate.Querier) (Availability, error) {
	var a Availability
	var from *time.Time
	sql := "SELECT least("
	for i, f := range derived.Families {
		if i > 0 {
			sql += ", "
		}
		sql += "(SELECT min(time) FROM " + derived.RollupOf(f).Name(period.Daily) + ")"
	}
	if err := db.QueryRow(ctx, sql+")").Scan(&from); err != nil {
		return a, fmt.Errorf("read the oldest daily bucket: %w", err)
	}
	if from != nil {
		a.From = from.UTC()
	}
	for _, f := range derived.Families {
		wm, ok, err := rollupstate.ReadWatermark(ctx, db, rollupstate.Key{Table: f, Precision: period.Daily})
		if err != nil {
			return a, err
		}
		if ok && (a.Through.IsZero() || wm.Before(a.Through)) {
			a.Through = wm
		}
	}
	return a, nil
}

// Check says whether m has a summary: ErrBeforeData when it ends before the data starts,
// ErrNotFinal while the daily rollups have not closed it (it is not over, or aggregation lags).
func (a Availability) Check(m Month) error {
	switch {
	case a.From.IsZero():
		return fmt.Errorf("%w: the daily rollups hold no data yet", ErrBeforeData)
	case !m.End().After(a.From):
		return fmt.Errorf("%w: %s ends before the data starts on %s", ErrBeforeData, m, a.From.Format(time.DateOnly))
	case a.Through.Before(m.End()):
		through := "have closed no day yet"
		if !a.Through.IsZero() {
			through = "are final up to " + a.Through.Format(time.RFC3339)
		}
		return fmt.Errorf("%w: the summary of %s is published once the daily rollups have closed the month; they %s",
			ErrNotFinal, m, through)
	}
	return nil
}

// Months lists the months that have a summary, newest first.
func (a Availability) Months() []Month {
	var out []Month
	if a.From.IsZero() {
		return out
	}
	for m := MonthOf(a.From); !a.Through.Before(m.End()); m = m.Next() {
		out = append(out, m)
	}
	slices.Reverse(out)
	return out
}

// File is one rendered file of a summary.
type File struct {
	Name        string // its path under the month: summary.md, charts/top-ports.png
	ContentType string
	Body        []byte
	ETag        string // strong, quoted: a hash of Body
}

// NewFile makes a file of body with its ETag.
func NewFile(name, contentType string, body []byte) File {
	sum := sha256.Sum256(body)
	return File{Name: name, ContentType: contentType, Body: body, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// Report is one month's summary rendered into its files.
type Report struct {
	Month Month
	Files []File    // in FileNames order
	Built time.Time // when a Publisher built it; zero from Render
}

// The files of a report besides its charts (ChartFile).
const (
	FileMarkdown = "summary.md"
	FileCSV      = "summary.csv"
)

// FileNames lists the files of a report, as they are named under its month.
func FileNames() []string {
	names := []string{FileMarkdown, FileCSV}
	for _, c := range Charts {
		names = append(names, ChartFile(c))
	}
	return names
}

// File finds a file of the report by name.
func (r *Report) File(name string) (File, bool) {
	i := slices.IndexFunc(r.Files, func(f File) bool { return f.Name == name })
	if i < 0 {
		return File{}, false
	}
	return r.Files[i], true
}

// Render renders every file of s.
func Render(s Summary) (*Report, error) {
	r := &Report{Month: s.Month}
	add := func(name, ctype string, body []byte) { r.Files = append(r.Files, NewFile(name, ctype, body)) }
	add(FileMarkdown, "text/markdown; charset=utf-8", s.Markdown())
	add(FileCSV, "text/csv; charset=utf-8", s.CSV())
	for _, c := range Charts {
		png, err := s.Chart(c)
		if err != nil {
			return nil, err
		}
		add(ChartFile(c), "image/png", png)
	}
	return r, nil
}

// How long a Publisher keeps what it read and rendered. A final month changes only when late
// rows are recomputed into it; the stats answers under a report are themselves refreshed once
// a day (a dashboard range of daily buckets), so an hour here adds little.
const (
	reportTTL       = time.Hour
	availabilityTTL = time.Minute
	cachedReports   = 36
	// buildTimeout bounds one build, which runs on even when the request that started it goes.
	buildTimeout = 2 * time.Minute
)

// Publisher builds and keeps the reports of final months for the public API and the CLI. It is
// safe for concurrent use; concurrent requests for one month cost one build.
type Publisher struct {
	db  rollupstate.Querier
	src Source
	now func() time.Time

	builds  singleflight.Group
	reports *lru.Cache[string, *Report]

	mu      sync.Mutex
	avail   Availability
	availAt time.Time
}

// NewPublisher reads availability from db and the numbers through src (the query service,
// whose cache the API shares).
func NewPublisher(db rollupstate.Querier, src Source) *Publisher {
	reports, _ := lru.New[string, *Report](cachedReports) // only a size below 1 fails
	return &Publisher{db: db, src: src, now: time.Now, reports: reports}
}

// Availability is ReadAvailability, read at most once per availabilityTTL.
func (p *Publisher) Availability(ctx context.Context) (Availability, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.availAt.IsZero() && p.now().Sub(p.availAt) < availabilityTTL {
		return p.avail, nil
	}
	a, err := ReadAvailability(ctx, p.db)
	if err != nil {
		return a, err
	}
	p.avail, p.availAt = a, p.now()
	return a, nil
}

// Report returns the rendered summary of m, building it when it is not kept or older than
// reportTTL. A month without a summary is ErrBeforeData or ErrNotFinal.
func (p *Publisher) Report(ctx context.Context, m Month) (*Report, error) {
	a, err := p.Availability(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.Check(m); err != nil {
		return nil, err
	}
	if r, ok := p.reports.Get(m.String()); ok && p.now().Sub(r.Built) < reportTTL {
		return r, nil
	}
	ch := p.builds.DoChan(m.String(), func() (any, error) {
		// Detached from the request that came first, so its going away fails no other waiter.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), buildTimeout)
		defer cancel()
		s, err := Build(ctx, p.src, m, a.From)
		if err != nil {
			return nil, err
		}
		r, err := Render(s)
		if err != nil {
			return nil, err
		}
		r.Built = p.now()
		p.reports.Add(m.String(), r)
		return r, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*Report), nil
	}
}
