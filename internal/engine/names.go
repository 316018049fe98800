package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sview-project/sview/internal/geo"
)

// An answer's keys are typed and named after the ranked read, so its statements group by the
// bare columns only: an ASN is a number (int64 in a table, its text in a series label) with
// its AS name beside it as asn_name; a probe is shown by its serial (identity.sn) with its
// identity id, what filters.probe takes, beside it as probe_id. Every other key is text, port
// included ("TCP/22": the pair protocol and port). The names are read once per answer, for the
// keys shown only; a key without one gets "".

// keyNames are the names of an answer's ASNs and probes, by the key's text.
type keyNames struct {
	asns    map[string]string // AS name per ASN
	serials map[string]string // serial per identity id
}

// lookupNames reads the names of the ASNs and probes among keys (one slice of texts per label
// of d).
func lookupNames(ctx context.Context, db Querier, d dimension, keys [][]string) (keyNames, error) {
	n := keyNames{asns: map[string]string{}, serials: map[string]string{}}
	for i, l := range d.labels {
		if l.name != "asn" && l.name != "probe" {
			continue
		}
		ids, err := numbers(l.name, keys[i])
		if err != nil {
			return n, err
		}
		if l.name == "asn" {
			names, err := geo.ASNames(ctx, db, ids)
			if err != nil {
				return n, err
			}
			for asn, name := range names {
				n.asns[strconv.FormatInt(asn, 10)] = name
			}
			continue
		}
		if err := n.readSerials(ctx, db, ids); err != nil {
			return n, err
		}
	}
	return n, nil
}

// readSerials reads the serials of the probes ids; the reader role may read id and sn only.
// Grouping by probe is narrowed to the caller's probes (query.Scope.Apply), so no serial of a
// probe the caller may not see is read.
func (n keyNames) readSerials(ctx context.Context, db Querier, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := db.Query(ctx, "SELECT id::text, sn FROM identity WHERE id = ANY($1::bigint[])", ids)
	if err != nil {
		return fmt.Errorf("read probe serials: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, sn string
		if err := rows.Scan(&id, &sn); err != nil {
			return fmt.Errorf("read probe serials: %w", err)
		}
		n.serials[id] = sn
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read probe serials: %w", err)
	}
	return nil
}

// labels are the series labels of one key (a text per label of d).
func (n keyNames) labels(d dimension, texts []string) data.Labels {
	out := data.Labels{}
	for i, l := range d.labels {
		out[l.name] = texts[i]
		switch l.name {
		case "asn":
			out["asn_name"] = n.asns[texts[i]]
		case "probe":
			out["probe"], out["probe_id"] = n.serials[texts[i]], texts[i]
		}
	}
	return out
}

// legend is how a series of d is named: its keys' values joined (TCP/22, CZ, admin / 123456),
// an ASN as AS64500 and its name, a probe by its serial (#id when it has none).
func legend(d dimension, labels data.Labels) string {
	parts := make([]string, len(d.labels))
	for i, l := range d.labels {
		switch v := labels[l.name]; l.name {
		case "asn":
			parts[i] = strings.TrimSpace("AS" + v + " " + labels["asn_name"])
		case "probe":
			if v == "" {
				v = "#" + labels["probe_id"]
			}
			parts[i] = v
		default:
			parts[i] = v
		}
	}
	return strings.Join(parts, " / ")
}

// fields are the table columns of one label of d, from its texts: asn as a number with
// asn_name after it, probe as the serial with probe_id after it, any other as text.
func (n keyNames) fields(l label, texts []string) ([]*data.Field, error) {
	switch l.name {
	case "asn":
		asns, err := numbers(l.name, texts)
		return []*data.Field{data.NewField("asn", nil, asns), data.NewField("asn_name", nil, names(n.asns, texts))}, err
	case "probe":
		ids, err := numbers(l.name, texts)
		return []*data.Field{data.NewField("probe", nil, names(n.serials, texts)), data.NewField("probe_id", nil, ids)}, err
	}
	return []*data.Field{data.NewField(l.name, nil, texts)}, nil
}

func names(m map[string]string, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// numbers reads the texts of a numeric key (asn, probe).
func numbers(name string, texts []string) ([]int64, error) {
	out := make([]int64, len(texts))
	for i, t := range texts {
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("read %s key %q: %w", name, t, err)
		}
		out[i] = v
	}
	return out, nil
}
