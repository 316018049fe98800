package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Probe claims of signed-in Grafana users (docs/security.md): a user proves a probe's device
// token once, in the request body, and sees that probe's own data from then on.

// ClaimedProbe is one probe a user has claimed.
type ClaimedProbe struct {
	ID int64  `json:"id"`
	SN string `json:"sn"`
}

type claimRequest struct {
	DeviceToken string `json:"deviceToken"`
}

// signedIn is the caller of a claims request, or a 403 for a caller without a login.
func (d Deps) signedIn(w http.ResponseWriter, r *http.Request) (string, bool) {
	c, ok := d.caller(w, r)
	if !ok {
		return "", false
	}
	if c.Login == "" {
		forbidden(w, errors.New("probe claims belong to a signed-in user; this request has none"))
		return "", false
	}
	return c.Login, true
}

func (d Deps) listClaims(w http.ResponseWriter, r *http.Request) {
	login, ok := d.signedIn(w, r)
	if !ok {
		return
	}
	rows, err := d.DB.Query(r.Context(), `SELECT i.id, i.sn FROM probe_claims c JOIN identity i ON i.id = c.identity_id
		WHERE c.login = $1 ORDER BY i.id`, login)
	if err != nil {
		d.fail(w, r, "list probe claims", err)
		return
	}
	defer rows.Close()
	out := []ClaimedProbe{}
	for rows.Next() {
		var p ClaimedProbe
		if err := rows.Scan(&p.ID, &p.SN); err != nil {
			d.fail(w, r, "list probe claims", err)
			return
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		d.fail(w, r, "list probe claims", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (d Deps) claim(w http.ResponseWriter, r *http.Request) {
	login, ok := d.signedIn(w, r)
	if !ok {
		return
	}
	var req claimRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: `want a JSON body {"deviceToken": "<64 hex>"}`})
		return
	}
	id, err := ClaimProbe(r.Context(), d.Claims, login, req.DeviceToken)
	switch {
	case errors.Is(err, errCaller):
		forbidden(w, err)
		return
	case err != nil:
		d.fail(w, r, "claim a probe", err)
		return
	}
	p := ClaimedProbe{ID: id}
	if err := d.DB.QueryRow(r.Context(), `SELECT sn FROM identity WHERE id = $1`, id).Scan(&p.SN); err != nil {
		d.fail(w, r, "claim a probe", err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (d Deps) unclaim(w http.ResponseWriter, r *http.Request) {
	login, ok := d.signedIn(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("probe"), 10, 64)
	if err != nil || id <= 0 {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "want DELETE claims/<probe id>"})
		return
	}
	gone, err := UnclaimProbe(r.Context(), d.Claims, login, id)
	if err != nil {
		d.fail(w, r, "drop a probe claim", err)
		return
	}
	if !gone {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "you have not claimed probe " + strconv.FormatInt(id, 10)})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
