package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/greylist"
	"github.com/sview-project/sview/internal/query"
)

// ErrGreylistDate marks a dated-archive request whose file name is not YYYY-MM-DD.csv.
var ErrGreylistDate = errors.New("invalid greylist archive name")

// ParseGreylistFile reads the day out of an archive file name "YYYY-MM-DD.csv".
func ParseGreylistFile(name string) (time.Time, error) {
	day, ok := strings.CutSuffix(name, ".csv")
	if !ok {
		return time.Time{}, fmt.Errorf("%w %q: want YYYY-MM-DD.csv", ErrGreylistDate, clip([]byte(name)))
	}
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w %q: want YYYY-MM-DD.csv", ErrGreylistDate, clip([]byte(name)))
	}
	return t, nil
}

func (d Deps) greylistLatest(w http.ResponseWriter, r *http.Request) {
	c, ok := d.caller(w, r)
	if !ok {
		return
	}
	entries, err := greylist.List(r.Context(), d.DB, greylist.Filter{Within: GreylistWithin(c.Scope)})
	if err != nil {
		d.fail(w, r, "greylist", err)
		return
	}
	d.writeCSV(w, r, "greylist-latest.csv", entries)
}

// GreylistWithin is the part of the greylist a scope may see (nil: all of it).
func GreylistWithin(s query.Scope) *greylist.Within {
	q, _ := s.Apply(query.Query{QueryType: query.TypeGreylist}) // a greylist query is never forbidden
	if q.Restrict == nil {
		return nil
	}
	return &greylist.Within{ASNs: q.Restrict.ASNs, Prefixes: q.Restrict.Prefixes}
}

func (d Deps) greylistDay(w http.ResponseWriter, r *http.Request) {
	c, ok := d.caller(w, r)
	if !ok {
		return
	}
	day, err := ParseGreylistFile(r.PathValue("file"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	entries, err := greylist.Snapshot(r.Context(), d.DB, day, GreylistWithin(c.Scope))
	if err != nil {
		d.fail(w, r, "greylist snapshot", err)
		return
	}
	if len(entries) == 0 {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no greylist snapshot for " + day.Format(time.DateOnly)})
		return
	}
	d.writeCSV(w, r, "greylist-"+day.Format(time.DateOnly)+".csv", entries)
}

func (d Deps) writeCSV(w http.ResponseWriter, r *http.Request, name string, entries []greylist.Entry) {
	var buf bytes.Buffer
	if err := greylist.WriteCSV(&buf, entries); err != nil {
		d.fail(w, r, "greylist CSV", err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="`+name+`"`)
	_, _ = w.Write(buf.Bytes())
}
