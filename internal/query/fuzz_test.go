package query

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/sview-project/sview/internal/period"
)

// FuzzParse: no input panics, every error is one of the sentinel errors, and every accepted
// query survives a round trip through its canonical JSON.
var emptyRange = period.Range{}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"preset":"top_countries_by_attackers_graph","period":"1w"}`,
		`{"metric":"incidents","groupBy":"country","format":"table","filters":{"probe":["1",2],"asn":"64500","country":"cz"}}`,
		`{"queryType":"greylist","minScore":"1.5","filters":{"tag":["telnet"]}}`,
		`{"queryType":"leak","prefix":"5baa6"}`,
		`{"queryType":"status"}`,
		`{"metric":"scans","groupBy":"port","filters":{"port":[22,"23"],"ip":"2001:db8::/32"}}`,
		`{"metric":"incidents","filters":{"ip":["198.51.100.0/24","192.0.2.1","::ffff:10.0.0.0/104"]},"exclude":{"country":"cn","ip":"198.51.100.7"}}`,
		`{"refId":"A","datasource":{"uid":"x"},"metric":"usages","exclude":{"password":"123456"},"filters":{"counrty":["CZ"]}}`,
		`{"metric":"incidents","filters":{"country":["US"],"ip":"10.0.0.0/8"},"adhoc":[{"key":"country","operator":"=","value":"CN"},{"key":"ip","operator":"!=|","values":["10.1.0.0/16"]}]}`,
		`{"queryType":"events","events":"scans","limit":"20","before":1777636800000,"filters":{"port":"TCP/22"},"exclude":{"ip":"192.0.2.0/24"}}`,
		`{"queryType":"greylist","adhoc":[{"key":"tag","operator":"=|","values":["ssh"]},{"key":"port","operator":"=","value":"22"}],"empty":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidJSON) && !errors.Is(err, ErrInvalidField) &&
				!errors.Is(err, ErrMissingField) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		out, err := json.Marshal(q)
		if err != nil {
			t.Fatalf("marshal %#v: %v", q, err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("canonical JSON %s rejected: %v", out, err)
		}
		if q.CacheKey(emptyRange) != again.CacheKey(emptyRange) {
			t.Fatalf("round trip changed the query: %s → %#v", out, again)
		}
	})
}
