package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/contacts"
	"github.com/sview-project/sview/internal/rollupstate"
)

// Channels a report is delivered on.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// States of a ledger row.
const (
	StatePending = "pending" // claimed: its sender is at it, or died at it
	StateSent    = "sent"    // the receiver accepted it
	StateFailed  = "failed"  // the last attempt failed; the next run tries again
)

// delivery names one row of the ledger (report_deliveries).
type delivery struct {
	contact  string
	cadence  contacts.Cadence
	from, to time.Time
	channel  string
}

// JobName is the name of the report job: its lock (rollupstate.ClassJob) is held by whoever
// sends reports, `sview run` or `sview report`, so two senders never work at once.
const JobName = "report"

// Lock takes the report job's lock without waiting; ok is false when another process holds it.
// Every pending row of the ledger seen while holding it was left by a sender that died.
func Lock(ctx context.Context, pool *pgxpool.Pool) (release func(), ok bool, err error) {
	held, ok, err := rollupstate.Hold(ctx, pool.Config().ConnConfig, rollupstate.ClassJob, rollupstate.JobKey(JobName), false)
	if err != nil || !ok {
		return nil, ok, err
	}
	return func() { held.Release(context.WithoutCancel(ctx)) }, true, nil
}

// sentChannels returns the channels of d's report already sent (d.channel is ignored).
func sentChannels(ctx context.Context, q contacts.Querier, d delivery) (map[string]bool, error) {
	rows, err := q.Query(ctx, `SELECT channel FROM report_deliveries
		WHERE contact = $1 AND cadence = $2 AND window_start = $3 AND state = 'sent'`, d.contact, string(d.cadence), d.from)
	if err != nil {
		return nil, fmt.Errorf("read the ledger of %s: %w", d.contact, err)
	}
	chans, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read the ledger of %s: %w", d.contact, err)
	}
	out := map[string]bool{}
	for _, c := range chans {
		out[c] = true
	}
	return out, nil
}

// recentlySent counts the messages sent to contact on channel in the hour before now.
func recentlySent(ctx context.Context, q contacts.Querier, contact, channel string) (int, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM report_deliveries
		WHERE contact = $1 AND channel = $2 AND sent_at > now() - interval '1 hour'`, contact, channel).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the recent messages of %s: %w", contact, err)
	}
	return n, nil
}

// claim records d as pending before it is sent, with one more attempt; ok is false when it was
// sent already. A pending row is taken over: under the job's lock its sender is dead.
func claim(ctx context.Context, q contacts.Querier, d delivery, messageID string, recipients []string) (attempt int, ok bool, err error) {
	err = q.QueryRow(ctx, `
		INSERT INTO report_deliveries AS d (contact, cadence, window_start, window_end, channel, state, message_id, recipients)
		VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)
		ON CONFLICT (contact, cadence, window_start, channel) DO UPDATE
			SET state = 'pending', attempts = d.attempts + 1, claimed_at = now(), message_id = excluded.message_id,
				recipients = excluded.recipients
			WHERE d.state <> 'sent'
		RETURNING attempts`,
		d.contact, string(d.cadence), d.from, d.to, d.channel, messageID, recipients).Scan(&attempt)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("claim the %s report of %s: %w", d.channel, d.contact, err)
	}
	return attempt, true, nil
}

// finish records the outcome of the attempt on d: sent when sendErr is nil, else failed.
func finish(ctx context.Context, q contacts.Querier, d delivery, sendErr error) error {
	var err error
	if sendErr == nil {
		_, err = q.Exec(ctx, `UPDATE report_deliveries SET state = 'sent', sent_at = now(), last_error = NULL
			WHERE contact = $1 AND cadence = $2 AND window_start = $3 AND channel = $4`,
			d.contact, string(d.cadence), d.from, d.channel)
	} else {
		_, err = q.Exec(ctx, `UPDATE report_deliveries SET state = 'failed', last_error = $5
			WHERE contact = $1 AND cadence = $2 AND window_start = $3 AND channel = $4`,
			d.contact, string(d.cadence), d.from, d.channel, sendErr.Error())
	}
	if err != nil {
		return fmt.Errorf("record the %s report of %s: %w", d.channel, d.contact, err)
	}
	return nil
}
