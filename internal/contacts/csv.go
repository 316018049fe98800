package contacts

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/badline"
)

// Header is the first line (after comments) of a contacts file.
var Header = []string{"space", "emails", "language", "cadence", "webhook"}

// Defaults of the optional fields of a contacts file.
const (
	DefaultLanguage = "en"
	DefaultCadence  = Weekly
)

// ErrNoHeader means the file does not start (after comments) with Header.
var ErrNoHeader = errors.New("no contacts header")

// Parsed is what Parse read from a contacts file.
type Parsed struct {
	Contacts []Contact
	Lines    int64 // number of the last line holding a record
	Bad      *badline.Collector
}

// Parse reads a contacts file: the header `space,emails,language,cadence,webhook`, then one
// contact per line. Emails are separated by spaces or semicolons; language (default en),
// cadence (default 1w) and webhook may be empty. Lines starting with # and blank lines are
// skipped. A bad line, or a second line for a space already read, is recorded and skipped.
func Parse(r io.Reader) (Parsed, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	p := Parsed{Bad: badline.NewCollector(0)}
	seen := map[string]int{}
	header := false
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			p.Lines = int64(perr.Line)
			p.Bad.Add(int64(perr.StartLine), perr.Err)
			continue
		}
		if err != nil {
			return p, fmt.Errorf("read contacts: %w", err)
		}
		line, _ := cr.FieldPos(0)
		p.Lines = int64(line)
		if !header {
			for i := range rec {
				rec[i] = strings.ToLower(strings.TrimSpace(rec[i]))
			}
			if !slices.Equal(rec, Header) {
				return p, fmt.Errorf("%w: line %d is %q, want %q", ErrNoHeader, line, strings.Join(rec, ","), strings.Join(Header, ","))
			}
			header = true
			continue
		}
		c, err := parseRecord(rec)
		if err != nil {
			p.Bad.Add(int64(line), err)
			continue
		}
		if first, dup := seen[c.Key()]; dup {
			p.Bad.Add(int64(line), fmt.Errorf("%w: %s is on line %d already", ErrInvalid, c.Key(), first))
			continue
		}
		seen[c.Key()] = line
		p.Contacts = append(p.Contacts, c)
	}
	if !header {
		return p, fmt.Errorf("%w: the file is empty", ErrNoHeader)
	}
	return p, nil
}

func parseRecord(rec []string) (Contact, error) {
	if len(rec) != len(Header) {
		return Contact{}, fmt.Errorf("%w: %d fields, want %d (%s)", ErrInvalid, len(rec), len(Header), strings.Join(Header, ","))
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	var c Contact
	var err error
	if c.ASN, c.Prefix, err = ParseSpace(rec[0]); err != nil {
		return Contact{}, err
	}
	c.Emails = strings.FieldsFunc(rec[1], func(r rune) bool { return r == ';' || r == ' ' })
	c.Language = strings.ToLower(rec[2])
	if c.Language == "" {
		c.Language = DefaultLanguage
	}
	c.Cadence = Cadence(rec[3])
	if c.Cadence == "" {
		c.Cadence = DefaultCadence
	}
	c.Webhook = rec[4]
	if err := c.validate(); err != nil {
		return Contact{}, err
	}
	return c, nil
}

// ImportResult says what Import did.
type ImportResult struct {
	Parsed
	Added, Updated, Unchanged, Removed int64
}

// Import makes the contacts table what the file r says, in one transaction: new spaces are
// added, changed ones updated, and those missing from the file removed. When the file has bad
// lines nothing is removed, since a contact may be missing only because its line was mistyped.
func Import(ctx context.Context, pool *pgxpool.Pool, r io.Reader) (ImportResult, error) {
	var res ImportResult
	var err error
	if res.Parsed, err = Parse(r); err != nil {
		return res, fmt.Errorf("import contacts: %w", err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		keys := make([]string, 0, len(res.Contacts))
		for _, c := range res.Contacts {
			keys = append(keys, c.Key())
			var asn *int
			var prefix *netip.Prefix
			if c.Prefix.IsValid() {
				prefix = &c.Prefix
			} else {
				asn = &c.ASN
			}
			var webhook *string
			if c.Webhook != "" {
				webhook = &c.Webhook
			}
			// xmax = 0 tells an inserted row from an updated one; an unchanged row is not
			// touched, so its updated_at keeps saying when it last changed.
			var inserted *bool
			err := tx.QueryRow(ctx, `
				INSERT INTO contacts AS c (key, asn, prefix, emails, webhook, language, cadence)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (key) DO UPDATE SET emails = excluded.emails, webhook = excluded.webhook,
					language = excluded.language, cadence = excluded.cadence, updated_at = now()
				WHERE (c.emails, c.webhook, c.language, c.cadence) IS DISTINCT FROM
					(excluded.emails, excluded.webhook, excluded.language, excluded.cadence)
				RETURNING xmax = 0`,
				c.Key(), asn, prefix, c.Emails, webhook, c.Language, string(c.Cadence)).Scan(&inserted)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				res.Unchanged++
			case err != nil:
				return fmt.Errorf("store contact %s: %w", c.Key(), err)
			case *inserted:
				res.Added++
			default:
				res.Updated++
			}
		}
		if res.Bad.Count() > 0 {
			return nil
		}
		tag, err := tx.Exec(ctx, `DELETE FROM contacts WHERE key <> ALL($1)`, keys)
		if err != nil {
			return fmt.Errorf("remove contacts missing from the file: %w", err)
		}
		res.Removed = tag.RowsAffected()
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("import contacts: %w", err)
	}
	return res, nil
}
