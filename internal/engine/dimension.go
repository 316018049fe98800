package engine

import (
	"strings"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/query"
)

// dimension is how a grouping reads from a table: the columns grouped on (compared with IN for
// the top-N), one label per shown key with its text expression, and conditions that drop
// meaningless keys. A grouping by several keys is the concatenation of the keys' dimensions.
// Every identifier here comes from this closed table.
type dimension struct {
	cols   []string
	labels []label
	where  []string
}

// kept is the condition on the rows whose keys the dimension keeps: no key column NULL (an
// unknown country or ASN is no group), and the dimension's own conditions.
func (d dimension) kept() string {
	if c := d.keeps(); len(c) > 0 {
		return strings.Join(c, " AND ")
	}
	return "true"
}

// keeps lists the conditions of kept.
func (d dimension) keeps() []string {
	c := make([]string, 0, len(d.cols)+len(d.where))
	for _, col := range d.cols {
		c = append(c, col+" IS NOT NULL")
	}
	return append(c, d.where...)
}

type label struct {
	name string
	text string
}

func one(col, name, text string) dimension {
	return dimension{cols: []string{col}, labels: []label{{name, text}}}
}

// empty logins are not passwords: the original dropped ” and a lone newline from its lists.
func login(col string) dimension {
	d := one(col, col, col)
	d.where = []string{col + " <> ''", col + " <> E'\\n'"}
	return d
}

// dimensionOf is the dimension of a grouping: its keys' dimensions one after the other.
// Validation has made the keys distinct and their columns disjoint.
func dimensionOf(table derived.Family, g query.Grouping) dimension {
	var d dimension
	for _, key := range g {
		k := keyDimension(table, key)
		d.cols = append(d.cols, k.cols...)
		d.labels = append(d.labels, k.labels...)
		d.where = append(d.where, k.where...)
	}
	return d
}

// keyDimension is the dimension of one groupBy key. Labels are read as text; the frames type
// them (see names.go): the probe label holds the identity id until the serial replaces it.
func keyDimension(table derived.Family, key string) dimension {
	switch key {
	case "country":
		return one("country", "country", "country")
	case "asn":
		return one("asn", "asn", "asn::text")
	case "trap":
		return one("trap", "trap", "trap::text")
	case "action":
		return one("action", "action", "action::text")
	case "ip":
		return one("ip", "ip", "host(ip)")
	case "probe":
		return one("identity_id", "probe", "identity_id::text")
	case "password", "username":
		return login(key)
	case "port":
		return dimension{cols: []string{"protocol", "port"}, labels: []label{{"port", "protocol::text || '/' || port::text"}}}
	case "combination":
		if table == derived.Passwords {
			u, p := login("username"), login("password")
			return dimension{cols: []string{"username", "password"}, labels: append(u.labels, p.labels...), where: append(u.where, p.where...)}
		}
		return dimension{cols: []string{"trap", "action"}, labels: []label{{"trap", "trap::text"}, {"action", "action::text"}}}
	}
	if _, ok := query.LabelOf(key); ok {
		return one(key, key, key)
	}
	return dimension{}
}

// filterColumns lists the columns q's filters and exclusions compare (as conditions does), so
// a source that lacks one of them is never read and no filter or exclusion is dropped
// silently; ok is false for a filter no stats table has, and for a scope restriction, which
// only the wide rollups and raw answer (twins, totals and sightings would have to carry probe,
// asn and ip to apply it).
func filterColumns(q query.Query) (cols []string, ok bool) {
	cols = append(columnsOf(q.Filters), columnsOf(q.Exclude)...)
	return cols, len(q.Filters.Tag) == 0 && len(q.Exclude.Tag) == 0 && q.Restrict == nil
}

// columnsOf lists the columns the set filters of f compare.
func columnsOf(f query.Filters) (cols []string) {
	for _, c := range []struct {
		set bool
		col string
	}{
		{len(f.Probe) > 0, "identity_id"}, {len(f.ASN) > 0, "asn"}, {len(f.Country) > 0, "country"},
		{len(f.Trap) > 0, "trap"}, {len(f.Action) > 0, "action"}, {len(f.IP) > 0, "ip"},
		{len(f.Password) > 0, "password"}, {len(f.Username) > 0, "username"}, {len(f.Port) > 0, "port"},
	} {
		if c.set {
			cols = append(cols, c.col)
		}
	}
	for _, l := range query.Labels {
		if len(l.Values(f)) > 0 {
			cols = append(cols, l.Key)
		}
	}
	return cols
}
