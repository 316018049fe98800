// Package answer turns a parsed, scoped query into data frames. It is the one place that
// knows what each query type returns, so the Grafana plugin and `sview serve`'s POST
// /api/query answer alike; parsing, scope and transport stay with them.
package answer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/geo"
	"github.com/sview-project/sview/internal/greylist"
	"github.com/sview-project/sview/internal/leak"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/stats"
	"github.com/sview-project/sview/internal/store"
)

// DB is what the answers read: a *pgxpool.Pool (the read replica when there is one).
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Service answers queries from the stats service and the database.
type Service struct {
	Stats *stats.Service
	DB    DB
	// Replica, when set, says how the read replica behind DB is doing: a lagging one is named
	// on the answers and in the status frames.
	Replica Replica
}

// Replica is the state of the read replica: *store.Reads.
type Replica interface {
	Status(ctx context.Context) store.ReplicaStatus
}

// Request is one query to answer. Range is the dashboard's time range and interval; Alert
// marks an alert rule's evaluation, which gets numbers only; SkipCache recomputes.
type Request struct {
	Query     query.Query
	Range     period.Range
	Alert     bool
	SkipCache bool
}

// Frames answers r; r.Query must be parsed and scoped (query.Parse, Scope.Apply). The ad-hoc
// filters the query could not apply are named in notices on the first frame.
func (s *Service) Frames(ctx context.Context, r Request) (data.Frames, error) {
	frames, err := s.frames(ctx, r)
	if err != nil {
		return nil, err
	}
	noteIgnoredAdhoc(frames, r.Query.AdhocIgnored)
	return frames, nil
}

func (s *Service) frames(ctx context.Context, r Request) (data.Frames, error) {
	q := r.Query
	switch q.QueryType {
	case query.TypeStats:
		return s.statsFrames(ctx, q, r.Range, r.SkipCache)
	case query.TypeGreylist:
		if q.Format == query.FormatTimeSeries {
			return s.greylistSizeFrames(ctx, q, r.Range)
		}
		return s.greylistFrames(ctx, q)
	case query.TypeLeak:
		return s.leakFrames(ctx, q)
	case query.TypeStatus:
		return s.statusFrames(ctx, r.Alert)
	case query.TypeTrend:
		res, err := s.Stats.Trend(ctx, q, r.Range, r.SkipCache)
		return res.Frames, err
	case query.TypeAnnotations:
		return s.annotationFrames(ctx, q, r.Range)
	case query.TypeProbes:
		return s.probesFrames(ctx, q, r.Alert, time.Now())
	case query.TypeEvents:
		return s.logsFrames(ctx, q, r.Range)
	case query.TypeLive:
		return nil, fmt.Errorf("%w: queryType live is a stream, served through Grafana Live (docs/live.md), not a query", query.ErrUnsupported)
	}
	return nil, fmt.Errorf("%w: queryType %q: want one of %s", query.ErrInvalidField, q.QueryType, strings.Join(query.QueryTypes, ", "))
}

func (s *Service) statsFrames(ctx context.Context, q query.Query, r period.Range, skipCache bool) (data.Frames, error) {
	res, err := s.Stats.Query(ctx, q, r, skipCache)
	if err != nil {
		return nil, err
	}
	frames := res.Frames
	if len(frames) > 0 {
		if frames[0].Meta == nil {
			frames[0].Meta = &data.FrameMeta{}
		}
		if m, ok := frames[0].Meta.Custom.(map[string]any); ok {
			m["cache"] = string(res.State)
			m["computedAt"] = res.ComputedAt
		}
		if res.State == cache.StateDegraded {
			frames[0].Meta.Notices = append(frames[0].Meta.Notices, data.Notice{Severity: data.NoticeSeverityWarning,
				Text: "The shared cache is unreachable; this answer comes from this instance's own copy or from PostgreSQL. See the datasource's health check."})
		}
		if s.Replica != nil {
			if rs := s.Replica.Status(ctx); rs.Lagging() {
				frames[0].Meta.Notices = append(frames[0].Meta.Notices, data.Notice{Severity: data.NoticeSeverityWarning,
					Text: fmt.Sprintf("Read from a replica %s behind the primary: rows written since are not in this answer yet.",
						time.Duration(rs.LagSeconds*float64(time.Second)).Round(time.Second))})
			}
		}
	}
	return frames, nil
}

// noteIgnoredAdhoc tells the panel which ad-hoc filters of its dashboard did not apply to it
// (a key its table lacks, docs/query-model.md): its answer is the same without them.
func noteIgnoredAdhoc(frames data.Frames, ignored []string) {
	if len(frames) == 0 || len(ignored) == 0 {
		return
	}
	if frames[0].Meta == nil {
		frames[0].Meta = &data.FrameMeta{}
	}
	for _, s := range ignored {
		frames[0].Meta.Notices = append(frames[0].Meta.Notices, data.Notice{Severity: data.NoticeSeverityInfo,
			Text: "Ad-hoc filter not applied to this panel: " + s})
	}
}

// greylistFilter is the greylist package's filter for a greylist query.
func greylistFilter(q query.Query) greylist.Filter {
	asns := make([]int, len(q.Filters.ASN))
	for i, a := range q.Filters.ASN {
		asns[i] = int(a)
	}
	f := greylist.Filter{Tags: q.Filters.Tag, Countries: q.Filters.Country, ASNs: asns, Prefixes: q.Filters.IPPrefixes(),
		MinScore: q.MinScore, Limit: q.Limit, Order: greylist.OrderScore}
	if r := q.Restrict; r != nil {
		f.Within = &greylist.Within{ASNs: r.ASNs, Prefixes: r.Prefixes}
	}
	return f
}

// greylistSizeFrames answers the greylist's size per day (its daily snapshots) over the
// query's period, or over the dashboard range when the period is empty.
func (s *Service) greylistSizeFrames(ctx context.Context, q query.Query, r period.Range) (data.Frames, error) {
	from, to := r.From, r.To
	if p, ok := period.Lookup(q.Period); ok {
		w := p.Window(time.Now(), false)
		from, to = w.From, w.To
	}
	sizes, err := greylist.Sizes(ctx, s.DB, greylistFilter(q), from, to)
	if err != nil {
		return nil, err
	}
	days, counts := make([]time.Time, len(sizes)), make([]int64, len(sizes))
	for i, sz := range sizes {
		days[i], counts[i] = sz.Day, int64(sz.Size)
	}
	f := data.NewFrame("greylist size", data.NewField("time", nil, days), data.NewField("size", nil, counts))
	f.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}}
	return data.Frames{f}, nil
}

func (s *Service) greylistFrames(ctx context.Context, q query.Query) (data.Frames, error) {
	entries, err := greylist.List(ctx, s.DB, greylistFilter(q))
	if err != nil {
		return nil, err
	}
	n := len(entries)
	ip, tags, country, asName := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	score := make([]float64, n)
	probes, incidents, asn := make([]int64, n), make([]int64, n), make([]int64, n)
	first, last := make([]*time.Time, n), make([]*time.Time, n)
	for i, e := range entries {
		ip[i], tags[i], country[i] = e.IP.String(), strings.Join(e.Tags, ","), e.Country
		score[i], probes[i], incidents[i], asn[i] = e.Score, int64(e.Probes), e.Incidents, int64(e.ASN)
		first[i], last[i] = timePtr(e.FirstSeen), timePtr(e.LastSeen)
	}
	names, err := geo.ASNames(ctx, s.DB, slices.Compact(slices.Sorted(slices.Values(asn))))
	if err != nil {
		return nil, err
	}
	for i, a := range asn {
		asName[i] = names[a]
	}
	f := data.NewFrame("greylist",
		data.NewField("ip", nil, ip), data.NewField("tags", nil, tags), data.NewField("score", nil, score),
		data.NewField("probes", nil, probes), data.NewField("incidents", nil, incidents),
		data.NewField("country", nil, country), data.NewField("asn", nil, asn), data.NewField("asn_name", nil, asName),
		data.NewField("first_seen", nil, first), data.NewField("last_seen", nil, last))
	f.Meta = &data.FrameMeta{Type: data.FrameTypeTable, PreferredVisualization: data.VisTypeTable}
	return data.Frames{f}, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// leakFrames looks up a full SHA-1 or a prefix; query.Parse admits no plain password here.
func (s *Service) leakFrames(ctx context.Context, q query.Query) (data.Frames, error) {
	var recs []leak.Record
	if q.Prefix != "" {
		var err error
		if recs, err = leak.ByPrefix(ctx, s.DB, q.Prefix); err != nil {
			return nil, err
		}
	} else {
		rec, found, err := leak.BySHA1(ctx, s.DB, q.SHA1)
		if err != nil {
			return nil, err
		}
		if found {
			recs = []leak.Record{rec}
		}
	}
	hash, sources := make([]string, len(recs)), make([]string, len(recs))
	count := make([]int64, len(recs))
	for i, r := range recs {
		hash[i], count[i], sources[i] = r.Hash.String(), r.Count, strings.Join(r.Sources, ",")
	}
	f := data.NewFrame("leak", data.NewField("hash", nil, hash), data.NewField("count", nil, count), data.NewField("sources", nil, sources))
	f.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}}
	return data.Frames{f}, nil
}

// statusFrames: aggregation lag per table × precision as a numeric-long frame, and the cache
// state. Alerts get the lag frame with one numeric column, overdue_seconds (the lag beyond the
// precision's bucket, grace and margin: rollupstate.Overdue), so a rule evaluates it per table
// and precision with one threshold; the cache frame is left out for them (it is no number).
// Every field carries its name as displayNameFromDS: with two frames Grafana would otherwise
// display "aggregation_lag lag_seconds" and "cache degraded", which panels' matchers miss.
func (s *Service) statusFrames(ctx context.Context, alert bool) (data.Frames, error) {
	wms, err := rollupstate.Watermarks(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	tables, precisions := make([]string, len(wms)), make([]string, len(wms))
	lag, due, overdue := make([]float64, len(wms)), make([]float64, len(wms)), make([]float64, len(wms))
	for i, w := range wms {
		tables[i], precisions[i], lag[i] = string(w.Table), string(w.Precision), w.LagSeconds
		due[i], overdue[i] = rollupstate.DueLag(w.Precision).Seconds(), w.Overdue().Seconds()
	}
	lf := data.NewFrame("aggregation_lag", named("table", tables), named("precision", precisions))
	if alert {
		lf.Fields = append(lf.Fields, seconds("overdue_seconds", overdue))
	} else {
		lf.Fields = append(lf.Fields, seconds("lag_seconds", lag), seconds("due_seconds", due), seconds("overdue_seconds", overdue))
	}
	lf.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}}
	if alert {
		return data.Frames{lf}, nil
	}
	st := s.Stats.Cache().Status()
	degraded := int64(0)
	if st.Degraded {
		degraded = 1
	}
	cf := data.NewFrame("cache", named("backend", []string{st.Backend}),
		named("last_error", []string{st.LastError}), named("degraded", []int64{degraded}))
	cf.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}}
	return data.Frames{lf, cf, s.replicaFrame(ctx)}, nil
}

// replicaFrame is the read replica's state, also without one, so System health says "not
// configured" rather than nothing: replica_state is "not configured", "up" or "down"; the lag
// is null without a replica; reading_primary is 1 when queries go to the primary (no replica,
// or a replica down with fallback primary).
func (s *Service) replicaFrame(ctx context.Context) *data.Frame {
	var rs store.ReplicaStatus
	if s.Replica != nil {
		rs = s.Replica.Status(ctx)
	}
	flag := func(b bool) []int64 {
		if b {
			return []int64{1}
		}
		return []int64{0}
	}
	state, lag := "not configured", []*float64{nil}
	if rs.Configured {
		state, lag = "down", []*float64{&rs.LagSeconds}
		if rs.Reachable {
			state = "up"
		}
	}
	f := data.NewFrame("read_replica", named("replica_state", []string{state}), seconds("replica_lag_seconds", lag),
		named("replica_up", flag(rs.Reachable)), named("reading_primary", flag(!rs.Configured || rs.ReadingPrimary)),
		named("replica_error", []string{rs.LastError}))
	f.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}}
	return f
}

// named is a field that Grafana displays by its name, however many frames come with it.
func named(name string, values any) *data.Field {
	f := data.NewField(name, nil, values)
	f.Config = &data.FieldConfig{DisplayNameFromDS: name}
	return f
}

// seconds is a named field in seconds.
func seconds(name string, values any) *data.Field {
	f := named(name, values)
	f.Config.Unit = "s"
	return f
}
