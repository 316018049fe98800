package summary

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"time"
)

// CSVHeader are the columns of summary.csv: one row per number, tidy, so the files of several
// months concatenate (less their headers) into one table. rank is empty outside ranked lists,
// name holds an ASN's AS name, previous the month before's value of a total ("" when the data
// does not cover that whole month).
var CSVHeader = []string{"month", "section", "rank", "key", "name", "value", "previous"}

// CSV renders the summary as summary.csv. Sections: totals (keys incidents, attackers,
// login_attempts, scans), incidents_per_day (key: the day), then each of Lists by its Section.
// Values are written exactly as they were captured: a password starting with "=" stays one, so
// import the file as text rather than opening it as a spreadsheet.
func (s Summary) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	month := s.Month.String()
	row := func(section, rank, key, name string, value int64, previous string) {
		_ = w.Write([]string{month, section, rank, key, name, strconv.FormatInt(value, 10), previous}) // a bytes.Buffer takes every write
	}
	_ = w.Write(CSVHeader)
	for _, t := range s.Totals {
		prev := ""
		if t.Previous != nil {
			prev = strconv.FormatInt(*t.Previous, 10)
		}
		row("totals", "", t.Key, "", t.Value, prev)
	}
	for _, d := range s.PerDay {
		row("incidents_per_day", "", d.Date.Format(time.DateOnly), "", d.Incidents, "")
	}
	for _, l := range s.Lists {
		for _, r := range l.Rows {
			row(l.Spec.Section, strconv.Itoa(r.Rank), r.Key, r.Name, r.Value, "")
		}
	}
	w.Flush()
	return b.Bytes()
}
