package report

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/contacts"
	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
)

// at parses an RFC 3339 time.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v.UTC()
}

// row is one row of incidents_hourly.
type row struct {
	hour   string // RFC 3339 bucket start
	count  int64
	probe  int64
	trap   string
	action string
	ip     string
	asn    int
}

// seedHourly writes rows into incidents_hourly and closes the hourly rollup of incidents up to
// closed, as the aggregator would have.
func seedHourly(t testing.TB, pool *pgxpool.Pool, closed time.Time, rows ...row) {
	t.Helper()
	ctx := context.Background()
	for _, r := range rows {
		_, err := pool.Exec(ctx, `INSERT INTO incidents_hourly (time, raw_count, identity_id, trap, action, ip, country, asn)
			VALUES ($1, $2, $3, $4::text::trap_t, $5::text::action_t, $6::inet, 'CZ', $7)`,
			at(t, r.hour), r.count, r.probe, r.trap, r.action, r.ip, r.asn)
		require.NoError(t, err)
	}
	require.NoError(t, rollupstate.AdvanceWatermark(ctx, pool, rollupstate.Key{Table: derived.Incidents, Precision: period.Hourly}, closed))
}

// importContacts loads a contacts CSV (header added) and backdates the contacts to added.
func importContacts(t testing.TB, pool *pgxpool.Pool, added time.Time, lines ...string) {
	t.Helper()
	ctx := context.Background()
	res, err := contacts.Import(ctx, pool, strings.NewReader("space,emails,language,cadence,webhook\n"+strings.Join(lines, "\n")+"\n"))
	require.NoError(t, err)
	require.Zero(t, res.Bad.Count(), res.Bad.Lines())
	_, err = pool.Exec(ctx, `UPDATE contacts SET created_at = $1`, added)
	require.NoError(t, err)
}

// mailServer is a real SMTP server (emersion/go-smtp) on loopback that offers STARTTLS with a
// certificate made for the test and requires AUTH PLAIN before it takes mail.
type mailServer struct {
	URL    string // smtp://user:secret@127.0.0.1:PORT?ca=FILE
	caFile string

	mu       sync.Mutex
	received []received
	// onMail and onData, when set, run as a client starts a message and once its data has been
	// read; an error refuses the message.
	onMail func(n int) error
	onData func(n int) error
	mails  int
}

// received is one accepted message.
type received struct {
	from string
	to   []string
	msg  *mail.Message
	body string
}

func (s *mailServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.received...)
}

func startMailServer(t *testing.T) *mailServer {
	t.Helper()
	cert, caPEM := selfSigned(t)
	ms := &mailServer{caFile: filepath.Join(t.TempDir(), "ca.pem")}
	require.NoError(t, os.WriteFile(ms.caFile, caPEM, 0o600))
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{server: ms}, nil }))
	srv.Domain = "mx.test"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		<-done
	})
	ms.URL = "smtp://reports:s3cret@" + l.Addr().String() + "?ca=" + ms.caFile
	return ms
}

// session is one SMTP connection to the mailServer.
type session struct {
	server *mailServer
	authed bool
	from   string
	to     []string
	n      int
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "reports" || pass != "s3cret" {
			return errors.New("wrong user or password")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.server.mu.Lock()
	s.server.mails++
	s.n = s.server.mails
	hook := s.server.onMail
	s.server.mu.Unlock()
	if hook != nil {
		if err := hook(s.n); err != nil {
			return err
		}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.server.mu.Lock()
	hook := s.server.onData
	s.server.mu.Unlock()
	if hook != nil {
		if err := hook(s.n); err != nil {
			return err
		}
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		return err
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return err
	}
	s.server.mu.Lock()
	s.server.received = append(s.server.received, received{from: s.from, to: s.to, msg: msg, body: string(body)})
	s.server.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// decodeBase64 decodes a base64 MIME part.
func decodeBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(s))
	require.NoError(t, err)
	return b
}

// selfSigned makes a certificate for 127.0.0.1 and returns it with its PEM, to be trusted.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sview test SMTP server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
