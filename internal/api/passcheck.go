package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/sview-project/sview/internal/leak"
)

// The original password-check API (POST /passcheck/apiv1/): the client sends the first six
// lowercase hex characters of a SHA-1 and gets every leaked hash with that prefix.

// ErrPasscheck marks a request that does not match the original request schema.
var ErrPasscheck = errors.New("invalid passcheck request")

// hashPattern is the original schema's pattern; it admits letters beyond f, which then
// simply match nothing.
var hashPattern = regexp.MustCompile(`^[a-z0-9]{6}$`)

const methodError = "Invalid HTTP method for URL Please use the POST method."

type passcheckResponse struct {
	MsgType string        `json:"msg_type"`
	Status  string        `json:"status"`
	Data    []leak.Record `json:"data,omitempty"`
	Error   string        `json:"error,omitempty"`
}

// ParsePasscheck validates a request body against the original schema (an object with exactly
// msg_type "request" and hash matching ^[a-z0-9]{6}$) and returns the hash prefix. Its
// messages follow the wording of the original's JSON-schema validator.
func ParsePasscheck(body []byte) (string, error) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return "", fmt.Errorf("%w: request is not a JSON object", ErrPasscheck)
	}
	if dec.More() {
		return "", fmt.Errorf("%w: trailing data after the JSON object", ErrPasscheck)
	}
	var extra []string
	for k := range fields {
		if k != "msg_type" && k != "hash" {
			extra = append(extra, fmt.Sprintf("%q", k))
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return "", fmt.Errorf("%w: Additional properties are not allowed (%s were unexpected)", ErrPasscheck, strings.Join(extra, ", "))
	}
	for _, k := range []string{"msg_type", "hash"} {
		if _, ok := fields[k]; !ok {
			return "", fmt.Errorf("%w: '%s' is a required property", ErrPasscheck, k)
		}
	}
	var msgType, hash string
	if err := json.Unmarshal(fields["msg_type"], &msgType); err != nil {
		return "", fmt.Errorf("%w: msg_type: %s is not of type 'string'", ErrPasscheck, clip(fields["msg_type"]))
	}
	if msgType != "request" {
		return "", fmt.Errorf("%w: msg_type: %q is not one of ['request']", ErrPasscheck, clip([]byte(msgType)))
	}
	if err := json.Unmarshal(fields["hash"], &hash); err != nil {
		return "", fmt.Errorf("%w: hash: %s is not of type 'string'", ErrPasscheck, clip(fields["hash"]))
	}
	if !hashPattern.MatchString(hash) {
		return "", fmt.Errorf("%w: hash: %q does not match '^[a-z0-9]{6}$' (want the first 6 lowercase hex characters of the SHA-1)", ErrPasscheck, clip([]byte(hash)))
	}
	return hash, nil
}

func clip(b []byte) string {
	if len(b) > 48 {
		return string(b[:48]) + "…"
	}
	return string(b)
}

func (d Deps) passcheck(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"API error": methodError})
		return
	}
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("request body larger than %d bytes", tooLarge.Limit)})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, passcheckResponse{MsgType: "response", Status: "VALIDATION_ERROR", Error: "unreadable request body"})
		return
	}
	prefix, err := ParsePasscheck(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, passcheckResponse{MsgType: "response", Status: "VALIDATION_ERROR",
			Error: strings.TrimPrefix(err.Error(), ErrPasscheck.Error()+": ")})
		return
	}
	var recs []leak.Record
	if _, perr := leak.ParsePrefix(prefix); perr == nil {
		if recs, err = leak.ByPrefix(r.Context(), d.DB, prefix); err != nil {
			d.fail(w, r, "leak lookup", err)
			return
		}
	}
	if len(recs) == 0 {
		writeJSON(w, http.StatusOK, passcheckResponse{MsgType: "response", Status: "NO_QUERY"})
		return
	}
	writeJSON(w, http.StatusOK, passcheckResponse{MsgType: "response", Status: "SUCCESS", Data: recs})
}
