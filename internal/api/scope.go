package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sview-project/sview/internal/query"
)

// Who may see what (docs/security.md): every handler that reads probe or attacker data asks
// Deps.Caller for the caller's scope and narrows its query to it.

// DeviceTokenHeader carries device tokens to the public API, comma-separated or repeated; a
// POST form body may carry them as device_token fields instead. Never the URL.
const DeviceTokenHeader = "X-Device-Token" // #nosec G101 -- a header name, not a credential

// deviceTokenField is the form field of a device token (the original's /api/device/add).
const deviceTokenField = "device_token"

var deviceTokenRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Caller is who asks: the scope it may see, and the login its probe claims are stored under
// ("" on the public API, which has no logins).
type Caller struct {
	Login string
	Scope query.Scope
}

// CallerFunc resolves the caller of a request.
type CallerFunc func(r *http.Request) (Caller, error)

// errCaller marks a request whose proof of identity is malformed or wrong: a 403, never a 500.
var errCaller = errors.New("cannot prove a probe")

// PublicCaller is the caller of the public API: public data, and the own data of the probes
// whose device tokens the request carries in DeviceTokenHeader or a form body.
func PublicCaller(db DB) CallerFunc {
	return func(r *http.Request) (Caller, error) {
		tokens, err := deviceTokens(r)
		if err != nil {
			return Caller{}, err
		}
		var probes []int64
		for _, t := range tokens {
			id, err := ProbeByToken(r.Context(), db, t)
			if err != nil {
				return Caller{}, err
			}
			probes = append(probes, id)
		}
		return Caller{Scope: query.Scope{Public: true}.Union(query.Scope{Probes: probes})}, nil
	}
}

// deviceTokens reads the tokens of DeviceTokenHeader and of a form body; a token in the URL
// is refused, so that it never lands in an access log or a browser history.
func deviceTokens(r *http.Request) ([]string, error) {
	for _, k := range []string{"token", deviceTokenField} {
		if r.URL.Query().Has(k) {
			return nil, fmt.Errorf("%w: a device token never goes in the URL; send it in the %s header or a POST body", errCaller, DeviceTokenHeader)
		}
	}
	var tokens []string
	for _, h := range r.Header.Values(DeviceTokenHeader) {
		for t := range strings.SplitSeq(h, ",") {
			tokens = append(tokens, strings.TrimSpace(t))
		}
	}
	if r.Method == http.MethodPost && r.PostForm != nil {
		tokens = append(tokens, r.PostForm[deviceTokenField]...)
	}
	for _, t := range tokens {
		if !deviceTokenRE.MatchString(t) {
			return nil, fmt.Errorf("%w: a device token is 64 lowercase hex characters", errCaller)
		}
	}
	slices.Sort(tokens)
	return slices.Compact(tokens), nil
}

// ProbeByToken proves a device token: the probe's id, or errCaller for a token no probe has.
// The reader role cannot read tokens; sview_probe_by_token compares them for it.
func ProbeByToken(ctx context.Context, db DB, token string) (int64, error) {
	var id *int64
	if err := db.QueryRow(ctx, `SELECT sview_probe_by_token($1)`, token).Scan(&id); err != nil {
		return 0, fmt.Errorf("prove a device token: %w", err)
	}
	if id == nil {
		return 0, fmt.Errorf("%w: no probe has this device token", errCaller)
	}
	return *id, nil
}

// Claimer is what a claim is written through: the primary pool (a replica cannot write).
type Claimer interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// ClaimProbe stores login's proof of a device token and returns the probe's id. The plugin's
// pools default to read-only transactions, so the claim asks for a read-write one.
func ClaimProbe(ctx context.Context, db Claimer, login, token string) (int64, error) {
	if !deviceTokenRE.MatchString(token) {
		return 0, fmt.Errorf("%w: a device token is 64 lowercase hex characters", errCaller)
	}
	var id *int64
	err := pgx.BeginTxFunc(ctx, db, pgx.TxOptions{AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT sview_claim_probe($1, $2)`, login, token).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("claim a probe: %w", err)
	}
	if id == nil {
		return 0, fmt.Errorf("%w: no probe has this device token", errCaller)
	}
	return *id, nil
}

// UnclaimProbe drops login's claim of a probe; false when there was none.
func UnclaimProbe(ctx context.Context, db Claimer, login string, probe int64) (bool, error) {
	var gone bool
	err := pgx.BeginTxFunc(ctx, db, pgx.TxOptions{AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT sview_unclaim_probe($1, $2)`, login, probe).Scan(&gone)
	})
	if err != nil {
		return false, fmt.Errorf("drop a probe claim: %w", err)
	}
	return gone, nil
}

// ClaimedProbes lists the probes login has claimed.
func ClaimedProbes(ctx context.Context, db DB, login string) ([]int64, error) {
	if login == "" {
		return nil, nil
	}
	rows, err := db.Query(ctx, `SELECT identity_id FROM probe_claims WHERE login = $1 ORDER BY identity_id`, login)
	if err != nil {
		return nil, fmt.Errorf("read probe claims: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("read probe claims: %w", err)
	}
	return ids, nil
}

// caller resolves the request's caller, answering the request itself (403, or a fault) when
// that fails.
func (d Deps) caller(w http.ResponseWriter, r *http.Request) (Caller, bool) {
	c, err := d.Caller(r)
	switch {
	case errors.Is(err, errCaller):
		writeJSON(w, http.StatusForbidden, errorBody{Error: err.Error()})
		return Caller{}, false
	case err != nil:
		d.fail(w, r, "caller", err)
		return Caller{}, false
	}
	return c, true
}

// forbidden answers a query outside the caller's scope.
func forbidden(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusForbidden, errorBody{Error: err.Error()})
}
