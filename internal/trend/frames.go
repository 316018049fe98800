package trend

import (
	"fmt"
	"strconv"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// The numeric columns of a trend, by field name. A numeric answer (for alert rules) carries one
// of them, its measure: Grafana's server-side expressions read a table as one number per row
// only when it has exactly one numeric column, its string columns becoming the labels.
const (
	SlopePerDay = "slope_per_day"
	Change      = "change"
	ChangeRatio = "change_ratio"
	Current     = "current"
	Previous    = "previous"
	Buckets     = "buckets"
)

// Measures lists the measures a numeric answer may carry, the default first.
var Measures = []string{SlopePerDay, Change, ChangeRatio, Current, Previous}

// Table is a computed trend as the query service caches it: every key's row, unranked, with
// the key's columns in order and the windows they were computed over.
type Table struct {
	Columns []string `json:"columns"`
	Windows Windows  `json:"windows"`
	Rows    []Row    `json:"rows"`
}

// Frame is t's ranked rows as one numeric-long frame named title: the key's columns, then
// current, previous, change, change_ratio, slope_per_day and buckets; or, when measure is set,
// the key's columns and that measure alone.
func (t Table) Frame(title string, rows []Row, measure string) (*data.Frame, error) {
	f := data.NewFrame(title)
	for _, c := range t.Columns {
		f.Fields = append(f.Fields, keyField(c, rows, measure == ""))
	}
	n := len(rows)
	current, previous, change, buckets := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	ratio, slope := make([]*float64, n), make([]float64, n)
	for i, r := range rows {
		current[i], previous[i], change[i], ratio[i], slope[i] = r.Current, r.Previous, r.Change, r.ChangeRatio, r.SlopePerDay
		buckets[i] = int64(t.Windows.Buckets())
	}
	days := t.Windows.Current.To.Sub(t.Windows.Current.From).Hours() / 24
	numeric := []*data.Field{
		field(Current, "short", "Current", current),
		field(Previous, "short", "Previous", previous),
		field(Change, "short", "Change", change),
		field(ChangeRatio, "percentunit", "Change %", ratio),
		field(SlopePerDay, "short", "Slope / day", slope),
		field(Buckets, "none", "Buckets", buckets),
	}
	numeric[4].Config.Description = fmt.Sprintf("least-squares slope over %d buckets of %s (%.4g days), per day", t.Windows.Buckets(), t.Windows.Current.Interval, days)
	if measure == "" {
		f.Fields = append(f.Fields, numeric...)
	} else {
		i := indexOf(numeric, measure)
		if i < 0 {
			return nil, fmt.Errorf("no trend measure %q", measure)
		}
		f.Fields = append(f.Fields, numeric[i])
	}
	f.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}, Custom: map[string]any{
		"from": t.Windows.Current.From, "to": t.Windows.Current.To,
		"previousFrom": t.Windows.Previous.From, "bucketSeconds": t.Windows.Current.Interval.Seconds(),
	}}
	return f, nil
}

// numberKeys are the key columns the engine's tables hold as numbers (docs/query-model.md).
var numberKeys = map[string]bool{"asn": true, "probe_id": true}

// keyField is the column of key c: a number in a table where the engine's tables have one, and
// text in a numeric answer, whose text columns Grafana's alerting turns into labels (a second
// number there would be read as a second measure).
func keyField(c string, rows []Row, table bool) *data.Field {
	if table && numberKeys[c] {
		values := make([]*int64, len(rows))
		for i, r := range rows {
			if n, err := strconv.ParseInt(r.Labels[c], 10, 64); err == nil {
				values[i] = &n
			}
		}
		return field(c, "", c, values)
	}
	values := make([]string, len(rows))
	for i, r := range rows {
		values[i] = r.Labels[c]
	}
	return field(c, "", c, values)
}

// field is a column Grafana displays by display whichever frames come with it.
func field(name, unit, display string, values any) *data.Field {
	f := data.NewField(name, nil, values)
	f.Config = &data.FieldConfig{DisplayNameFromDS: display, Unit: unit}
	return f
}

func indexOf(fields []*data.Field, name string) int {
	for i, f := range fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}
