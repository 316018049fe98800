package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"time"
)

// ErrConfig marks a delivery setting the operator can fix; test with errors.Is.
var ErrConfig = errors.New("invalid delivery setting")

// TLS modes of an smtp:// URL.
const (
	StartTLSRequired      = "required"      // STARTTLS or no delivery (the default)
	StartTLSOpportunistic = "opportunistic" // STARTTLS when the server offers it
	StartTLSNone          = "none"          // plain text, for a relay on the same host
)

// SMTP is how reports leave by e-mail.
type SMTP struct {
	Addr     string // host:port
	Implicit bool   // TLS from the first byte (smtps://)
	StartTLS string // for smtp://: StartTLSRequired, StartTLSOpportunistic or StartTLSNone
	Username string // AUTH PLAIN when set
	Password string
	TLS      *tls.Config
	Timeout  time.Duration // per connection (default 1 minute)
}

// ParseSMTP reads smtp://[user:pass@]host[:port][?starttls=required|opportunistic|none][&ca=FILE]
// (port 587 by default) or smtps://[user:pass@]host[:port][?ca=FILE] (port 465); ca names a PEM
// file of the certificate authorities to trust instead of the system's.
func ParseSMTP(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// The url.Error quotes the URL, password and all: keep only its reason.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("%w: SMTP URL: %v", ErrConfig, err)
	}
	s := &SMTP{StartTLS: StartTLSRequired, Timeout: time.Minute}
	port := "587"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.Implicit, port = true, "465"
	default:
		return nil, fmt.Errorf("%w: SMTP URL scheme %q: want smtp or smtps", ErrConfig, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%w: SMTP URL has no host", ErrConfig)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	s.Addr = net.JoinHostPort(u.Hostname(), port)
	s.TLS = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	q := u.Query()
	for k := range q {
		if k != "starttls" && k != "ca" {
			return nil, fmt.Errorf("%w: SMTP URL parameter %q: want starttls or ca", ErrConfig, k)
		}
	}
	if v := q.Get("starttls"); v != "" {
		if s.Implicit {
			return nil, fmt.Errorf("%w: starttls with smtps: the connection is TLS from the start", ErrConfig)
		}
		if v != StartTLSRequired && v != StartTLSOpportunistic && v != StartTLSNone {
			return nil, fmt.Errorf("%w: starttls=%q: want required, opportunistic or none", ErrConfig, v)
		}
		s.StartTLS = v
	}
	if ca := q.Get("ca"); ca != "" {
		pem, err := os.ReadFile(ca) // #nosec G304 -- the CA file the operator configured
		if err != nil {
			return nil, fmt.Errorf("%w: SMTP CA file: %v", ErrConfig, err)
		}
		s.TLS.RootCAs = x509.NewCertPool()
		if !s.TLS.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: SMTP CA file %s holds no PEM certificate", ErrConfig, ca)
		}
	}
	return s, nil
}

// Message is one report on its way to a contact.
type Message struct {
	ID      string // Message-ID without angle brackets, the same for every attempt
	From    string
	To      []string
	Subject string
	Date    time.Time
	Text    string // the report as text
	Files   []File // attachments
}

// File is an attachment.
type File struct {
	Name, ContentType string
	Data              []byte
}

// MessageID is the Message-ID of the report of contact key about the window of cadence starting
// at from, at the domain of the sender: deterministic, so that a report sent again after a crash
// (docs/reports.md, "The ledger") carries the Message-ID of the first attempt.
func MessageID(key, cadence string, from time.Time, sender string) string {
	sum := sha256.Sum256([]byte(key + "|" + cadence + "|" + from.UTC().Format(time.RFC3339)))
	domain := "sview.invalid"
	if at := strings.LastIndexByte(sender, '@'); at >= 0 && at < len(sender)-1 {
		domain = sender[at+1:]
	}
	return "report." + hex.EncodeToString(sum[:16]) + "@" + domain
}

// Bytes renders m as an RFC 5322 message: the text, then the attachments (multipart/mixed).
func (m *Message) Bytes() ([]byte, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	h := []string{
		"From: " + m.From,
		"To: " + strings.Join(m.To, ", "),
		"Subject: " + mime.QEncoding.Encode("utf-8", m.Subject),
		"Date: " + m.Date.Format(time.RFC1123Z),
		"Message-ID: <" + m.ID + ">",
		"MIME-Version: 1.0",
		"Auto-Submitted: auto-generated",
		"Content-Type: multipart/mixed; boundary=\"" + mw.Boundary() + "\"",
	}
	b.WriteString(strings.Join(h, "\r\n") + "\r\n\r\n")
	part, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return nil, err
	}
	qp := quotedprintable.NewWriter(part)
	if _, err := io.WriteString(qp, m.Text); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	for _, f := range m.Files {
		part, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(f.ContentType, map[string]string{"name": f.Name})},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": f.Name})},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(f.Data)
		for len(enc) > 76 {
			if _, err := io.WriteString(part, enc[:76]+"\r\n"); err != nil {
				return nil, err
			}
			enc = enc[76:]
		}
		if _, err := io.WriteString(part, enc+"\r\n"); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Send delivers m over one SMTP connection. It returns nil only once the server has answered
// the end of the data with 250: from then on the message is the server's.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	body, err := m.Bytes()
	if err != nil {
		return fmt.Errorf("compose message: %w", err)
	}
	d := net.Dialer{Timeout: s.Timeout}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.Addr, err)
	}
	if s.Implicit {
		conn = tls.Client(conn, s.TLS)
	}
	// The whole conversation is bounded, and ctx ends it early.
	_ = conn.SetDeadline(time.Now().Add(s.Timeout)) // a net.Conn fresh from Dial accepts it
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("greeting of %s: %w", s.Addr, err)
	}
	defer c.Close()
	if err := s.hello(c); err != nil {
		return err
	}
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("MAIL FROM %s: %w", m.From, err)
	}
	for _, to := range m.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("send data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of data: %w", err)
	}
	_ = c.Quit() // the message is accepted; a failed goodbye changes nothing
	return nil
}

// hello greets the server, upgrades to TLS as configured and authenticates.
func (s *SMTP) hello(c *smtp.Client) error {
	if err := c.Hello(helloName()); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	_, isTLS := c.TLSConnectionState()
	host, _, _ := net.SplitHostPort(s.Addr)
	if !s.Implicit && s.StartTLS != StartTLSNone {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.TLS); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
			isTLS = true
		} else if s.StartTLS == StartTLSRequired {
			return fmt.Errorf("%w: %s does not offer STARTTLS (set starttls=opportunistic or none to send in the clear)", ErrConfig, s.Addr)
		}
	}
	if s.Username == "" {
		return nil
	}
	if !isTLS && !isLoopback(host) {
		return fmt.Errorf("%w: refusing to send the SMTP password to %s without TLS", ErrConfig, s.Addr)
	}
	if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
		return fmt.Errorf("AUTH PLAIN as %s: %w", s.Username, err)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// helloName is the name sview gives in EHLO: the host's name when it has one.
func helloName() string {
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \t\r\n") {
		return h
	}
	return "localhost"
}

// WebhookPayload is what a webhook receives: the summary of a report and its IDEA events.
type WebhookPayload struct {
	ID        string    `json:"id"` // the report's Message-ID, also in the Idempotency-Key header
	Contact   string    `json:"contact"`
	Cadence   string    `json:"cadence"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Incidents int64     `json:"incidents"`
	Previous  int64     `json:"previousIncidents"`
	Addresses int       `json:"addresses"`
	Events    []IDEA    `json:"events"`
}

// postWebhook posts p as JSON to url; any 2xx answer is a delivery.
func postWebhook(ctx context.Context, client *http.Client, target string, p WebhookPayload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode webhook payload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", p.ID)
	resp, err := client.Do(req) // #nosec G107 -- the URL is the contact's webhook, set by the operator
	if err != nil {
		// The URL may carry a token: the error names the contact, not the URL.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post webhook: %s", resp.Status)
	}
	return nil
}

// validSender checks the From address.
func validSender(from string) error {
	a, err := mail.ParseAddress(from)
	if err != nil || a.Address != from {
		return fmt.Errorf("%w: sender %q: want a bare address such as sview@example.net", ErrConfig, from)
	}
	return nil
}
