package plugin

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/sview-project/sview/internal/api"
	"github.com/sview-project/sview/internal/query"
)

// scopeRule is one entry of jsonData.scopes (plugin/src/types.ts ScopeRule): whom it matches
// and what it grants. Grafana tells a plugin the user's login, email and org role but not its
// teams, so a team is a list of logins in jsonData.teams.
type scopeRule struct {
	Login    string   `json:"login,omitempty"`
	Email    string   `json:"email,omitempty"`
	Team     string   `json:"team,omitempty"`
	Role     string   `json:"role,omitempty"` // this org role and the ones above it
	Everyone bool     `json:"everyone,omitempty"`
	All      bool     `json:"all,omitempty"`
	Public   bool     `json:"public,omitempty"`
	Activity bool     `json:"activity,omitempty"`
	Probes   []int64  `json:"probes,omitempty"`
	ASNs     []int64  `json:"asns,omitempty"`
	Prefixes []string `json:"prefixes,omitempty"`
}

// roleRank orders Grafana's org roles: a rule for a role matches it and every role above.
var roleRank = map[string]int{"Viewer": 1, "Editor": 2, "Admin": 3}

// defaultScopes apply when the settings name none: admins see everything, everyone else what
// the public API shows, and every signed-in user the probes they claimed.
var defaultScopes = []scopeRule{{Role: "Admin", All: true}, {Everyone: true, Public: true}}

// defaultAlertScope is what alert rules see when the settings name no alertScope.
var defaultAlertScope = scopeRule{Public: true}

// Access maps Grafana callers to scopes.
type Access struct {
	rules []rule
	teams map[string][]string
	alert query.Scope
}

type rule struct {
	match scopeRule
	grant query.Scope
}

func (r scopeRule) scope() (query.Scope, error) {
	s := query.Scope{All: r.All, Public: r.Public, Activity: r.Activity}
	s = s.Union(query.Scope{Probes: r.Probes, ASNs: r.ASNs})
	for _, p := range r.Probes {
		if p <= 0 {
			return s, fmt.Errorf("%w: probe %d, want a probe id (GET variables/probes as an admin)", ErrInvalidScope, p)
		}
	}
	var prefixes []netip.Prefix
	for _, txt := range r.Prefixes {
		p, err := netip.ParsePrefix(strings.TrimSpace(txt))
		if err != nil {
			return s, fmt.Errorf("%w: prefix %q, want CIDR such as 192.0.2.0/24", ErrInvalidScope, txt)
		}
		prefixes = append(prefixes, p)
	}
	return s.Union(query.Scope{Prefixes: prefixes}), nil
}

func newAccess(rules *[]scopeRule, teams map[string][]string, alert *scopeRule) (Access, error) {
	rs := defaultScopes
	if rules != nil {
		rs = *rules
	}
	a := Access{teams: teams}
	for i, r := range rs {
		n := 0
		for _, set := range []bool{r.Login != "", r.Email != "", r.Team != "", r.Role != "", r.Everyone} {
			if set {
				n++
			}
		}
		if n != 1 {
			return Access{}, fmt.Errorf("%w %d: match exactly one of login, email, team, role or everyone", ErrInvalidScope, i+1)
		}
		if _, ok := roleRank[r.Role]; r.Role != "" && !ok {
			return Access{}, fmt.Errorf("%w %d: role %q, want Viewer, Editor or Admin", ErrInvalidScope, i+1, r.Role)
		}
		if _, ok := teams[r.Team]; r.Team != "" && !ok {
			return Access{}, fmt.Errorf("%w %d: team %q is not defined under teams", ErrInvalidScope, i+1, r.Team)
		}
		s, err := r.scope()
		if err != nil {
			return Access{}, fmt.Errorf("rule %d: %w", i+1, err)
		}
		a.rules = append(a.rules, rule{match: r, grant: s})
	}
	ar := defaultAlertScope
	if alert != nil {
		ar = *alert
	}
	s, err := ar.scope()
	if err != nil {
		return Access{}, fmt.Errorf("alertScope: %w", err)
	}
	a.alert = s
	return a, nil
}

// For is the scope the settings give u (nil: a caller Grafana does not name, matched by the
// everyone rules only), without the probes u has claimed.
func (a Access) For(u *backend.User) query.Scope {
	var s query.Scope
	for _, r := range a.rules {
		if r.matches(u, a.teams) {
			s = s.Union(r.grant)
		}
	}
	return s
}

func (r rule) matches(u *backend.User, teams map[string][]string) bool {
	m := r.match
	if m.Everyone {
		return true
	}
	if u == nil {
		return false
	}
	switch {
	case m.Login != "":
		return u.Login == m.Login
	case m.Email != "":
		return u.Email != "" && strings.EqualFold(u.Email, m.Email)
	case m.Team != "":
		return u.Login != "" && slices.Contains(teams[m.Team], u.Login)
	}
	return roleRank[u.Role] >= roleRank[m.Role]
}

// caller is who runs a query or resource call: alert rules get the alert scope; everyone else
// the settings' scope and, when signed in, the probes they claimed. Claims are read from the
// primary, where they are written, so a claim counts at once.
func (d *Datasource) caller(ctx context.Context, u *backend.User, alert bool) (api.Caller, error) {
	if alert {
		return api.Caller{Scope: d.settings.Access.alert}, nil
	}
	c := api.Caller{Scope: d.settings.Access.For(u)}
	if u == nil || u.Login == "" {
		return c, nil
	}
	c.Login = u.Login
	if c.Scope.All {
		return c, nil
	}
	claimed, err := api.ClaimedProbes(ctx, d.primary, u.Login)
	if err != nil {
		return api.Caller{}, err
	}
	c.Scope = c.Scope.Union(query.Scope{Probes: claimed})
	return c, nil
}

// resourceCaller is the api.CallerFunc of CallResource: the signed-in user the SDK put in
// the request's context.
func (d *Datasource) resourceCaller(r *http.Request) (api.Caller, error) {
	return d.caller(r.Context(), backend.UserFromContext(r.Context()), false)
}
