package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sview-project/sview/internal/catalog"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
)

// The original resource API: GET /api/resource?name=&period=[&ip=&password=], answered
// {"resource_name": name, "data": …} in the original per-resource shapes, or {"error": …}.
// Unlike the original, data is computed on a miss, so it is never null. The my_* resources
// read the probes whose device tokens the request proves (DeviceTokenHeader, or a POST form
// body with the same fields as the query string and device_token).

// ErrResource marks a bad resource request.
var ErrResource = errors.New("invalid resource request")

// DefaultResourcePeriod is the original API's default period.
const DefaultResourcePeriod = "1y"

// userCacheTTL is the original's Cache-Control max-age per period.
var userCacheTTL = map[string]time.Duration{"1h": 30 * time.Second, "6h": 2 * time.Minute}

const defaultUserCacheTTL = 5 * time.Minute

// ParseResource turns the request parameters into a validated stats query. Parameters the
// original did not know are ignored, as it did; a resource about probes (my_*) reads the
// probes the caller proved, and none is a query.ErrForbidden.
func ParseResource(params url.Values, probes []int64) (query.Query, error) {
	name := params.Get("name")
	p, ok := catalog.Lookup(name)
	if !ok {
		return query.Query{}, fmt.Errorf("%w: unknown resource %q (see GET variables/presets)", ErrResource, clip([]byte(name)))
	}
	if params.Has("probe") {
		return query.Query{}, fmt.Errorf("%w: probes are not named by id; send their device tokens in the %s header", ErrResource, DeviceTokenHeader)
	}
	per := params.Get("period")
	if per == "" {
		per = DefaultResourcePeriod
	}
	if _, ok := period.Lookup(per); !ok {
		return query.Query{}, fmt.Errorf("%w: invalid period %q, want one of %s", ErrResource, clip([]byte(per)), strings.Join(period.Names(), ", "))
	}
	q := map[string]any{"queryType": query.TypeStats, "preset": p.Name, "period": per}
	filters := map[string]any{}
	if ip := params.Get("ip"); ip != "" {
		filters["ip"] = ip
	}
	if pw, ok := params["password"]; ok {
		filters["password"] = pw[0]
	}
	if p.Requires == "probe" {
		if len(probes) == 0 {
			return query.Query{}, fmt.Errorf("%w: resource %s is about your own probes; send their device tokens in the %s header", query.ErrForbidden, p.Name, DeviceTokenHeader)
		}
		filters["probe"] = probes
	}
	q["filters"] = filters
	b, _ := json.Marshal(q) // maps of strings and numbers always marshal
	parsed, err := query.Parse(b)
	if err != nil {
		return query.Query{}, fmt.Errorf("%w: %w", ErrResource, err)
	}
	return parsed, nil
}

type resourceBody struct {
	ResourceName string `json:"resource_name"`
	Data         any    `json:"data"`
}

func (d Deps) resource(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "want a form body (application/x-www-form-urlencoded)"})
			return
		}
		params = r.PostForm
	}
	c, ok := d.caller(w, r)
	if !ok {
		return
	}
	q, err := ParseResource(params, c.Scope.Probes)
	if err == nil {
		q, err = c.Scope.Apply(q)
	}
	switch {
	case errors.Is(err, query.ErrForbidden):
		forbidden(w, err)
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, errorBody{Error: strings.TrimPrefix(err.Error(), ErrResource.Error()+": ")})
		return
	}
	res, err := d.Stats.Query(r.Context(), q, period.Range{}, false)
	if err != nil {
		d.fail(w, r, "resource "+q.Preset, err)
		return
	}
	body, err := OriginalShape(q, res.Frames)
	if err != nil {
		d.fail(w, r, "resource "+q.Preset, err)
		return
	}
	ttl, ok := userCacheTTL[q.Period]
	if !ok {
		ttl = defaultUserCacheTTL
	}
	w.Header().Set("Cache-Control", fmt.Sprintf("max-age=%d", int(ttl.Seconds())))
	writeJSON(w, http.StatusOK, resourceBody{ResourceName: q.Preset, Data: body})
}

// bucketLayout is how the original labels a point: its bucket end, UTC, to the minute.
const bucketLayout = "2006-01-02 15:04"

// originalKey renames columns whose original JSON name differs from ours.
var originalKey = map[string]string{"trap": "source"}

// OriginalShape renders frames in the shape the original gave the query's resource:
// [{bucket,count}] for a single series, {labels,ykeys,data} for top-N graphs, [{key…,count}]
// for lists and {cc: count} for maps.
func OriginalShape(q query.Query, frames data.Frames) (any, error) {
	switch {
	case q.Format == query.FormatMap:
		m := map[string]float64{}
		for _, f := range frames {
			keys, val, err := columns(f)
			if err != nil {
				return nil, err
			}
			for i := range f.Rows() {
				if len(keys) > 0 {
					m[fmt.Sprint(keys[0].field.CopyAt(i))] = num(val, i)
				}
			}
		}
		return m, nil
	case q.Format == query.FormatTable:
		rows := []map[string]any{}
		for _, f := range frames {
			keys, val, err := columns(f)
			if err != nil {
				return nil, err
			}
			for i := range f.Rows() {
				row := map[string]any{"count": num(val, i)}
				for _, k := range keys {
					v, _ := k.field.ConcreteAt(i)
					row[k.name] = v
				}
				rows = append(rows, row)
			}
		}
		return rows, nil
	case len(q.GroupBy) == 0:
		points := []map[string]any{}
		for _, f := range frames {
			ts, val, err := series(f)
			if err != nil {
				return nil, err
			}
			for i := range f.Rows() {
				points = append(points, map[string]any{"bucket": ts.At(i).(time.Time).UTC().Format(bucketLayout), "count": num(val, i)})
			}
		}
		return points, nil
	}
	return multiline(q, frames)
}

type keyColumn struct {
	name  string
	field *data.Field
}

// columns splits a table frame into its key columns and its (last numeric) value column.
func columns(f *data.Frame) ([]keyColumn, *data.Field, error) {
	var keys []keyColumn
	var val *data.Field
	for _, fld := range f.Fields {
		if fld.Type().Numeric() {
			if val != nil {
				keys = append(keys, keyColumn{name: originalName(val.Name), field: val})
			}
			val = fld
			continue
		}
		keys = append(keys, keyColumn{name: originalName(fld.Name), field: fld})
	}
	if val == nil {
		return nil, nil, fmt.Errorf("frame %q has no numeric column", f.Name)
	}
	return keys, val, nil
}

func originalName(n string) string {
	if o, ok := originalKey[n]; ok {
		return o
	}
	return n
}

// series finds the time and the value field of a time-series frame.
func series(f *data.Frame) (ts, val *data.Field, err error) {
	for _, fld := range f.Fields {
		switch {
		case fld.Type().Time() && ts == nil:
			ts = fld
		case fld.Type().Numeric() && val == nil:
			val = fld
		}
	}
	if ts == nil || val == nil {
		return nil, nil, fmt.Errorf("frame %q is not a time series", f.Name)
	}
	return ts, val, nil
}

func num(f *data.Field, i int) float64 {
	v, ok := f.NullableFloatAt(i)
	if ok != nil || v == nil {
		return 0
	}
	return *v
}

// multiline is the original's top-N graph: the series names in rank order, their indexes as
// ykeys, and one object per bucket holding every series' count under its index.
func multiline(q query.Query, frames data.Frames) (any, error) {
	labels := []string{}
	ykeys := []int{}
	var buckets []string
	byBucket := map[string]map[string]any{}
	for _, f := range frames {
		if f.Rows() == 0 {
			continue // the typed empty frame of a grouping without rows
		}
		ts, val, err := series(f)
		if err != nil {
			return nil, err
		}
		n := len(labels)
		labels = append(labels, seriesName(q, val.Labels))
		ykeys = append(ykeys, n)
		for i := range f.Rows() {
			b := ts.At(i).(time.Time).UTC().Format(bucketLayout)
			row, ok := byBucket[b]
			if !ok {
				row = map[string]any{"bucket": b}
				byBucket[b] = row
				buckets = append(buckets, b)
			}
			row[strconv.Itoa(n)] = num(val, i)
		}
	}
	points := make([]map[string]any, 0, len(buckets))
	for _, b := range buckets {
		row := byBucket[b]
		for n := range labels {
			if _, ok := row[strconv.Itoa(n)]; !ok {
				row[strconv.Itoa(n)] = 0.0
			}
		}
		points = append(points, row)
	}
	return map[string]any{"labels": labels, "ykeys": ykeys, "data": points}, nil
}

// seriesName is the value of the grouping label, or all label values joined when the
// grouping spans several.
func seriesName(q query.Query, l data.Labels) string {
	if len(q.GroupBy) == 1 {
		if v, ok := l[q.GroupBy[0]]; ok {
			return v
		}
	}
	return l.String()
}
