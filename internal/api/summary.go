package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/summary"
)

// The monthly summaries (docs/summary.md): GET /api/reports/monthly/ lists the months that have
// one, and GET /api/reports/monthly/{YYYY-MM}/{summary.md|summary.csv|charts/NAME.png} serves
// its files. Only final months are published, so a file's URL names fixed content: clients may
// keep it for a day and revalidate with its ETag.

// SummaryPath is where the monthly summaries are served.
const SummaryPath = "/api/reports/monthly/"

// Cache-Control of the summaries: a final month changes only when late rows are recomputed
// into it, the listing whenever a month becomes final.
const (
	summaryCacheControl = "public, max-age=86400"
	listingCacheControl = "public, max-age=300"
)

func (d Deps) summaryRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+SummaryPath+"{$}", d.summaryMonths)
	mux.HandleFunc("GET "+strings.TrimSuffix(SummaryPath, "/"), d.summaryMonths)
	mux.HandleFunc("GET "+SummaryPath+"{month}/{file}", d.summaryFile)
	mux.HandleFunc("GET "+SummaryPath+"{month}/charts/{chart}", d.summaryFile)
}

// monthListing is the answer of GET /api/reports/monthly/.
type monthListing struct {
	// DataFrom is the first day of the daily rollups, FinalThrough the end of what is final.
	DataFrom     *time.Time   `json:"data_from"`
	FinalThrough *time.Time   `json:"final_through"`
	Months       []monthEntry `json:"months"`
}

type monthEntry struct {
	Month    string            `json:"month"`
	Title    string            `json:"title"`
	Markdown string            `json:"markdown"`
	CSV      string            `json:"csv"`
	Charts   map[string]string `json:"charts"`
}

func (d Deps) summaryMonths(w http.ResponseWriter, r *http.Request) {
	a, err := d.Summaries.Availability(r.Context())
	if err != nil {
		d.fail(w, r, "monthly summaries", err)
		return
	}
	l := monthListing{Months: []monthEntry{}}
	if !a.From.IsZero() {
		l.DataFrom = &a.From
	}
	if !a.Through.IsZero() {
		l.FinalThrough = &a.Through
	}
	for _, m := range a.Months() {
		base := SummaryPath + m.String() + "/"
		e := monthEntry{Month: m.String(), Title: m.Title(), Markdown: base + summary.FileMarkdown, CSV: base + summary.FileCSV, Charts: map[string]string{}}
		for _, c := range summary.Charts {
			e.Charts[c] = base + summary.ChartFile(c)
		}
		l.Months = append(l.Months, e)
	}
	body, err := json.Marshal(l)
	if err != nil {
		d.fail(w, r, "monthly summaries", err)
		return
	}
	serveFile(w, r, summary.NewFile("monthly.json", "application/json", body), listingCacheControl)
}

func (d Deps) summaryFile(w http.ResponseWriter, r *http.Request) {
	m, err := summary.ParseMonth(r.PathValue("month"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	name := r.PathValue("file")
	if c := r.PathValue("chart"); c != "" {
		name = "charts/" + c
	}
	if !slices.Contains(summary.FileNames(), name) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: fmt.Sprintf("%s %q; want one of %s",
			summary.ErrNoFile, clip([]byte(name)), strings.Join(summary.FileNames(), ", "))})
		return
	}
	rep, err := d.Summaries.Report(r.Context(), m)
	switch {
	case errors.Is(err, summary.ErrBeforeData), errors.Is(err, summary.ErrNotFinal):
		writeJSON(w, http.StatusNotFound, errorBody{Error: err.Error()})
		return
	case err != nil:
		d.fail(w, r, "monthly summary", err)
		return
	}
	f, _ := rep.File(name) // every known name is rendered
	w.Header().Set("Content-Disposition", `inline; filename="sview-`+m.String()+"-"+strings.ReplaceAll(name, "/", "-")+`"`)
	serveFile(w, r, f, summaryCacheControl)
}

// serveFile answers f with its ETag: http.ServeContent answers If-None-Match with 304, HEAD
// without a body and Range requests with the part asked for.
func serveFile(w http.ResponseWriter, r *http.Request, f summary.File, cacheControl string) {
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Cache-Control", cacheControl)
	w.Header().Set("ETag", f.ETag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.Body))
}
