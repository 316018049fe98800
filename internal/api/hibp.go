package api

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"

	"github.com/sview-project/sview/internal/leak"
)

// ErrRangePrefix marks a range request whose prefix is not 5 hex characters.
var ErrRangePrefix = errors.New("invalid range prefix")

// ParseRangePrefix accepts exactly leak.RangePrefixLen hex characters in either case, as the
// Have I Been Pwned range API does, and returns them in upper case.
func ParseRangePrefix(s string) (string, error) {
	if len(s) != leak.RangePrefixLen {
		return "", fmt.Errorf("%w %q: want %d hex characters (the start of the SHA-1)", ErrRangePrefix, clip([]byte(s)), leak.RangePrefixLen)
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return "", fmt.Errorf("%w %q: %q is not a hex character", ErrRangePrefix, s, c)
		}
	}
	return strings.ToUpper(s), nil
}

func (d Deps) hibpRange(w http.ResponseWriter, r *http.Request) {
	prefix, err := ParseRangePrefix(r.PathValue("prefix"))
	if err != nil {
		// HIBP answers a bad prefix with 400 and a plain-text reason.
		http.Error(w, "The hash prefix was not in a valid format: "+err.Error(), http.StatusBadRequest)
		return
	}
	// sview stores SHA-1 hashes only (imported lists come without plaintexts), so an NTLM
	// client is refused rather than told that every password is safe.
	if mode := r.URL.Query().Get("mode"); mode != "" && !strings.EqualFold(mode, "sha1") {
		http.Error(w, "mode "+strconv.Quote(clip([]byte(mode)))+" is not served: only SHA-1 hashes are kept, so only mode=sha1 (the default)", http.StatusBadRequest)
		return
	}
	lines, err := leak.Range(r.Context(), d.DB, prefix)
	if err != nil {
		d.fail(w, r, "range lookup", err)
		return
	}
	if strings.EqualFold(r.Header.Get("Add-Padding"), "true") {
		// #nosec G404 -- padding lines are random suffixes with count 0 that clients drop; nothing
		// depends on their unpredictability beyond hiding which suffixes are real, and those are public.
		lines = leak.Pad(lines, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	_, _ = w.Write([]byte(b.String()))
}
