package report

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/contacts"
	"github.com/sview-project/sview/internal/testenv"
)

// ledgerRow is what a test reads back from report_deliveries.
type ledgerRow struct {
	Contact, Cadence, Channel, State string
	From                             time.Time
	Attempts                         int
}

func ledger(t *testing.T, pool *pgxpool.Pool) []ledgerRow {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT contact, cadence, channel, state, window_start, attempts
		FROM report_deliveries ORDER BY contact, window_start, channel`)
	require.NoError(t, err)
	defer rows.Close()
	var out []ledgerRow
	for rows.Next() {
		var l ledgerRow
		require.NoError(t, rows.Scan(&l.Contact, &l.Cadence, &l.Channel, &l.State, &l.From, &l.Attempts))
		l.From = l.From.UTC()
		out = append(out, l)
	}
	require.NoError(t, rows.Err())
	return out
}

// hook is a webhook receiver whose answer the test sets.
type hook struct {
	mu       sync.Mutex
	status   int
	payloads []WebhookPayload
	keys     []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.status != http.StatusOK {
		w.WriteHeader(h.status)
		return
	}
	var p WebhookPayload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.payloads = append(h.payloads, p)
	h.keys = append(h.keys, r.Header.Get("Idempotency-Key"))
}

func (h *hook) set(status int) {
	h.mu.Lock()
	h.status = status
	h.mu.Unlock()
}

func (h *hook) received() ([]WebhookPayload, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]WebhookPayload(nil), h.payloads...), append([]string(nil), h.keys...)
}

func TestRunDelivers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	ms := startMailServer(t)
	wh := &hook{status: http.StatusServiceUnavailable}
	hs := httptest.NewServer(wh)
	t.Cleanup(hs.Close)
	smtpCfg, err := ParseSMTP(ms.URL)
	require.NoError(t, err)

	importContacts(t, pool, at(t, "2026-11-01T00:00:00Z"),
		"AS2852,a@cesnet.example;b@cesnet.example,cs,1d,",
		"AS25192,,en,1d,"+hs.URL+"/hook?token=secret",
		"AS64500,c@quiet.example,en,1d,")
	// Three days with activity of AS2852 and AS25192, the last not rolled up yet; AS64500 is quiet.
	seedHourly(t, pool, at(t, "2026-12-05T00:00:00Z"),
		row{"2026-12-02T10:00:00Z", 3, 1, "minipot_telnet", "login", "195.113.1.1", 2852},
		row{"2026-12-03T10:00:00Z", 4, 1, "minipot_telnet", "login", "195.113.1.1", 2852},
		row{"2026-12-04T10:00:00Z", 5, 1, "minipot_telnet", "login", "195.113.1.1", 2852},
		row{"2026-12-05T10:00:00Z", 6, 1, "minipot_telnet", "login", "195.113.1.1", 2852},
		row{"2026-12-04T11:00:00Z", 2, 1, "minipot_ftp", "login", "217.31.192.1", 25192},
	)
	opts := Options{SMTP: smtpCfg, From: "sview@reports.example", HTTP: hs.Client(), CatchUp: 72 * time.Hour,
		RateLimit: 2, Now: func() time.Time { return at(t, "2026-12-06T06:00:00Z") }}

	// Windows ending within 72 h: Dec 3, 4 and 5; Dec 5 is not rolled up. AS2852 may get two
	// messages an hour: Dec 3 and 4 go, the rest waits. The webhook is down.
	res, err := Run(ctx, pool, opts)
	require.Error(t, err, "the webhook failed")
	require.Equal(t, Result{Contacts: 3, Built: 3, Empty: 3, Sent: 2, Failed: 1, Deferred: 3}, res)
	msgs := ms.messages()
	require.Len(t, msgs, 2)
	require.Equal(t, "sview@reports.example", msgs[0].from)
	require.Equal(t, []string{"a@cesnet.example", "b@cesnet.example"}, msgs[0].to)
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msgs[0].msg.Header.Get("Subject"))
	require.NoError(t, err)
	require.Equal(t, "[sview] AS2852: 4 incidentů z 1 adres, 2026-12-03 až 2026-12-04", subject)
	require.Equal(t, "<"+MessageID("AS2852", "1d", at(t, "2026-12-03T00:00:00Z"), "sview@reports.example")+">", msgs[0].msg.Header.Get("Message-ID"))
	require.NotEqual(t, msgs[0].msg.Header.Get("Message-ID"), msgs[1].msg.Header.Get("Message-ID"))
	parts := readParts(t, msgs[1])
	require.Len(t, parts, 4)
	require.Contains(t, parts[0], "Hlášení sview pro AS2852 (denní)")
	require.Contains(t, parts[1], "195.113.1.1,2026-12-04T10:00:00Z,2026-12-04T11:00:00Z,5,4,1,minipot_telnet,login,false,,")
	require.Contains(t, parts[2], `"Attempt.Login"`)
	require.Equal(t, "sview-AS2852-1d-2026-12-04.idea.json", parts[3])

	require.Equal(t, []ledgerRow{
		{"AS25192", "1d", "webhook", StateFailed, at(t, "2026-12-04T00:00:00Z"), 1},
		{"AS2852", "1d", "email", StateSent, at(t, "2026-12-03T00:00:00Z"), 1},
		{"AS2852", "1d", "email", StateSent, at(t, "2026-12-04T00:00:00Z"), 1},
	}, ledger(t, pool))
	var lastErr string
	require.NoError(t, pool.QueryRow(ctx, `SELECT last_error FROM report_deliveries WHERE channel = 'webhook'`).Scan(&lastErr))
	require.Contains(t, lastErr, "503")
	require.NotContains(t, lastErr, "secret")

	// The next run: the webhook is back and Dec 5 is rolled up; the rate limit still holds
	// AS2852 back, and nothing sent goes again.
	wh.set(http.StatusOK)
	seedHourly(t, pool, at(t, "2026-12-06T00:00:00Z"))
	res, err = Run(ctx, pool, opts)
	require.NoError(t, err)
	require.Equal(t, Result{Contacts: 3, Built: 2, Empty: 5, Sent: 1, Deferred: 1}, res)
	require.Len(t, ms.messages(), 2)
	payloads, keys := wh.received()
	require.Len(t, payloads, 1)
	require.Equal(t, "AS25192", payloads[0].Contact)
	require.EqualValues(t, 2, payloads[0].Incidents)
	require.Len(t, payloads[0].Events, 1)
	require.Equal(t, []string{"217.31.192.1"}, payloads[0].Events[0].Source[0].IP4)
	require.Equal(t, payloads[0].ID, keys[0])

	// An hour later the limit lets Dec 5 go; then nothing is left to send.
	_, err = pool.Exec(ctx, `UPDATE report_deliveries SET sent_at = sent_at - interval '1 hour'`)
	require.NoError(t, err)
	res, err = Run(ctx, pool, opts)
	require.NoError(t, err)
	require.Equal(t, 1, res.Sent)
	res, err = Run(ctx, pool, opts)
	require.NoError(t, err)
	require.Zero(t, res.Sent+res.Failed+res.Deferred)
	require.Len(t, ms.messages(), 3)
	payloads, _ = wh.received()
	require.Len(t, payloads, 1)
	for _, l := range ledger(t, pool) {
		require.Equal(t, StateSent, l.State, l)
	}

	// A sender that died between the server's 250 and the ledger's update left the row pending:
	// the report goes again, with the Message-ID of the first time (docs/reports.md).
	_, err = pool.Exec(ctx, `UPDATE report_deliveries SET state = 'pending', sent_at = NULL
		WHERE contact = 'AS2852' AND window_start = '2026-12-03Z'`)
	require.NoError(t, err)
	res, err = Run(ctx, pool, opts)
	require.NoError(t, err)
	require.Equal(t, 1, res.Sent)
	msgs = ms.messages()
	require.Len(t, msgs, 4)
	require.Equal(t, msgs[0].msg.Header.Get("Message-ID"), msgs[3].msg.Header.Get("Message-ID"))
}

// Without an SMTP server, e-mails are neither sent nor recorded, so they go once one is
// configured; a dry run writes the latest reports and touches no ledger.
func TestRunWithoutSender(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	importContacts(t, pool, at(t, "2026-11-01T00:00:00Z"), "AS2852,a@cesnet.example,en,1w,")
	seedHourly(t, pool, at(t, "2026-12-01T00:00:00Z"),
		row{"2026-11-24T10:00:00Z", 3, 1, "minipot_telnet", "login", "195.113.1.1", 2852})
	now := func() time.Time { return at(t, "2026-12-01T06:00:00Z") }

	res, err := Run(ctx, pool, Options{Now: now})
	require.NoError(t, err)
	require.Equal(t, Result{Contacts: 1, Built: 1, Unsent: 1}, res)
	require.Empty(t, ledger(t, pool))

	dir := t.TempDir()
	res, err = Run(ctx, pool, Options{Now: now, DryRun: true, OutDir: dir, Cadences: []contacts.Cadence{contacts.Weekly}})
	require.NoError(t, err)
	require.Equal(t, Result{Contacts: 1, Built: 1}, res)
	require.Empty(t, ledger(t, pool))
	for _, ext := range []string{".txt", ".csv", ".idea.json"} {
		require.FileExists(t, dir+"/sview-AS2852-1w-2026-11-23"+ext)
	}

	res, err = Run(ctx, pool, Options{Now: now, Cadences: []contacts.Cadence{contacts.Daily}})
	require.NoError(t, err)
	require.Zero(t, res.Contacts)

	_, err = Run(ctx, pool, Options{Now: now, SMTP: &SMTP{}, From: "not an address"})
	require.ErrorIs(t, err, ErrConfig)
}

// A server without STARTTLS gets no report unless the URL allows plain text, and a password
// never goes to it in the clear.
func TestSMTPSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url, want string
	}{
		{"smtp://mail.example", "mail.example:587"},
		{"smtps://u:p@mail.example", "mail.example:465"},
		{"smtp://[::1]:2525?starttls=none", "[::1]:2525"},
	} {
		s, err := ParseSMTP(tc.url)
		require.NoError(t, err, tc.url)
		require.Equal(t, tc.want, s.Addr)
	}
	for _, bad := range []string{"http://mail.example", "smtp://", "smtp://h?starttls=maybe", "smtps://h?starttls=none",
		"smtp://h?tls=1", "smtp://h?ca=/nonexistent.pem"} {
		_, err := ParseSMTP(bad)
		require.ErrorIs(t, err, ErrConfig, bad)
	}
	_, err := ParseSMTP("smtp://user:hunter2@h%zz")
	require.NotContains(t, err.Error(), "hunter2")

	ms := startMailServer(t)
	s, err := ParseSMTP(ms.URL)
	require.NoError(t, err)
	m := &Message{ID: "x@test", From: "a@b.example", To: []string{"c@d.example"}, Subject: "s", Date: time.Now(), Text: "hello\n"}
	require.NoError(t, s.Send(context.Background(), m))
	require.Len(t, ms.messages(), 1)

	// The test's CA is not trusted without ca=.
	untrusted, err := ParseSMTP(strings.Split(ms.URL, "?")[0])
	require.NoError(t, err)
	require.Error(t, untrusted.Send(context.Background(), m))
	// Wrong password.
	wrong, err := ParseSMTP(strings.Replace(ms.URL, "s3cret", "nope", 1))
	require.NoError(t, err)
	require.Error(t, wrong.Send(context.Background(), m))
	require.Len(t, ms.messages(), 1)
}

// readParts returns the text, the CSV and the IDEA JSON of a received report, and the file
// name of the last attachment.
func readParts(t *testing.T, m received) []string {
	t.Helper()
	_, params, err := mime.ParseMediaType(m.msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	mr := multipart.NewReader(strings.NewReader(m.body), params["boundary"])
	var out []string
	var last string
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p) // multipart decodes quoted-printable; base64 is decoded below
		require.NoError(t, err)
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			b = decodeBase64(t, string(b))
		}
		out = append(out, string(b))
		last = p.FileName()
	}
	return append(out, last)
}
