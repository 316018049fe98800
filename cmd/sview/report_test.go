package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/report"
)

// TestReportCommands imports the demo contacts, looks addresses up and dry-runs the reports of
// a seeded week.
func TestReportCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t, `
		INSERT INTO incidents_hourly (time, raw_count, identity_id, trap, action, ip, country, asn) VALUES
			('2026-11-24 10:00Z', 12, 1, 'minipot_telnet', 'login', '195.113.1.1', 'CZ', 2852),
			('2026-11-25 10:00Z', 3, 1, 'minipot_telnet', 'login', '147.32.7.7', 'CZ', 2852),
			('2026-11-25 10:00Z', 9, 1, 'minipot_telnet', 'login', '198.51.100.1', 'US', 64500);
		INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ('incidents', 'hourly', '2026-12-01 00:00Z')`)
	demo := filepath.Join("..", "..", "internal", "contacts", "testdata", "demo.csv")
	require.Contains(t, c.run(cmdImport, "contacts", demo), "demo.csv: 6 contacts (6 added, 0 updated, 0 unchanged, 0 removed), 0 bad lines")
	require.Contains(t, c.run(cmdImport, "contacts", demo), "(0 added, 0 updated, 6 unchanged, 0 removed)")
	ls := c.run(cmdContacts, "ls")
	require.Contains(t, ls, "AS2852")
	require.Contains(t, ls, "142.93.0.0/16")
	require.Equal(t, "147.32.0.0/15 1d abuse@cvut.example\n", c.run(cmdContacts, "lookup", "147.32.7.7"))
	require.Equal(t, "AS2852 1w abuse@cesnet.example csirt@cesnet.example\n", c.run(cmdContacts, "lookup", "195.113.1.1", "--asn", "2852"))
	require.ErrorContains(t, c.call(cmdContacts, "lookup", "192.0.2.1"), "no contact covers 192.0.2.1")
	alerting := c.run(cmdContacts, "grafana")
	require.Contains(t, alerting, "name: sview-as2852")
	require.Contains(t, alerting, "object_matchers: [[asn, =, \"2852\"]]")
	require.NotContains(t, alerting, "cvut", "prefix contacts get no route")

	out := c.run(cmdReport, "--dry-run", "--period", "1w", "--at", "2026-12-01")
	require.Contains(t, out, "Hlášení sview pro AS2852 (týdenní)")
	require.Contains(t, out, "195.113.1.1")
	require.NotContains(t, out, "147.32.7.7", "the prefix contact's address is not in the ASN's report")
	require.NotContains(t, out, "198.51.100.1")
	require.Contains(t, c.stderr.String(), "report: 2 contacts, 1 reports with activity, 1 without")

	dir := t.TempDir()
	c.run(cmdReport, "--dry-run", "--period", "1d", "--at", "2026-11-26", "--out", dir)
	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	require.Equal(t, []string{"sview-147.32.0.0_15-1d-2026-11-25.csv", "sview-147.32.0.0_15-1d-2026-11-25.idea.json",
		"sview-147.32.0.0_15-1d-2026-11-25.txt"}, names)

	// Not a dry run, without SMTP: nothing is sent or recorded, and the reason is logged. The
	// contacts were added just now, after the week: they get no report of it until backdated.
	c.run(cmdReport, "--period", "1w", "--at", "2026-12-01")
	require.Contains(t, c.stderr.String(), "report: 2 contacts, 0 reports with activity, 0 without")
	_, err = c.db.Exec(c.ctx, "UPDATE contacts SET created_at = '2026-11-01Z'")
	require.NoError(t, err)
	c.run(cmdReport, "--period", "1w", "--at", "2026-12-01")
	require.Contains(t, c.stderr.String(), "report: 2 contacts, 1 reports with activity, 1 without; 0 messages sent, 0 failed, 0 deferred, 1 without a configured sender")
	var n int
	require.NoError(t, c.db.QueryRow(c.ctx, "SELECT count(*) FROM report_deliveries").Scan(&n))
	require.Zero(t, n)
	require.Regexp(t, `report\s+\S+ \S+\s+true\s+0`, c.run(cmdStatus), "sview status shows the run")

	require.ErrorContains(t, c.call(cmdReport, "--period", "2w"), "want 1d, 1w or 1m")
	require.ErrorContains(t, c.call(cmdReport, "--smtp-url", "smtp://mail.example"), "no sender")
	require.ErrorContains(t, c.call(cmdReport, "--smtp-url", "ftp://mail.example", "--report-from", "a@b.example"), "want smtp or smtps")
	require.ErrorContains(t, c.call(cmdImport, "contacts"), "want 1 argument(s), got 0")
}

// TestRunSendsReports: `sview run` sends the due reports at its start (then on its schedule),
// here to a webhook, and records them in the ledger.
func TestRunSendsReports(t *testing.T) {
	t.Parallel()
	c := newCLI(t, `
		INSERT INTO incidents_hourly (time, raw_count, identity_id, trap, action, ip, country, asn) VALUES
			(date_trunc('day', now()) - interval '14 hours', 5, 1, 'minipot_ftp', 'login', '217.31.192.1', 'CZ', 25192);
		INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ('incidents', 'hourly', date_trunc('hour', now()))`)
	got := make(chan report.WebhookPayload, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p report.WebhookPayload
		if json.NewDecoder(r.Body).Decode(&p) == nil {
			got <- p
		}
	}))
	t.Cleanup(hs.Close)
	in := filepath.Join(t.TempDir(), "contacts.csv")
	require.NoError(t, os.WriteFile(in, []byte("space,emails,language,cadence,webhook\nAS25192,,en,1d,"+hs.URL+"\n"), 0o600))
	c.run(cmdImport, "contacts", in)
	_, err := c.db.Exec(c.ctx, "UPDATE contacts SET created_at = now() - interval '3 days'")
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(c.ctx)
	done := make(chan error, 1)
	go func() {
		done <- cmdRun(ctx, c.e, []string{"--metrics-listen", "", "--greylist-schedule", "", "--leak-schedule", "", "--smtp-url", ""})
	}()
	select {
	case p := <-got:
		require.Equal(t, "AS25192", p.Contact)
		require.EqualValues(t, 5, p.Incidents)
	case <-time.After(30 * time.Second):
		t.Fatal("no report reached the webhook")
	}
	// The answer is on its way: the job records it before the daemon is stopped.
	require.Eventually(t, func() bool {
		var state string
		err := c.db.QueryRow(c.ctx, "SELECT state FROM report_deliveries").Scan(&state)
		return err == nil && state == report.StateSent
	}, 10*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

// The SMTP URL of the environment, password and all, is used but never shown by --help.
func TestSMTPURLFromEnvironment(t *testing.T) {
	t.Setenv("SVIEW_SMTP_URL", "smtp://reports:hunter2@mail.example?starttls=maybe")
	t.Setenv("SVIEW_DATABASE_URL", "")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"report", "--help"}, &stdout, &stderr))
	require.Contains(t, stdout.String(), "-smtp-url")
	require.NotContains(t, stdout.String(), "hunter2")
	// The environment's URL is parsed (and refused here), unless the flag overrides it.
	err := run(context.Background(), []string{"report", "--report-from", "a@b.example"}, &stdout, &stderr)
	require.ErrorContains(t, err, "starttls")
	err = run(context.Background(), []string{"report", "--smtp-url", "", "--report-from", "a@b.example"}, &stdout, &stderr)
	require.ErrorContains(t, err, "no database configured")
}
