package api

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sview-project/sview/internal/query"
)

// Every parser of the HTTP API either accepts its input or returns an error that wraps its
// sentinel and says what was wrong; none panics.

func FuzzParsePasscheck(f *testing.F) {
	f.Add([]byte(`{"msg_type":"request","hash":"e5e9fa"}`))
	f.Add([]byte(`{"msg_type":"request","hash":"E5E9FA"}`))
	f.Add([]byte(`{"msg_type":1,"hash":null,"x":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		hash, err := ParsePasscheck(body)
		if err != nil {
			if !errors.Is(err, ErrPasscheck) || len(err.Error()) > 400 {
				t.Fatalf("error %q does not wrap ErrPasscheck or is unbounded", err)
			}
			return
		}
		if !hashPattern.MatchString(hash) {
			t.Fatalf("accepted hash %q", hash)
		}
	})
}

func FuzzParseRangePrefix(f *testing.F) {
	for _, s := range []string{"21BD1", "21bd1", "21BD", "21BD1F", "ZZZZZ", "ä1234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseRangePrefix(s)
		if err != nil {
			if !errors.Is(err, ErrRangePrefix) {
				t.Fatalf("error %q does not wrap ErrRangePrefix", err)
			}
			return
		}
		if len(p) != 5 || strings.ToUpper(s) != p {
			t.Fatalf("accepted %q as %q", s, p)
		}
	})
}

func FuzzParseResource(f *testing.F) {
	for _, s := range []string{"name=all_incidents_graph&period=1w", "name=selected_attacker_incidents_graph&ip=192.0.2.1",
		"name=logins_of_password_by_usages_list&password=%00", "name=my_all_incidents_graph&probe=1&probe=x", "name=my_all_incidents_graph", "name=&period=1y", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		params, err := url.ParseQuery(raw)
		if err != nil {
			return // net/http answers 400 before our handler sees such a query
		}
		q, err := ParseResource(params, nil)
		if err != nil {
			if !errors.Is(err, ErrResource) && !errors.Is(err, query.ErrForbidden) {
				t.Fatalf("error %q wraps neither ErrResource nor ErrForbidden", err)
			}
			return
		}
		if q.Preset == "" || q.Period == "" {
			t.Fatalf("accepted %q without preset or period: %+v", raw, q)
		}
		if len(q.Filters.Probe) > 0 {
			t.Fatalf("accepted %q with probes %v but no device token", raw, q.Filters.Probe)
		}
	})
}

func FuzzParseVariables(f *testing.F) {
	for _, s := range [][2]string{{"asns", "q=example&limit=10"}, {"probes", "limit=0"}, {"tags", "q="}, {"x", "y=1"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, kind, raw string) {
		params, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req, err := ParseVariables(kind, params, time.Now())
		if err != nil {
			if !errors.Is(err, ErrVariables) {
				t.Fatalf("error %q does not wrap ErrVariables", err)
			}
			return
		}
		if req.Limit < 1 || req.Limit > MaxVariablesLimit {
			t.Fatalf("accepted limit %d", req.Limit)
		}
	})
}

func FuzzParseLeak(f *testing.F) {
	for _, s := range []string{"password=hunter2", "sha1=F3BBBD66A63D4BF1747940578EC3D0103530E21D", "prefix=f3bbb", "prefix=f3", "a=1&b=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		params, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req, err := ParseLeak(params)
		if err != nil {
			if !errors.Is(err, ErrLeakRequest) {
				t.Fatalf("error %q does not wrap ErrLeakRequest", err)
			}
			return
		}
		if req.Kind != "password" && req.Kind != "sha1" && req.Kind != "prefix" {
			t.Fatalf("accepted kind %q", req.Kind)
		}
	})
}

func FuzzParseGreylistFile(f *testing.F) {
	for _, s := range []string{"2026-11-01.csv", "2026-13-01.csv", "latest.csv", "2026-11-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if _, err := ParseGreylistFile(name); err != nil && !errors.Is(err, ErrGreylistDate) {
			t.Fatalf("error %q does not wrap ErrGreylistDate", err)
		}
	})
}
