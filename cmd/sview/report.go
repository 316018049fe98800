package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sview-project/sview/internal/contacts"
	"github.com/sview-project/sview/internal/report"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/provisioning"
)

// reportFlags are the delivery settings shared by `sview report` and `sview run`.
type reportFlags struct {
	fs        *flag.FlagSet
	smtpURL   *string
	from      *string
	rateLimit *int
	catchUp   *time.Duration
}

func addReportFlags(fs *flag.FlagSet) (*reportFlags, error) {
	rate := report.DefaultRateLimit
	if v := os.Getenv("SVIEW_REPORT_RATE_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("SVIEW_REPORT_RATE_LIMIT %q: want a positive number", v)
		}
		rate = n
	}
	// The URL may hold a password: the environment's value is not the flag's default, which
	// --help would print.
	return &reportFlags{
		fs: fs,
		smtpURL: fs.String("smtp-url", "",
			"reports: smtp://user:pass@host:587?starttls=required|opportunistic|none[&ca=FILE] or smtps://…; empty sends no e-mail (default env SVIEW_SMTP_URL)"),
		from:      fs.String("report-from", os.Getenv("SVIEW_REPORT_FROM"), "reports: sender address of the e-mails (env SVIEW_REPORT_FROM)"),
		rateLimit: fs.Int("rate-limit", rate, "reports: most messages a contact gets on one channel within an hour (env SVIEW_REPORT_RATE_LIMIT)"),
		catchUp:   fs.Duration("catch-up", report.DefaultCatchUp, "reports: send reports of windows that ended this long ago at most"),
	}, nil
}

// options turns the flags into report options; a configured SMTP server needs a sender.
func (f *reportFlags) options(e *env) (report.Options, error) {
	opts := report.Options{From: *f.from, RateLimit: *f.rateLimit, CatchUp: *f.catchUp, Logger: e.logger}
	if *f.rateLimit < 1 || *f.catchUp <= 0 {
		return opts, fmt.Errorf("report: --rate-limit %d, --catch-up %s: want positive values", *f.rateLimit, *f.catchUp)
	}
	smtpURL := os.Getenv("SVIEW_SMTP_URL")
	f.fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "smtp-url" {
			smtpURL = *f.smtpURL
		}
	})
	if smtpURL != "" {
		s, err := report.ParseSMTP(smtpURL)
		if err != nil {
			return opts, err
		}
		if *f.from == "" {
			return opts, fmt.Errorf("report: an SMTP server is configured but no sender: set SVIEW_REPORT_FROM or --report-from")
		}
		opts.SMTP = s
	}
	return opts, nil
}

func cmdReport(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("report")
	cadence := fs.String("period", "", "only the contacts of this cadence: 1d, 1w or 1m (default: all)")
	dryRun := fs.Bool("dry-run", false, "build each contact's latest report and send nothing; the text goes to standard output unless --out is given")
	out := fs.String("out", "", "write each report built to this directory as text, CSV and IDEA JSON")
	at := timeFlag(fs, "at", "pretend it is this time (RFC 3339 or a UTC date; default now): the windows end before it")
	rf, err := addReportFlags(fs)
	if err != nil {
		return err
	}
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: sview report [--period 1d|1w|1m] [--dry-run] [--out DIR] [flags]")
		fmt.Fprintln(e.stderr, "  Builds the due report of every contact (sview import contacts) and sends it by e-mail and webhook,")
		fmt.Fprintln(e.stderr, "  once: the ledger (report_deliveries) records what was sent. See docs/reports.md.")
		fs.PrintDefaults()
	}
	if _, err := parseAll(fs, args, 0); err != nil {
		return err
	}
	opts, err := rf.options(e)
	if err != nil {
		return err
	}
	if *cadence != "" {
		c, err := contacts.ParseCadence(*cadence)
		if err != nil {
			return fmt.Errorf("report: --period: %w", err)
		}
		opts.Cadences = []contacts.Cadence{c}
	}
	opts.DryRun, opts.OutDir = *dryRun, *out
	if *dryRun && *out == "" {
		opts.Text = e.stdout
	}
	if !at.IsZero() {
		opts.Now = func() time.Time { return at.Time }
	}
	pool, err := openPool(ctx, e, "sview-report")
	if err != nil {
		return err
	}
	defer pool.Close()
	if !*dryRun {
		release, ok, err := report.Lock(ctx, pool)
		if err != nil {
			return fmt.Errorf("report: take the report lock: %w", err)
		}
		if !ok {
			return fmt.Errorf("report: another sview (run or report) is sending reports now")
		}
		defer release()
		if opts.SMTP == nil {
			e.logger.Warn("no SMTP server configured (SVIEW_SMTP_URL): e-mails are not sent, webhooks are")
		}
	}
	start := time.Now()
	res, err := report.Run(ctx, pool, opts)
	fmt.Fprintf(e.stderr, "report: %s\n", res)
	if !*dryRun {
		// Recorded as the daemon's job is, so `sview status` shows the last sender's outcome.
		run := rollupstate.JobRun{Job: report.JobName, StartedAt: start, FinishedAt: time.Now(), OK: err == nil, Rows: int64(res.Sent)}
		run.DurationMS = run.FinishedAt.Sub(start).Milliseconds()
		if err != nil {
			run.Error = err.Error()
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := rollupstate.RecordJob(rctx, pool, run); rerr != nil {
			e.logger.Warn("could not record the job result", "err", rerr)
		}
	}
	return err
}

func importContacts(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("import contacts")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: sview import contacts FILE|-")
		fmt.Fprintln(e.stderr, "  CSV with the header space,emails,language,cadence,webhook (docs/reports.md);")
		fmt.Fprintln(e.stderr, "  the table becomes the file: contacts missing from it are removed, unless it has bad lines.")
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
	res, err := contacts.Import(ctx, pool, r)
	if err != nil {
		printBadLines(e, name, res.Bad.Lines(), res.Bad.Count())
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %d contacts (%d added, %d updated, %d unchanged, %d removed), %d bad lines\n",
		name, len(res.Contacts), res.Added, res.Updated, res.Unchanged, res.Removed, res.Bad.Count())
	printBadLines(e, name, res.Bad.Lines(), res.Bad.Count())
	if res.Bad.Count() > 0 {
		fmt.Fprintf(e.stderr, "%s: contacts missing from the file were kept because of the bad lines\n", name)
	}
	return nil
}

func cmdContacts(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("contacts: want ls, lookup or grafana")
	}
	switch args[0] {
	case "ls":
		fs := e.newFlags("contacts ls")
		if _, err := parseAll(fs, args[1:], 0); err != nil {
			return err
		}
		pool, err := openPool(ctx, e, "sview-report")
		if err != nil {
			return err
		}
		defer pool.Close()
		list, err := contacts.List(ctx, pool)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SPACE\tCADENCE\tLANGUAGE\tEMAILS\tWEBHOOK\tADDED")
		for _, c := range list {
			hook := "-"
			if c.Webhook != "" {
				hook = "yes"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Key(), c.Cadence, c.Language, strings.Join(c.Emails, " "), hook, fmtTime(c.CreatedAt))
		}
		return w.Flush()
	case "lookup":
		fs := e.newFlags("contacts lookup")
		asn := fs.Int("asn", 0, "the address's AS number (default: from geo_prefixes)")
		fs.Usage = func() {
			fmt.Fprintln(e.stderr, "usage: sview contacts lookup ADDRESS [--asn N]")
			fmt.Fprintln(e.stderr, "  the contact whose reports hold ADDRESS: the longest prefix, else the ASN")
			fs.PrintDefaults()
		}
		pos, err := parseAll(fs, args[1:], 1)
		if err != nil {
			return err
		}
		addr, err := netip.ParseAddr(pos[0])
		if err != nil {
			return fmt.Errorf("contacts lookup: %w", err)
		}
		pool, err := openPool(ctx, e, "sview-report")
		if err != nil {
			return err
		}
		defer pool.Close()
		c, ok, err := contacts.Lookup(ctx, pool, addr, *asn)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("contacts lookup: no contact covers %s", addr)
		}
		fmt.Fprintf(e.stdout, "%s %s %s\n", c.Key(), c.Cadence, strings.Join(c.Emails, " "))
		return nil
	case "grafana":
		return contactsGrafana(ctx, e, args[1:])
	}
	return fmt.Errorf("contacts: unknown action %q: want ls, lookup or grafana", args[0])
}

// contactsGrafana writes the alerting provisioning file that routes alerts labelled asn=N to
// the contact of AS N (docs/reports.md, "Grafana alerts").
func contactsGrafana(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("contacts grafana")
	out := fs.String("out", "", "write to FILE (replaced atomically), e.g. the mounted provisioning/alerting/contact-points.yaml; default standard output")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: sview contacts grafana [--out FILE]")
		fmt.Fprintln(e.stderr, "  the shipped contact points and policy plus one contact point and route (asn = N) per ASN contact")
		fs.PrintDefaults()
	}
	if _, err := parseAll(fs, args, 0); err != nil {
		return err
	}
	pool, err := openPool(ctx, e, "sview-report")
	if err != nil {
		return err
	}
	defer pool.Close()
	list, err := contacts.List(ctx, pool)
	if err != nil {
		return err
	}
	b, skipped, err := provisioning.ContactAlerting(list)
	if err != nil {
		return err
	}
	if len(skipped) > 0 {
		e.logger.Info("prefix contacts get no alerts: alerts are labelled by ASN", "contacts", strings.Join(skipped, " "))
	}
	if *out == "" {
		_, err := e.stdout.Write(b)
		return err
	}
	if err := writeFileAtomic(*out, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return fmt.Errorf("contacts grafana: %w", err)
	}
	e.logger.Info("alerting provisioning written", "file", *out, "contact_points", len(list)-len(skipped))
	return nil
}
