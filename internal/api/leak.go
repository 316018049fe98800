package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/sview-project/sview/internal/leak"
)

// ErrLeakRequest marks a bad leak lookup request.
var ErrLeakRequest = errors.New("invalid leak request")

// MinLeakPrefix is the shortest prefix a lookup accepts: shorter ones match a large share of
// the table (one hex character is a sixteenth of it).
const MinLeakPrefix = 5

// LeakRequest is exactly one of a password, a full SHA-1 or a prefix.
type LeakRequest struct {
	Kind  string // password, sha1 or prefix
	Value string
}

// ParseLeak validates the password, sha1 and prefix parameters: exactly one of them.
func ParseLeak(params url.Values) (LeakRequest, error) {
	var req LeakRequest
	given := 0
	for k, v := range params {
		if len(v) != 1 {
			return req, fmt.Errorf("%w: parameter %q given %d times, want once", ErrLeakRequest, clip([]byte(k)), len(v))
		}
		if k != "password" && k != "sha1" && k != "prefix" {
			return req, fmt.Errorf("%w: parameter %q, want password, sha1 or prefix", ErrLeakRequest, clip([]byte(k)))
		}
		req = LeakRequest{Kind: k, Value: v[0]}
		given++
	}
	if given != 1 {
		return req, fmt.Errorf("%w: want exactly one of password, sha1 or prefix, got %d", ErrLeakRequest, given)
	}
	switch req.Kind {
	case "sha1":
		if _, err := leak.ParseHash(req.Value); err != nil {
			return req, fmt.Errorf("%w: sha1: %w", ErrLeakRequest, err)
		}
	case "prefix":
		p, err := leak.ParsePrefix(req.Value)
		if err != nil {
			return req, fmt.Errorf("%w: prefix: %w", ErrLeakRequest, err)
		}
		if p.Len() < MinLeakPrefix {
			return req, fmt.Errorf("%w: prefix %q is %d characters, want at least %d", ErrLeakRequest, req.Value, p.Len(), MinLeakPrefix)
		}
	}
	return req, nil
}

// Leak answers a lookup: the matching records, sorted by hash, or none.
func Leak(ctx context.Context, db DB, req LeakRequest) ([]leak.Record, error) {
	var (
		rec   leak.Record
		found bool
		err   error
	)
	switch req.Kind {
	case "prefix":
		recs, err := leak.ByPrefix(ctx, db, req.Value)
		if recs == nil {
			recs = []leak.Record{}
		}
		return recs, err
	case "sha1":
		rec, found, err = leak.BySHA1(ctx, db, req.Value)
	default:
		rec, found, err = leak.ByPassword(ctx, db, req.Value)
	}
	if err != nil || !found {
		return []leak.Record{}, err
	}
	return []leak.Record{rec}, nil
}

// leakLookup answers GET /leak?sha1= or ?prefix=, and POST /leak with the same fields in a
// form body. A password is accepted only in a body, so it never lands in a URL: access logs,
// proxies and browser histories keep URLs.
func (d Deps) leakLookup(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil || len(params) > 0 {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "want the lookup in a form body (application/x-www-form-urlencoded), not in the URL"})
			return
		}
		params = r.PostForm
	} else if params.Has("password") {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "a password never goes in a URL: POST it in a form body, or look up its sha1 or a 5-character prefix of it"})
		return
	}
	req, err := ParseLeak(params)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	recs, err := Leak(r.Context(), d.DB, req)
	if err != nil {
		d.fail(w, r, "leak lookup", err)
		return
	}
	writeJSON(w, http.StatusOK, recs)
}
