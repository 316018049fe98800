package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sview-project/sview/internal/store"
	"github.com/sview-project/sview/internal/testenv"
)

// The crash test runs the sender as a child process: this test binary, started again with
// these variables set.
const (
	childDB   = "SVIEW_REPORT_TEST_CHILD_DB"
	childSMTP = "SVIEW_REPORT_TEST_CHILD_SMTP"
	childNow  = "SVIEW_REPORT_TEST_CHILD_NOW"
)

func TestMain(m *testing.M) {
	if os.Getenv(childDB) != "" {
		if err := sendAsChild(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// sendAsChild is one `sview report` run: take the job's lock (its last holder may have been
// killed a moment ago; PostgreSQL frees the lock once it sees the connection gone), then send.
func sendAsChild() error {
	ctx := context.Background()
	pool, err := store.Open(ctx, os.Getenv(childDB), "sview-report-test")
	if err != nil {
		return err
	}
	defer pool.Close()
	var release func()
	for deadline := time.Now().Add(20 * time.Second); ; {
		var ok bool
		if release, ok, err = Lock(ctx, pool); err != nil {
			return err
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the report lock stayed taken")
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer release()
	s, err := ParseSMTP(os.Getenv(childSMTP))
	if err != nil {
		return err
	}
	now, err := time.Parse(time.RFC3339, os.Getenv(childNow))
	if err != nil {
		return err
	}
	_, err = Run(ctx, pool, Options{SMTP: s, From: "sview@reports.example", Now: func() time.Time { return now }})
	return err
}

// The sender is killed (SIGKILL) twice against a real SMTP server: first between two messages
// (the server has taken the second and the third is being started), then in the middle of a
// message (its data is sent, the server has not answered). After a last, undisturbed run each
// report has reached the server exactly once and the ledger has them all as sent.
func TestKilledSenderSendsEachReportOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.DatabaseURL(t)
	pool, err := store.Open(ctx, url, "sview-report-test")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ms := startMailServer(t)

	const contacts = 6
	var lines []string
	var rows []row
	for i := range contacts {
		asn := 64500 + i
		lines = append(lines, fmt.Sprintf("AS%d,abuse@as%d.example,en,1d,", asn, asn))
		rows = append(rows, row{"2026-12-05T10:00:00Z", int64(i + 1), 1, "minipot_telnet", "login", fmt.Sprintf("192.0.2.%d", i+1), asn})
	}
	importContacts(t, pool, at(t, "2026-11-01T00:00:00Z"), lines...)
	seedHourly(t, pool, at(t, "2026-12-06T00:00:00Z"), rows...)

	exe, err := os.Executable()
	require.NoError(t, err)
	// run starts the sender and returns how it ended; kill(n), when it fails, kills it at the
	// server's n-th MAIL command of the run (or, with onData, once the n-th message's data is in)
	// and answers only once the sender is gone.
	run := func(kill func(n int) error, onData bool) *os.ProcessState {
		t.Helper()
		cmd := exec.Command(exe, "-test.run=^$") // #nosec G204 -- this test binary
		cmd.Env = append(os.Environ(), childDB+"="+url, childSMTP+"="+ms.URL, childNow+"=2026-12-06T06:00:00Z")
		cmd.Stderr = os.Stderr
		exited := make(chan struct{})
		hook := func(n int) error {
			if kill == nil || kill(n) == nil {
				return nil
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				return err
			}
			<-exited
			return &smtp.SMTPError{Code: 451, Message: "the sender was killed"}
		}
		ms.mu.Lock()
		ms.mails, ms.onMail, ms.onData = 0, nil, nil
		if onData {
			ms.onData = hook
		} else {
			ms.onMail = hook
		}
		ms.mu.Unlock()
		require.NoError(t, cmd.Start())
		go func() {
			_ = cmd.Wait() // the state is read from cmd.ProcessState
			close(exited)
		}()
		<-exited
		return cmd.ProcessState
	}
	killAt := func(at int) func(int) error {
		return func(n int) error {
			if n == at {
				return errors.New("kill")
			}
			return nil
		}
	}

	// Between messages: the third message is claimed, the sender dies as it starts it.
	st := run(killAt(3), false)
	require.Equal(t, syscall.SIGKILL, st.Sys().(syscall.WaitStatus).Signal())
	require.Len(t, ms.messages(), 2)
	states := map[string]int{}
	for _, l := range ledger(t, pool) {
		states[l.State]++
	}
	require.Equal(t, map[string]int{StateSent: 2, StatePending: 1}, states)

	// In the middle of a message: the second of this run (the fourth report) has been
	// transmitted, and the sender dies before the server's answer; the server keeps nothing.
	st = run(killAt(2), true)
	require.Equal(t, syscall.SIGKILL, st.Sys().(syscall.WaitStatus).Signal())
	require.Len(t, ms.messages(), 3)

	st = run(nil, false)
	require.True(t, st.Success(), "the last run completes")
	msgs := ms.messages()
	require.Len(t, msgs, contacts)
	seen := map[string]int{}
	for _, m := range msgs {
		seen[m.to[0]]++
		seen[m.msg.Header.Get("Message-ID")]++
	}
	for i := range contacts {
		require.Equal(t, 1, seen[fmt.Sprintf("abuse@as%d.example", 64500+i)], "contact %d", i)
	}
	require.Len(t, seen, 2*contacts, "one Message-ID per report")
	attempts := map[string]int{}
	for _, l := range ledger(t, pool) {
		require.Equal(t, StateSent, l.State, l)
		attempts[l.Contact] = l.Attempts
	}
	require.Equal(t, map[string]int{"AS64500": 1, "AS64501": 1, "AS64502": 2, "AS64503": 2, "AS64504": 1, "AS64505": 1}, attempts)
}
