package paneltest

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// Need is the shape of result a consumer can draw or evaluate.
type Need string

// The shapes panels and alert rules need.
const (
	// NeedTimeSeries: frames with a time field and a numeric field, with rows.
	NeedTimeSeries Need = "time series"
	// NeedCountryMap: a string field of ISO country codes beside a numeric field (Geomap's
	// "lookup by country" layer).
	NeedCountryMap Need = "country map"
	// NeedTable: fields with rows.
	NeedTable Need = "table"
	// NeedNumber: a numeric field with rows (stat panels).
	NeedNumber Need = "number"
	// NeedAlertSeries: what server-side expressions reduce to one number per series: each
	// frame either a time series (time + numeric fields) or a numeric table (exactly one
	// numeric field, strings become labels), and no two series with the same labels.
	NeedAlertSeries Need = "alert series"
)

// NeedOfPanel is the shape a panel type draws from.
func NeedOfPanel(panelType string) (Need, error) {
	switch panelType {
	case "timeseries", "barchart":
		return NeedTimeSeries, nil
	case "geomap":
		return NeedCountryMap, nil
	case "table", "bargauge":
		return NeedTable, nil
	case "stat", "gauge":
		return NeedNumber, nil
	}
	return "", fmt.Errorf("panel type %q: no known result shape", panelType)
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// Check reports how frames fall short of need; nil when they fit and hold data.
func Check(need Need, frames data.Frames) error {
	if len(frames) == 0 {
		return errors.New("no frames")
	}
	rows := 0
	for _, f := range frames {
		if n, err := f.RowLen(); err == nil {
			rows += n
		}
	}
	if rows == 0 {
		return fmt.Errorf("%d frame(s) without rows", len(frames))
	}
	switch need {
	case NeedTimeSeries:
		for _, f := range frames {
			if err := timeSeries(f); err != nil {
				return fmt.Errorf("frame %q is not a time series (%v): fields %s", f.Name, err, describe(f))
			}
		}
	case NeedCountryMap:
		for _, f := range frames {
			if ok, why := countryFrame(f); ok {
				return nil
			} else if why != "" {
				return fmt.Errorf("frame %q: %s", f.Name, why)
			}
		}
		return fmt.Errorf("no frame has a country code field beside a numeric field: %s", describeAll(frames))
	case NeedTable:
		return nil
	case NeedNumber:
		for _, f := range frames {
			if len(numeric(f)) > 0 {
				return nil
			}
		}
		return fmt.Errorf("no numeric field: %s", describeAll(frames))
	case NeedAlertSeries:
		seen := map[string]bool{}
		for _, f := range frames {
			nums := numeric(f)
			switch {
			case hasTime(f) && len(nums) > 0:
				for _, fd := range nums {
					key := fd.Labels.String()
					if seen[key] {
						return fmt.Errorf("two series with labels %s", key)
					}
					seen[key] = true
				}
			case !hasTime(f) && len(nums) == 1:
				n, _ := f.RowLen()
				keys := map[string]bool{}
				for i := range n {
					var parts []string
					for _, fd := range f.Fields {
						if fd.Type().Numeric() {
							continue
						}
						v, _ := fd.ConcreteAt(i)
						parts = append(parts, fmt.Sprintf("%s=%v", fd.Name, v))
					}
					key := strings.Join(parts, ",")
					if keys[key] {
						return fmt.Errorf("frame %q: two rows with labels %s", f.Name, key)
					}
					keys[key] = true
				}
			default:
				return fmt.Errorf("frame %q is neither a time series nor a table with one numeric field: %s", f.Name, describe(f))
			}
		}
	default:
		return fmt.Errorf("unknown need %q", need)
	}
	return nil
}

// timeSeries reports why f is not a time series: one time field without gaps in ascending
// order, numeric values, and a time-series frame type when the frame declares one.
func timeSeries(f *data.Frame) error {
	if f.Meta != nil && f.Meta.Type != "" && !slices.Contains(timeSeriesTypes, f.Meta.Type) {
		return fmt.Errorf("frame type %s", f.Meta.Type)
	}
	var times []*data.Field
	for _, fd := range f.Fields {
		if fd.Type().Time() {
			times = append(times, fd)
		}
	}
	if len(times) != 1 || len(numeric(f)) == 0 {
		return fmt.Errorf("%d time fields and %d numeric ones", len(times), len(numeric(f)))
	}
	var prev time.Time
	for i := range times[0].Len() {
		v, ok := times[0].ConcreteAt(i)
		t, _ := v.(time.Time)
		if !ok || t.Before(prev) {
			return fmt.Errorf("time field %q is not ascending without gaps at row %d", times[0].Name, i)
		}
		prev = t
	}
	return nil
}

var timeSeriesTypes = []data.FrameType{data.FrameTypeTimeSeriesMulti, data.FrameTypeTimeSeriesWide, data.FrameTypeTimeSeriesLong}

// countryFrame reports whether f is a country map; why is set when it tried to be one but a
// value is not a country code.
func countryFrame(f *data.Frame) (ok bool, why string) {
	if len(numeric(f)) == 0 {
		return false, ""
	}
	for _, fd := range f.Fields {
		if fd.Type() != data.FieldTypeString && fd.Type() != data.FieldTypeNullableString {
			continue
		}
		for i := range fd.Len() {
			v, _ := fd.ConcreteAt(i)
			if s, _ := v.(string); !countryCode.MatchString(s) {
				return false, fmt.Sprintf("field %q holds %v, not an ISO country code", fd.Name, v)
			}
		}
		return true, ""
	}
	return false, ""
}

// HasFields reports the names among want that no frame has as a field name or display name.
func HasFields(frames data.Frames, want []string) []string {
	var missing []string
	for _, w := range want {
		found := slices.ContainsFunc(frames, func(f *data.Frame) bool {
			return slices.ContainsFunc(f.Fields, func(fd *data.Field) bool {
				return fd.Name == w || (fd.Config != nil && fd.Config.DisplayNameFromDS == w)
			})
		})
		if !found {
			missing = append(missing, w)
		}
	}
	return missing
}

func hasTime(f *data.Frame) bool {
	return slices.ContainsFunc(f.Fields, func(fd *data.Field) bool { return fd.Type().Time() })
}

func numeric(f *data.Frame) []*data.Field {
	var out []*data.Field
	for _, fd := range f.Fields {
		if fd.Type().Numeric() {
			out = append(out, fd)
		}
	}
	return out
}

func describe(f *data.Frame) string {
	var parts []string
	for _, fd := range f.Fields {
		parts = append(parts, fmt.Sprintf("%s:%s", fd.Name, fd.Type()))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func describeAll(frames data.Frames) string {
	var parts []string
	for _, f := range frames {
		parts = append(parts, fmt.Sprintf("%q%s", f.Name, describe(f)))
	}
	return strings.Join(parts, ", ")
}
