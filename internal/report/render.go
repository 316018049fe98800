package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/sview-project/sview/internal/contacts"
)

// MaxTextHosts bounds the addresses listed in the text of a report; the CSV and IDEA
// attachments hold all of them.
const MaxTextHosts = 50

// words are the phrases of the text report in one language.
type words struct {
	subject, title, window, previous, summary, incidents, addresses, greylisted, byKind, hosts, more string
	cadence                                                                                          map[contacts.Cadence]string
	columnsKind, columnsHost                                                                         []string
	yes, no, new, footer                                                                             string
}

var languages = map[string]words{
	"en": {
		subject: "[sview] %s: %d incidents from %d addresses, %s to %s",
		title:   "sview report for %s (%s)", window: "Window: %s to %s UTC", previous: "previous window: %s to %s",
		summary: "Summary", incidents: "Incidents", addresses: "Addresses", greylisted: "Greylisted addresses",
		byKind: "Incidents by trap and action", hosts: "Addresses, busiest first",
		more:        "… and %d more addresses, all of them in the attached CSV.",
		cadence:     map[contacts.Cadence]string{contacts.Daily: "daily", contacts.Weekly: "weekly", contacts.Monthly: "monthly"},
		columnsKind: []string{"TRAP", "ACTION", "INCIDENTS", "PREVIOUS", "CHANGE"},
		columnsHost: []string{"ADDRESS", "FIRST SEEN", "LAST SEEN", "INCIDENTS", "PREVIOUS", "PROBES", "TRAPS", "GREYLIST"},
		yes:         "yes", no: "no", new: "new",
		footer: "Addresses of your network (%s) attacked the honeypots of the sview probe network.\n" +
			"Times are UTC; first and last seen are known to the hour. The greylist lists addresses\n" +
			"that attacked many probes within a few days. Attached: the addresses as CSV and as IDEA events.",
	},
	"cs": {
		subject: "[sview] %s: %d incidentů z %d adres, %s až %s",
		title:   "Hlášení sview pro %s (%s)", window: "Období: %s až %s UTC", previous: "předchozí období: %s až %s",
		summary: "Souhrn", incidents: "Incidenty", addresses: "Adresy", greylisted: "Adresy na greylistu",
		byKind: "Incidenty podle pasti a akce", hosts: "Adresy, nejaktivnější první",
		more:        "… a dalších %d adres, všechny jsou v přiloženém CSV.",
		cadence:     map[contacts.Cadence]string{contacts.Daily: "denní", contacts.Weekly: "týdenní", contacts.Monthly: "měsíční"},
		columnsKind: []string{"PAST", "AKCE", "INCIDENTY", "PŘEDTÍM", "ZMĚNA"},
		columnsHost: []string{"ADRESA", "PRVNĚ", "NAPOSLEDY", "INCIDENTY", "PŘEDTÍM", "SONDY", "PASTI", "GREYLIST"},
		yes:         "ano", no: "ne", new: "nové",
		footer: "Adresy vaší sítě (%s) útočily na honeypoty sítě sond sview.\n" +
			"Časy jsou v UTC; první a poslední výskyt s přesností na hodinu. Greylist obsahuje adresy,\n" +
			"které během několika dnů napadly mnoho sond. V příloze: adresy jako CSV a jako události IDEA.",
	},
}

// wordsOf returns the phrases of language, English for a language reports are not written in.
func wordsOf(language string) words {
	if w, ok := languages[language]; ok {
		return w
	}
	return languages["en"]
}

const (
	dayLayout  = "2006-01-02"
	hourLayout = "2006-01-02 15:04"
)

// change is the relative change from prev to cur, "new" when there was nothing before.
func change(w words, cur, prev int64) string {
	if prev == 0 {
		if cur == 0 {
			return "0%"
		}
		return w.new
	}
	return fmt.Sprintf("%+.1f%%", 100*float64(cur-prev)/float64(prev))
}

// WriteText writes the report as readable text in the contact's language.
func WriteText(out io.Writer, r *Report) error {
	w := wordsOf(r.Contact.Language)
	var b strings.Builder
	fmt.Fprintf(&b, w.title+"\n", r.Contact.Key(), w.cadence[r.Contact.Cadence])
	fmt.Fprintf(&b, w.window+" (", r.From.Format(dayLayout), r.To.Format(dayLayout))
	fmt.Fprintf(&b, w.previous+")\n\n", r.PrevFrom.Format(dayLayout), r.PrevTo.Format(dayLayout))

	fmt.Fprintf(&b, "%s\n", w.summary)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s:\t%d\t(%d, %s)\n", w.incidents, r.Incidents, r.Prev, change(w, r.Incidents, r.Prev))
	fmt.Fprintf(tw, "  %s:\t%d\t(%d, %s)\n", w.addresses, r.Addresses, r.PrevAddresses, change(w, int64(r.Addresses), int64(r.PrevAddresses)))
	fmt.Fprintf(tw, "  %s:\t%d\t\n", w.greylisted, r.Greylisted)
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(&b, "\n%s\n", w.byKind)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\t\n", strings.Join(w.columnsKind, "\t"))
	for _, k := range r.Kinds {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t\n", k.Trap, k.Action, k.Incidents, k.Prev, change(w, k.Incidents, k.Prev))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(&b, "\n%s\n", w.hosts)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\t\n", strings.Join(w.columnsHost, "\t"))
	for _, h := range r.Hosts[:min(len(r.Hosts), MaxTextHosts)] {
		grey := w.no
		if h.Greylisted {
			grey = fmt.Sprintf("%s (%.1f; %s)", w.yes, h.Score, strings.Join(h.Tags, ","))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t\n", h.IP, h.FirstSeen.Format(hourLayout), h.LastSeen.Format(hourLayout),
			h.Incidents, h.Prev, h.Probes, strings.Join(h.Traps, ","), grey)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if more := len(r.Hosts) - MaxTextHosts; more > 0 {
		fmt.Fprintf(&b, w.more+"\n", more)
	}
	fmt.Fprintf(&b, "\n-- \n"+w.footer+"\n", r.Contact.Key())
	// tabwriter pads the last cells; mail clients show trailing blanks as noise. The "-- "
	// signature separator keeps its one.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		if l != "-- " {
			lines[i] = strings.TrimRight(l, " ")
		}
	}
	_, err := io.WriteString(out, strings.Join(lines, "\n"))
	return err
}

// Subject is the subject line of the report's e-mail.
func Subject(r *Report) string {
	w := wordsOf(r.Contact.Language)
	return fmt.Sprintf(w.subject, r.Contact.Key(), r.Incidents, r.Addresses, r.From.Format(dayLayout), r.To.Format(dayLayout))
}

// CSVHeader is the first line of a report's CSV.
var CSVHeader = []string{"address", "first_seen", "last_seen", "incidents", "previous_incidents", "probes",
	"traps", "actions", "greylisted", "greylist_score", "greylist_tags"}

// WriteCSV writes one line per active address; lists are space-separated, times RFC 3339.
func WriteCSV(out io.Writer, r *Report) error {
	cw := csv.NewWriter(out)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("write report CSV: %w", err)
	}
	for _, h := range r.Hosts {
		score := ""
		if h.Greylisted {
			score = strconv.FormatFloat(h.Score, 'f', -1, 64)
		}
		if err := cw.Write([]string{h.IP.String(), h.FirstSeen.Format(time.RFC3339), h.LastSeen.Format(time.RFC3339),
			strconv.FormatInt(h.Incidents, 10), strconv.FormatInt(h.Prev, 10), strconv.Itoa(h.Probes),
			strings.Join(h.Traps, " "), strings.Join(h.Actions, " "), strconv.FormatBool(h.Greylisted), score,
			strings.Join(h.Tags, " ")}); err != nil {
			return fmt.Errorf("write report CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write report CSV: %w", err)
	}
	return nil
}

// IDEA is one event of the IDEA format (https://idea.cesnet.cz), the fields a report fills.
type IDEA struct {
	Format       string       `json:"Format"`
	ID           string       `json:"ID"`
	CreateTime   time.Time    `json:"CreateTime"`
	DetectTime   time.Time    `json:"DetectTime"`
	EventTime    time.Time    `json:"EventTime"`
	CeaseTime    time.Time    `json:"CeaseTime"`
	WinStartTime time.Time    `json:"WinStartTime"`
	WinEndTime   time.Time    `json:"WinEndTime"`
	Category     []string     `json:"Category"`
	ConnCount    int64        `json:"ConnCount"`
	Source       []IDEASource `json:"Source"`
	Node         []IDEANode   `json:"Node"`
	Note         string       `json:"Note,omitempty"`
}

// IDEASource is the attacking address.
type IDEASource struct {
	IP4 []string `json:"IP4,omitempty"`
	IP6 []string `json:"IP6,omitempty"`
}

// IDEANode names the detector.
type IDEANode struct {
	Name string   `json:"Name"`
	Type []string `json:"Type"`
	SW   []string `json:"SW"`
}

// ideaNamespace makes event IDs deterministic: the same report built again carries the same IDs,
// so a receiver can drop an event it already has.
var ideaNamespace = uuid.MustParse("6d1f8a52-3c1e-4f0b-9a57-5e0c2b7d4a10")

// categories maps what an address did to IDEA categories: login attempts are Attempt.Login,
// every other action (connections, requests, port scans) is Recon.Scanning.
func categories(actions []string) []string {
	var login, scan bool
	for _, a := range actions {
		if a == "login" {
			login = true
		} else {
			scan = true
		}
	}
	var out []string
	if login {
		out = append(out, "Attempt.Login")
	}
	if scan {
		out = append(out, "Recon.Scanning")
	}
	return out
}

// Events returns the report's IDEA events, one per active address. The probes attacked are not
// named (Target is left out): a probe's identity is private to its owner.
func Events(r *Report) []IDEA {
	events := make([]IDEA, 0, len(r.Hosts))
	for _, h := range r.Hosts {
		src := IDEASource{}
		if h.IP.Is4() {
			src.IP4 = []string{h.IP.String()}
		} else {
			src.IP6 = []string{h.IP.String()}
		}
		name := strings.Join([]string{r.Contact.Key(), string(r.Contact.Cadence), r.From.Format(time.RFC3339), h.IP.String()}, "|")
		events = append(events, IDEA{
			Format:       "IDEA0",
			ID:           uuid.NewSHA1(ideaNamespace, []byte(name)).String(),
			CreateTime:   r.Generated,
			DetectTime:   h.LastSeen,
			EventTime:    h.FirstSeen,
			CeaseTime:    h.LastSeen,
			WinStartTime: r.From,
			WinEndTime:   r.To,
			Category:     categories(h.Actions),
			ConnCount:    h.Incidents,
			Source:       []IDEASource{src},
			Node:         []IDEANode{{Name: "sview", Type: []string{"Honeypot", "Connection"}, SW: []string{"sview"}}},
			Note:         fmt.Sprintf("%d incidents on %d probes; traps %s; actions %s", h.Incidents, h.Probes, strings.Join(h.Traps, ","), strings.Join(h.Actions, ",")),
		})
	}
	return events
}

// WriteIDEA writes the report's IDEA events as one JSON array.
func WriteIDEA(out io.Writer, r *Report) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Events(r)); err != nil {
		return fmt.Errorf("write report IDEA: %w", err)
	}
	return nil
}
