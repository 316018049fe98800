package summary

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Markdown renders the summary as a Markdown page (GitHub-flavoured tables) whose charts are
// linked relative to it, under charts/: the page reads the same from the API and from the
// directory `sview summary` writes. Nothing in it depends on when it was rendered, so the same
// numbers give the same bytes.
func (s Summary) Markdown() []byte {
	var b bytes.Buffer
	m := s.Month
	fmt.Fprintf(&b, "# Sentinel network summary: %s\n\n", m.Title())
	fmt.Fprintf(&b, "All probes of the network, %s to %s (UTC), from the daily rollups.",
		m.Start().Format(time.DateOnly), m.End().Add(-day).Format(time.DateOnly))
	if s.Partial() {
		fmt.Fprintf(&b, " The data starts on %s, inside this month.", s.DataFrom.Format(time.DateOnly))
	}
	b.WriteString(" The same numbers are in [summary.csv](summary.csv).\n\n")

	b.WriteString("## Totals\n\n")
	fmt.Fprintf(&b, "| | %s | %s | Change |\n|---|---:|---:|---:|\n", m.Title(), m.Prev().Title())
	for _, t := range s.Totals {
		prev := "n/a"
		if t.Previous != nil {
			prev = thousands(*t.Previous)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Title, thousands(t.Value), prev, change(t.Value, t.Previous))
	}
	if !s.Compared() {
		fmt.Fprintf(&b, "\n%s is not compared: the data starts on %s.\n", m.Prev().Title(), s.DataFrom.Format(time.DateOnly))
	}

	b.WriteString("\n## Incidents per day\n\n")
	fmt.Fprintf(&b, "![Incidents per day](%s)\n\n", ChartFile(ChartIncidentsPerDay))
	b.WriteString("| Day | Incidents |\n|---|---:|\n")
	for _, d := range s.PerDay {
		fmt.Fprintf(&b, "| %s | %s |\n", d.Date.Format(time.DateOnly), thousands(d.Incidents))
	}

	for _, l := range s.Lists {
		fmt.Fprintf(&b, "\n## %s\n\n", l.Spec.Title)
		if l.Spec.chart != "" {
			fmt.Fprintf(&b, "![%s](%s)\n\n", l.Spec.Title, ChartFile(l.Spec.chart))
		}
		if len(l.Rows) == 0 {
			b.WriteString("No data.\n")
			continue
		}
		named := l.Spec.name != ""
		head, rule := "| # | "+l.Spec.Key+" | ", "|---:|---|"
		if named {
			head, rule = head+"AS name | ", rule+"---|"
		}
		fmt.Fprintf(&b, "%s%s | Share |\n%s---:|---:|\n", head, l.Spec.Unit, rule)
		for _, r := range l.Rows {
			fmt.Fprintf(&b, "| %d | %s | ", r.Rank, mdText(r.Key))
			if named && r.Name == "" {
				b.WriteString("| ") // an AS without a name in geo_prefixes
			} else if named {
				fmt.Fprintf(&b, "%s | ", mdText(r.Name))
			}
			fmt.Fprintf(&b, "%s | %s |\n", thousands(r.Value), share(r.Value, l.Total))
		}
	}
	b.WriteString("\nCounts are sums over the month of the public statistics (`POST /api/query` over the same " +
		"range gives the same numbers); distinct attackers are distinct addresses over the whole month. " +
		"Shares are of the month's total of the same measure.\n")
	return b.Bytes()
}

// thousands writes n with a comma between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// change is the relative change from prev to v: "n/a" without a month before, "new" from 0.
func change(v int64, prev *int64) string {
	switch {
	case prev == nil:
		return "n/a"
	case *prev == 0 && v == 0:
		return "0.0%"
	case *prev == 0:
		return "new"
	}
	return fmt.Sprintf("%+.1f%%", 100*float64(v-*prev)/float64(*prev))
}

func share(v, total int64) string {
	if total <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(v)/float64(total))
}

// mdText shows an attacker's string as plain text in a table cell: Markdown and HTML
// syntax is escaped (a password may be "<script>" or "|"), and what cannot be printed is
// written as its code point.
func mdText(s string) string {
	if s == "" {
		return "(empty)"
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, "U+%04X", r)
		case strings.ContainsRune("\\`*_{}[]()<>#+-.!|~&", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
