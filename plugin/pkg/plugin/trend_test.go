package plugin

import (
	"context"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"
)

// TestTrendQueries sends trend queries as Grafana does, over the seeded 6 hours (hourly
// buckets; the 6 hours before hold nothing): AS64500 brings 1, 2, …, 6 incidents, a slope of 1
// an hour, 24 a day; AS64501 a constant 2, no slope.
func TestTrendQueries(t *testing.T) {
	t.Parallel()
	d, _ := newSeeded(t, nil)
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
		grafanaQuery("table", `{"queryType":"trend","metric":"incidents","groupBy":"asn","period":""}`),
		grafanaQuery("falling", `{"queryType":"trend","metric":"incidents","groupBy":"asn","direction":"falling"}`),
		grafanaQuery("bad", `{"queryType":"trend","metric":"incidents","groupBy":"asn","format":"timeseries"}`),
	}})
	require.NoError(t, err)
	table := resp.Responses["table"]
	require.NoError(t, table.Error)
	require.Len(t, table.Frames, 1)
	f := table.Frames[0]
	require.Equal(t, data.FrameTypeNumericLong, f.Meta.Type)
	require.Equal(t, 1, f.Rows(), "AS64501 is flat")
	row := map[string]any{}
	for _, fd := range f.Fields {
		row[fd.Name] = nil // a null stays nil
		if v, ok := fd.ConcreteAt(0); ok {
			row[fd.Name] = v
		}
	}
	require.Equal(t, map[string]any{"asn": int64(64500), "asn_name": "EXAMPLE-NET", "current": int64(21), "previous": int64(0), "change": int64(21),
		"change_ratio": nil, "slope_per_day": 24.0, "buckets": int64(6)}, row)
	require.Equal(t, "percentunit", f.Fields[5].Config.Unit)
	require.Equal(t, "Slope / day", f.Fields[6].Config.DisplayNameFromDS)

	falling := resp.Responses["falling"]
	require.NoError(t, falling.Error)
	require.Len(t, falling.Frames, 1)
	require.Zero(t, falling.Frames[0].Rows(), "nothing falls: a typed frame without rows")
	require.Len(t, falling.Frames[0].Fields, 8)

	bad := resp.Responses["bad"]
	require.Equal(t, backend.StatusBadRequest, bad.Status)
	require.ErrorContains(t, bad.Error, `invalid field format "timeseries": a trend is a table, or numeric for alert rules (allowed: table, numeric)`)

	// An alert rule's queries: the key's text columns (labels to Grafana) and one number, so
	// each ASN is one alert instance.
	alert := map[string]string{"FromAlert": "true", "X-Cache-Skip": "true"}
	resp, err = d.QueryData(context.Background(), &backend.QueryDataRequest{Headers: alert, Queries: []backend.DataQuery{
		dataQuery("slope", `{"queryType":"trend","metric":"incidents","groupBy":"asn","format":"numeric"}`),
		dataQuery("current", `{"queryType":"trend","metric":"incidents","groupBy":"asn","format":"numeric","measure":"current","limit":50}`),
	}})
	require.NoError(t, err)
	for name, want := range map[string]any{"slope": 24.0, "current": int64(21)} {
		r := resp.Responses[name]
		require.NoError(t, r.Error, name)
		require.Len(t, r.Frames, 1, name)
		f := r.Frames[0]
		require.Len(t, f.Fields, 3, name)
		require.Equal(t, data.FieldTypeString, f.Fields[0].Type())
		require.Equal(t, data.FieldTypeString, f.Fields[1].Type())
		require.True(t, f.Fields[2].Type().Numeric(), name)
		require.Equal(t, []any{"64500", "EXAMPLE-NET", want}, []any{f.Fields[0].At(0), f.Fields[1].At(0), f.Fields[2].At(0)}, name)
	}
}
