package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/contacts"
	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
)

// Defaults of Options.
const (
	DefaultCatchUp   = 7 * 24 * time.Hour
	DefaultRateLimit = 4
)

// Options tune Run; with the zero value, webhooks are sent and e-mails are not (no SMTP server).
type Options struct {
	// Cadences limits the run to contacts of these cadences (default: all).
	Cadences []contacts.Cadence
	// CatchUp is how old a window's end may be for its report to be still sent: a run after a
	// downtime sends the reports it missed within it (default DefaultCatchUp).
	CatchUp time.Duration
	// DryRun builds the report of each contact's latest window, whatever the ledger says,
	// writes it to OutDir and sends nothing.
	DryRun bool
	// OutDir, when set, receives each report built as text, CSV and IDEA JSON.
	OutDir string
	// Text, when set, receives the text of each report built.
	Text io.Writer
	// SMTP sends the e-mail channel; nil leaves e-mails unsent (and unrecorded, so that they go
	// once it is configured, while still within CatchUp).
	SMTP *SMTP
	// From is the sender address of the e-mails (needed with SMTP).
	From string
	// HTTP posts the webhooks (default: a client with a 30 s timeout).
	HTTP *http.Client
	// RateLimit is the most messages a contact gets on one channel within an hour (default
	// DefaultRateLimit); the rest wait for a later run.
	RateLimit int
	Logger    *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Result counts what a run did.
type Result struct {
	Contacts int // contacts considered
	Built    int // reports built with activity in them
	Empty    int // windows without activity: nothing to send
	Sent     int // messages accepted by their receivers
	Failed   int // messages that failed; the next run tries again
	Deferred int // messages left for a later run: over the rate limit, or the window not rolled up yet
	Unsent   int // e-mails not sent because no SMTP server is configured
}

func (r Result) String() string {
	return fmt.Sprintf("%d contacts, %d reports with activity, %d without; %d messages sent, %d failed, %d deferred, %d without a configured sender",
		r.Contacts, r.Built, r.Empty, r.Sent, r.Failed, r.Deferred, r.Unsent)
}

// Run builds the due reports of every contact and delivers them. Outside a dry run the caller
// holds the job's lock (Lock). A window is due when it ended within CatchUp, after the contact
// was added, and the hourly rollup of incidents has closed it; each channel of a due window
// without a sent row in the ledger is claimed, sent and recorded. A failure of one message is
// counted and logged, and the run goes on; the error returned joins them.
func Run(ctx context.Context, pool *pgxpool.Pool, opts Options) (Result, error) {
	var res Result
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "report")
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if opts.CatchUp <= 0 {
		opts.CatchUp = DefaultCatchUp
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = DefaultRateLimit
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.SMTP != nil {
		if err := validSender(opts.From); err != nil {
			return res, err
		}
	}
	all, err := contacts.List(ctx, pool)
	if err != nil {
		return res, err
	}
	closed, ok, err := rollupstate.ReadWatermark(ctx, pool, rollupstate.Key{Table: derived.Incidents, Precision: period.Hourly})
	if err != nil {
		return res, err
	}
	if !ok {
		log.Info("no report is due: the hourly rollup of incidents has not started")
	}
	t := now().UTC()
	var errs []error
	for _, c := range all {
		if len(opts.Cadences) > 0 && !slices.Contains(opts.Cadences, c.Cadence) {
			continue
		}
		res.Contacts++
		for _, w := range windows(c, t, opts) {
			if ctx.Err() != nil {
				return res, errors.Join(append(errs, ctx.Err())...)
			}
			if w[1].After(closed) {
				if opts.DryRun {
					log.Warn("window not rolled up yet: the report misses its latest hours", "contact", c.Key(), "to", w[1], "rolled_up_to", closed)
				} else {
					log.Info("report deferred: window not rolled up yet", "contact", c.Key(), "to", w[1], "rolled_up_to", closed)
					res.Deferred++
					continue
				}
			}
			if err := runWindow(ctx, pool, c, w[0], w[1], t, opts, &res, log); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return res, errors.Join(errs...)
}

// windows lists the windows of c to consider at t, oldest first: in a dry run the latest one,
// else those that ended within the catch-up horizon and after c was added.
func windows(c contacts.Contact, t time.Time, opts Options) [][2]time.Time {
	from, to := c.Cadence.Window(t)
	if opts.DryRun {
		return [][2]time.Time{{from, to}}
	}
	var out [][2]time.Time
	for to.After(t.Add(-opts.CatchUp)) && to.After(c.CreatedAt) {
		out = append(out, [2]time.Time{from, to})
		from, to = c.Cadence.Previous(from)
	}
	slices.Reverse(out)
	return out
}

// channels lists the delivery channels c has.
func channels(c contacts.Contact) []string {
	var out []string
	if len(c.Emails) > 0 {
		out = append(out, ChannelEmail)
	}
	if c.Webhook != "" {
		out = append(out, ChannelWebhook)
	}
	return out
}

// runWindow builds and delivers the report of c about [from, to).
func runWindow(ctx context.Context, pool *pgxpool.Pool, c contacts.Contact, from, to, now time.Time, opts Options, res *Result, log *slog.Logger) error {
	d := delivery{contact: c.Key(), cadence: c.Cadence, from: from, to: to}
	pending := channels(c)
	if !opts.DryRun {
		sent, err := sentChannels(ctx, pool, d)
		if err != nil {
			return err
		}
		pending = slices.DeleteFunc(pending, func(ch string) bool { return sent[ch] })
		if len(pending) == 0 {
			return nil
		}
	}
	r, err := Build(ctx, pool, c, from, to, now)
	if err != nil {
		return err
	}
	if r.Empty() {
		res.Empty++
		return nil
	}
	res.Built++
	files, err := render(r)
	if err != nil {
		return err
	}
	if opts.OutDir != "" {
		if err := writeFiles(opts.OutDir, files); err != nil {
			return err
		}
	}
	if opts.Text != nil {
		if _, err := fmt.Fprintf(opts.Text, "%s\n", files[0].Data); err != nil {
			return fmt.Errorf("print report: %w", err)
		}
	}
	if opts.DryRun {
		return nil
	}
	sender := opts.From
	if sender == "" {
		sender = "sview@sview.invalid"
	}
	id := MessageID(c.Key(), string(c.Cadence), from, sender)
	var errs []error
	for _, ch := range pending {
		d.channel = ch
		if ch == ChannelEmail && opts.SMTP == nil {
			log.Info("e-mail not sent: no SMTP server configured", "contact", c.Key(), "from", from)
			res.Unsent++
			continue
		}
		n, err := recentlySent(ctx, pool, d.contact, ch)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if n >= opts.RateLimit {
			log.Info("report deferred: rate limit", "contact", c.Key(), "channel", ch, "sent_last_hour", n, "limit", opts.RateLimit)
			res.Deferred++
			continue
		}
		recipients := c.Emails
		if ch == ChannelWebhook {
			recipients = []string{webhookHost(c.Webhook)}
		}
		attempt, ok, err := claim(ctx, pool, d, id, recipients)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		var sendErr error
		if ch == ChannelEmail {
			sendErr = opts.SMTP.Send(ctx, &Message{ID: id, From: opts.From, To: c.Emails, Subject: Subject(r),
				Date: now, Text: string(files[0].Data), Files: files[1:]})
		} else {
			sendErr = postWebhook(ctx, opts.HTTP, c.Webhook, WebhookPayload{ID: id, Contact: c.Key(), Cadence: string(c.Cadence),
				From: r.From, To: r.To, Incidents: r.Incidents, Previous: r.Prev, Addresses: r.Addresses, Events: Events(r)})
		}
		// The outcome is recorded even when ctx ended meanwhile: a message the receiver took
		// must be marked sent (docs/reports.md, "The ledger").
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = finish(rctx, pool, d, sendErr)
		cancel()
		if err != nil {
			errs = append(errs, err)
		}
		attrs := []any{"contact", c.Key(), "channel", ch, "cadence", c.Cadence, "from", from, "to", to, "attempt", attempt, "message_id", id}
		if sendErr != nil {
			res.Failed++
			log.Warn("report not delivered", append(attrs, "err", sendErr)...)
			errs = append(errs, fmt.Errorf("deliver the %s report of %s: %w", ch, c.Key(), sendErr))
			continue
		}
		res.Sent++
		log.Info("report delivered", attrs...)
	}
	return errors.Join(errs...)
}

// webhookHost is what the ledger keeps of a webhook URL: its host, not a token it may carry.
func webhookHost(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		raw = raw[i+3:]
	}
	if i := strings.IndexAny(raw, "/?#"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.LastIndexByte(raw, '@'); i >= 0 {
		raw = raw[i+1:]
	}
	return raw
}

// render returns the report as files: the text first, then the CSV and the IDEA events.
func render(r *Report) ([]File, error) {
	base := fmt.Sprintf("sview-%s-%s-%s", fileSafe(r.Contact.Key()), r.Contact.Cadence, r.From.Format(dayLayout))
	var text, table, idea bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		return nil, err
	}
	if err := WriteCSV(&table, r); err != nil {
		return nil, err
	}
	if err := WriteIDEA(&idea, r); err != nil {
		return nil, err
	}
	return []File{
		{Name: base + ".txt", ContentType: "text/plain", Data: text.Bytes()},
		{Name: base + ".csv", ContentType: "text/csv", Data: table.Bytes()},
		{Name: base + ".idea.json", ContentType: "application/json", Data: idea.Bytes()},
	}, nil
}

// fileSafe turns a contact's key into a file name part: 147.32.0.0/15 → 147.32.0.0_15.
func fileSafe(key string) string {
	return strings.NewReplacer("/", "_", ":", "-").Replace(key)
}

func writeFiles(dir string, files []File) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create report directory: %w", err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o600); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	return nil
}
