package api

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

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
	if d.Ranges != nil {
		d.rangeFromStore(w, r, prefix)
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

var (
	rangeCacheControl = []string{"public, max-age=300"}
	rangeVary         = []string{"Add-Padding"}
	rangeContentType  = []string{"text/plain; charset=utf-8"}
)

// paddedBuffers keeps the buffers padded answers are built in (about 48 KB each), so a busy
// server does not allocate one per request.
var paddedBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, (leak.PadMax+1)*leak.PaddedLineLen)
	return &b
}}

// rangeFromStore answers from d.Ranges. The strong ETag is a hash of the unpadded body; a padded
// answer, random on every request, carries the same tag as a weak one (same data, other bytes):
// it names the prefix's content, which whoever sees the header also sees in the URL, and says
// nothing of how many lines are real.
func (d Deps) rangeFromStore(w http.ResponseWriter, r *http.Request, prefix string) {
	e, err := d.Ranges.Get(r.Context(), prefix)
	if err != nil {
		d.fail(w, r, "range lookup", err)
		return
	}
	padded := strings.EqualFold(r.Header.Get("Add-Padding"), "true")
	// Shared slices for the fixed values: net/http only reads them, and a busy server spares
	// an allocation per header.
	h := w.Header()
	h["Cache-Control"] = rangeCacheControl
	h["Vary"] = rangeVary
	if padded {
		h["Etag"] = []string{"W/" + e.ETag}
	} else {
		h["Etag"] = []string{e.ETag}
	}
	if e.LastModified != "" {
		h["Last-Modified"] = []string{e.LastModified}
	}
	if notModified(r, e.ETag, e.Modified) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = rangeContentType
	if !padded {
		h["Content-Length"] = []string{strconv.Itoa(len(e.Body))}
		_, _ = w.Write(e.Body) // #nosec G705 -- text/plain hex and counts from the database, nothing of the request
		return
	}
	buf := paddedBuffers.Get().(*[]byte)
	body := d.Ranges.Pad().AppendPadded((*buf)[:0], e.Body)
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	_, _ = w.Write(body) // #nosec G705 -- text/plain hex and counts from the database, nothing of the request
	*buf = body[:0]
	paddedBuffers.Put(buf)
}

// notModified applies RFC 9110's rules for a GET: If-None-Match, when present, decides by weak
// comparison; otherwise If-Modified-Since does, at the one-second resolution of HTTP dates.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 {
		for _, list := range inm {
			for c := range strings.SplitSeq(list, ",") {
				if c = strings.TrimSpace(c); c == "*" || strings.TrimPrefix(c, "W/") == etag {
					return true
				}
			}
		}
		return false
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || modified.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	return err == nil && !modified.Truncate(time.Second).After(t)
}
