package ingest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The raw tables are written with COPY … (FORMAT binary), encoded here directly from the row
// structs: no per-value boxing and no text formatting, which is what makes ingest and the demo
// seed fast. Column lists are fixed; nothing user-supplied reaches the SQL.
const (
	copyIncidents = "COPY incidents (time, raw_count, identity_id, trap, action, ip, country, asn) FROM STDIN (FORMAT binary)"
	copyPasswords = "COPY passwords (time, raw_count, username, password, identity_id, trap, ip, country, asn) FROM STDIN (FORMAT binary)"
	copyPorts     = "COPY ports (time, raw_count, port, protocol, identity_id, ip, country, asn) FROM STDIN (FORMAT binary)"
	copyFeeds     = "COPY feed_events (time, raw_count, provider, feed, taxonomy, type, identifier, ip, country, asn) FROM STDIN (FORMAT binary)"
	copyCommands  = "COPY commands (time, raw_count, command, identity_id, ip, country, asn) FROM STDIN (FORMAT binary)"
)

// pgEpochMicros is 2000-01-01 UTC, the zero of PostgreSQL's binary timestamps, in Unix µs.
const pgEpochMicros = 946_684_800_000_000

type copyEncoder struct{ b []byte }

func (e *copyEncoder) reset() {
	e.b = append(e.b[:0], "PGCOPY\n\xff\r\n\x00"...)
	e.b = binary.BigEndian.AppendUint32(e.b, 0) // flags
	e.b = binary.BigEndian.AppendUint32(e.b, 0) // header extension length
}

func (e *copyEncoder) finish() []byte {
	return binary.BigEndian.AppendUint16(e.b, 0xffff)
}

// #nosec G115 -- fields is the column count of one of our tables, a small constant
func (e *copyEncoder) tuple(fields int) { e.b = binary.BigEndian.AppendUint16(e.b, uint16(fields)) }

func (e *copyEncoder) null() { e.b = binary.BigEndian.AppendUint32(e.b, 0xffffffff) }

func (e *copyEncoder) time(t time.Time) {
	e.b = binary.BigEndian.AppendUint32(e.b, 8)
	e.b = binary.BigEndian.AppendUint64(e.b, uint64(t.UnixMicro()-pgEpochMicros)) // #nosec G115 -- binary COPY wants the two's-complement bits
}

func (e *copyEncoder) int8(v int64) {
	e.b = binary.BigEndian.AppendUint32(e.b, 8)
	e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)) // #nosec G115 -- binary COPY wants the two's-complement bits
}

func (e *copyEncoder) int4(v int32) {
	e.b = binary.BigEndian.AppendUint32(e.b, 4)
	e.b = binary.BigEndian.AppendUint32(e.b, uint32(v)) // #nosec G115 -- binary COPY wants the two's-complement bits
}

func (e *copyEncoder) count(v int64) {
	if v == 0 {
		v = 1
	}
	e.int8(v)
}

// text also encodes enums and varchar: their binary form is the text itself.
func (e *copyEncoder) text(s string) {
	e.b = binary.BigEndian.AppendUint32(e.b, uint32(len(s))) // #nosec G115 -- fields are parsed log lines, far below 4 GiB
	e.b = append(e.b, s...)
}

func (e *copyEncoder) textOrNull(s string) {
	if s == "" {
		e.null()
		return
	}
	e.text(s)
}

func (e *copyEncoder) int8OrNull(v int64) {
	if v == 0 {
		e.null()
		return
	}
	e.int8(v)
}

func (e *copyEncoder) int4OrNull(v int32) {
	if v == 0 {
		e.null()
		return
	}
	e.int4(v)
}

// inet: family (2 = IPv4, 3 = IPv6), prefix bits, is_cidr, address length, address.
func (e *copyEncoder) inet(a netip.Addr) {
	if !a.IsValid() {
		e.null()
		return
	}
	a = a.Unmap()
	if a.Is4() {
		v := a.As4()
		e.b = binary.BigEndian.AppendUint32(e.b, 8)
		e.b = append(e.b, 2, 32, 0, 4)
		e.b = append(e.b, v[:]...)
		return
	}
	v := a.WithZone("").As16()
	e.b = binary.BigEndian.AppendUint32(e.b, 20)
	e.b = append(e.b, 3, 128, 0, 16)
	e.b = append(e.b, v[:]...)
}

func (e *copyEncoder) incidents(rows []Incident) []byte {
	e.reset()
	for i := range rows {
		r := &rows[i]
		e.tuple(8)
		e.time(r.Time)
		e.count(r.Count)
		e.int8(r.Identity)
		e.text(r.Trap)
		e.text(r.Action)
		e.inet(r.IP)
		e.textOrNull(r.Country)
		e.int4OrNull(r.ASN)
	}
	return e.finish()
}

func (e *copyEncoder) passwords(rows []Password) []byte {
	e.reset()
	for i := range rows {
		r := &rows[i]
		e.tuple(9)
		e.time(r.Time)
		e.count(r.Count)
		e.text(r.Username)
		e.text(r.Password)
		e.int8OrNull(r.Identity)
		e.textOrNull(r.Trap)
		e.inet(r.IP)
		e.textOrNull(r.Country)
		e.int4OrNull(r.ASN)
	}
	return e.finish()
}

func (e *copyEncoder) ports(rows []Port) []byte {
	e.reset()
	for i := range rows {
		r := &rows[i]
		e.tuple(8)
		e.time(r.Time)
		e.count(r.Count)
		e.int4(r.Port)
		e.text(r.Protocol)
		e.int8OrNull(r.Identity)
		e.inet(r.IP)
		e.textOrNull(r.Country)
		e.int4OrNull(r.ASN)
	}
	return e.finish()
}

func (e *copyEncoder) feedEvents(rows []FeedEvent) []byte {
	e.reset()
	for i := range rows {
		r := &rows[i]
		e.tuple(10)
		e.time(r.Time)
		e.count(r.Count)
		e.textOrNull(r.Provider)
		e.text(r.Feed)
		e.text(r.Taxonomy)
		e.text(r.Type)
		e.textOrNull(r.Identifier)
		e.inet(r.IP)
		e.textOrNull(r.Country)
		e.int4OrNull(r.ASN)
	}
	return e.finish()
}

func (e *copyEncoder) commands(rows []Command) []byte {
	e.reset()
	for i := range rows {
		r := &rows[i]
		e.tuple(7)
		e.time(r.Time)
		e.count(r.Count)
		e.text(r.Command)
		e.int8OrNull(r.Identity)
		e.inet(r.IP)
		e.textOrNull(r.Country)
		e.int4OrNull(r.ASN)
	}
	return e.finish()
}

// Writer copies batches into the raw tables. It keeps its encoding buffer between batches, so
// one Writer must not be used by two goroutines at once.
type Writer struct{ enc copyEncoder }

// Copy writes the batch with one binary COPY per non-empty table, on the connection of tx (or
// of a plain *pgx.Conn); the caller commits.
func (w *Writer) Copy(ctx context.Context, conn interface{ Conn() *pgx.Conn }, b *Batch) (Counts, error) {
	pg := conn.Conn().PgConn()
	var c Counts
	var err error
	if len(b.Incidents) > 0 {
		if c.Incidents, err = copyRaw(ctx, pg, copyIncidents, w.enc.incidents(b.Incidents)); err != nil {
			return c, fmt.Errorf("copy into incidents: %w", err)
		}
	}
	if len(b.Passwords) > 0 {
		if c.Passwords, err = copyRaw(ctx, pg, copyPasswords, w.enc.passwords(b.Passwords)); err != nil {
			return c, fmt.Errorf("copy into passwords: %w", err)
		}
	}
	if len(b.Ports) > 0 {
		if c.Ports, err = copyRaw(ctx, pg, copyPorts, w.enc.ports(b.Ports)); err != nil {
			return c, fmt.Errorf("copy into ports: %w", err)
		}
	}
	if len(b.FeedEvents) > 0 {
		if c.FeedEvents, err = copyRaw(ctx, pg, copyFeeds, w.enc.feedEvents(b.FeedEvents)); err != nil {
			return c, fmt.Errorf("copy into feed_events: %w", err)
		}
	}
	if len(b.Commands) > 0 {
		if c.Commands, err = copyRaw(ctx, pg, copyCommands, w.enc.commands(b.Commands)); err != nil {
			return c, fmt.Errorf("copy into commands: %w", err)
		}
	}
	if cap(w.enc.b) > 64<<20 {
		w.enc.b = nil // don't pin a huge buffer after an unusually large batch
	}
	return c, nil
}

func copyRaw(ctx context.Context, pg *pgconn.PgConn, sql string, data []byte) (int64, error) {
	tag, err := pg.CopyFrom(ctx, bytes.NewReader(data), sql)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// InsertBatch writes the batch with plain multi-row INSERT statements of up to 1,000 rows
// each. It is the baseline the COPY path is benchmarked against, not used by ingest.
func InsertBatch(ctx context.Context, tx pgx.Tx, b *Batch) (Counts, error) {
	var c Counts
	const chunk = 1000
	insert := func(table string, cols []string, n int, values func(i int) []any) (int64, error) {
		var total int64
		for lo := 0; lo < n; lo += chunk {
			hi := min(lo+chunk, n)
			var sb strings.Builder
			sb.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
			args := make([]any, 0, (hi-lo)*len(cols))
			for i := lo; i < hi; i++ {
				if i > lo {
					sb.WriteString(", ")
				}
				sb.WriteByte('(')
				for j := range cols {
					if j > 0 {
						sb.WriteString(", ")
					}
					fmt.Fprintf(&sb, "$%d", len(args)+j+1)
				}
				sb.WriteByte(')')
				args = append(args, values(i)...)
			}
			tag, err := tx.Exec(ctx, sb.String(), args...)
			if err != nil {
				return total, fmt.Errorf("insert into %s: %w", table, err)
			}
			total += tag.RowsAffected()
		}
		return total, nil
	}
	var err error
	c.Incidents, err = insert("incidents",
		[]string{"time", "raw_count", "identity_id", "trap", "action", "ip", "country", "asn"},
		len(b.Incidents), func(i int) []any {
			r := &b.Incidents[i]
			return []any{r.Time, max(r.Count, 1), r.Identity, r.Trap, r.Action, r.IP, nullText(r.Country), nullInt4(r.ASN)}
		})
	if err != nil {
		return c, err
	}
	c.Passwords, err = insert("passwords",
		[]string{"time", "raw_count", "username", "password", "identity_id", "trap", "ip", "country", "asn"},
		len(b.Passwords), func(i int) []any {
			r := &b.Passwords[i]
			return []any{r.Time, max(r.Count, 1), r.Username, r.Password, nullInt8(r.Identity), nullText(r.Trap),
				nullAddr(r.IP), nullText(r.Country), nullInt4(r.ASN)}
		})
	if err != nil {
		return c, err
	}
	c.Ports, err = insert("ports",
		[]string{"time", "raw_count", "port", "protocol", "identity_id", "ip", "country", "asn"},
		len(b.Ports), func(i int) []any {
			r := &b.Ports[i]
			return []any{r.Time, max(r.Count, 1), r.Port, r.Protocol, nullInt8(r.Identity), nullAddr(r.IP),
				nullText(r.Country), nullInt4(r.ASN)}
		})
	return c, err
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt4(v int32) any {
	if v == 0 {
		return nil
	}
	return v
}

func nullInt8(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func nullAddr(a netip.Addr) any {
	if !a.IsValid() {
		return nil
	}
	return a
}
