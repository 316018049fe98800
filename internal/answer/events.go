package answer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sview-project/sview/internal/activity"
	"github.com/sview-project/sview/internal/geo"
	"github.com/sview-project/sview/internal/greylist"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/rollupstate"
)

// annotation is one row of an annotations frame, in the fields Grafana maps to an annotation
// by name: time, timeEnd (a region when set), title, text and tags (split on commas).
type annotation struct {
	time, timeEnd time.Time
	title, text   string
	tags          []string
}

func annotationFrame(name string, rows []annotation) *data.Frame {
	n := len(rows)
	times, ends := make([]time.Time, n), make([]*time.Time, n)
	titles, texts, tags := make([]string, n), make([]string, n), make([]string, n)
	for i, a := range rows {
		times[i], titles[i], texts[i], tags[i] = a.time, a.title, a.text, strings.Join(a.tags, ",")
		if !a.timeEnd.IsZero() {
			ends[i] = &rows[i].timeEnd
		}
	}
	f := data.NewFrame(name, data.NewField("time", nil, times), data.NewField("timeEnd", nil, ends),
		data.NewField("title", nil, titles), data.NewField("text", nil, texts), data.NewField("tags", nil, tags))
	f.Meta = &data.FrameMeta{Type: data.FrameTypeTable}
	return f
}

// annotationFrames answers an annotations query over the dashboard range.
func (s *Service) annotationFrames(ctx context.Context, q query.Query, r period.Range) (data.Frames, error) {
	var rows []annotation
	switch q.Annotation {
	case query.AnnotationGreylist:
		changes, err := greylist.Changes(ctx, s.DB, greylistFilter(q), r.From, r.To)
		if err != nil {
			return nil, err
		}
		asns := make([]int64, len(changes))
		for i, c := range changes {
			asns[i] = c.ASN
		}
		names, err := geo.ASNames(ctx, s.DB, slices.Compact(slices.Sorted(slices.Values(asns))))
		if err != nil {
			return nil, err
		}
		for _, c := range changes {
			a := annotation{time: c.Day, tags: append([]string{"greylist", "entry"}, c.Tags...)}
			a.title = c.IP + " entered the greylist"
			if !c.Entered {
				a.title, a.tags[1] = c.IP+" left the greylist", "exit"
			}
			as := strings.TrimSpace(fmt.Sprintf("AS%d %s", c.ASN, names[c.ASN])) // the name as other frames' asn_name, when known
			a.text = fmt.Sprintf("score %g, %s, tags %s", c.Score, as, strings.Join(c.Tags, ", "))
			rows = append(rows, a)
		}
	case query.AnnotationAggregation:
		events, err := rollupstate.Events(ctx, s.DB, r.From, r.To, q.Limit)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			rows = append(rows, aggregationAnnotation(e))
		}
	case query.AnnotationSilence:
		silences, err := activity.Silences(ctx, s.DB, q.Filters.Probe, r.From, r.To, query.SilenceThreshold, q.Limit)
		if err != nil {
			return nil, err
		}
		for _, sl := range silences {
			a := annotation{time: sl.From, timeEnd: sl.To, title: "probe " + sl.Serial + " silent", tags: []string{"silence", sl.Serial}}
			a.text = fmt.Sprintf("no report for %s", sl.To.Sub(sl.From).Round(time.Hour))
			switch {
			case sl.SinceBefore && sl.Ongoing:
				a.text = fmt.Sprintf("no report since before %s", sl.From.Format(time.RFC3339))
			case sl.SinceBefore:
				a.text += fmt.Sprintf(" (silent since before %s)", sl.From.Format(time.RFC3339))
			case sl.Ongoing:
				a.text += " so far"
			}
			rows = append(rows, a)
		}
	}
	return data.Frames{annotationFrame(q.Annotation, rows)}, nil
}

func aggregationAnnotation(e rollupstate.Event) annotation {
	took := e.FinishedAt.Sub(e.StartedAt).Round(time.Second)
	if e.Kind == rollupstate.EventBackfill {
		return annotation{time: e.From, timeEnd: e.To, title: "backfill", tags: []string{"aggregation", "backfill"},
			text: fmt.Sprintf("every rollup rebuilt from %d raw rows, finished %s after %s", e.Rows, e.FinishedAt.Format(time.RFC3339), took)}
	}
	return annotation{time: e.From, timeEnd: e.To, title: fmt.Sprintf("%s %s rollups closed late", e.Table, e.Precision),
		tags: []string{"aggregation", "gap", string(e.Table), string(e.Precision)},
		text: fmt.Sprintf("these windows were missing from %s graphs until %s (the aggregator was stopped or behind)", e.Precision, e.FinishedAt.Format(time.RFC3339))}
}

// probesFrames lists the probes with their last report and how long they have been silent.
// A probe with no retained report has no last_seen and no silent_seconds, and counts as
// silent. Alert rules get a numeric frame of the probes that did report, one row (one alert
// instance) each, with the silence in seconds: "Probe silent" fires above
// query.SilenceThreshold. A probe that never reported is no silence that began.
func (s *Service) probesFrames(ctx context.Context, q query.Query, alert bool, now time.Time) (data.Frames, error) {
	probes, err := activity.LastSeen(ctx, s.DB, q.Filters.Probe)
	if err != nil {
		return nil, err
	}
	n := len(probes)
	serials, ids, last := make([]string, 0, n), make([]int64, 0, n), make([]*time.Time, 0, n)
	silent, silentFlag := make([]*float64, 0, n), make([]bool, 0, n)
	for i, p := range probes {
		var since *float64
		if !p.LastSeen.IsZero() {
			v := max(0, now.Sub(p.LastSeen).Seconds())
			since = &v
		} else if alert {
			continue
		}
		serials, ids = append(serials, p.Serial), append(ids, p.ID)
		last = append(last, timePtr(probes[i].LastSeen))
		silent = append(silent, since)
		silentFlag = append(silentFlag, since == nil || *since >= query.SilenceThreshold.Seconds())
	}
	f := data.NewFrame("probes", named("probe", serials))
	if alert {
		f.Fields = append(f.Fields, seconds("silent_seconds", silent))
		f.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}}
		return data.Frames{f}, nil
	}
	f.Fields = append(f.Fields, named("probe_id", ids), named("last_seen", last), seconds("silent_seconds", silent), named("silent", silentFlag))
	f.Meta = &data.FrameMeta{Type: data.FrameTypeTable, PreferredVisualization: data.VisTypeTable}
	return data.Frames{f}, nil
}
