package plugin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sview-project/sview/internal/live"
	"github.com/sview-project/sview/internal/query"
)

var _ backend.StreamHandler = (*Datasource)(nil)

// A live channel's path (docs/live.md) is <kind>/u<login>/<rate>/<query>: incidents (the
// events) or counts (incidents per second), the login of the subscriber and the live query, both
// base64url without padding, and the events per second. Grafana runs one RunStream per channel
// for every subscriber to it, with the first one's identity, so a channel belongs to one user:
// SubscribeStream admits only the user it names.
const (
	liveEvents = "incidents"
	liveCounts = "counts"
)

// ErrLivePath: a channel path that is not a live stream's.
var ErrLivePath = errors.New("invalid live channel path")

// liveStream is a parsed channel path.
type liveStream struct {
	counts bool // incidents per second rather than the events
	login  string
	rate   int
	query  query.Query
}

// parseLivePath decodes and validates a channel path; the query is validated as any other
// (query.Parse), not yet narrowed to a scope.
func parseLivePath(path string) (liveStream, error) {
	parts := strings.Split(path, "/")
	if len(parts) != 4 || (parts[0] != liveEvents && parts[0] != liveCounts) || !strings.HasPrefix(parts[1], "u") {
		return liveStream{}, fmt.Errorf("%w %q: want %s|%s/u<login>/<rate>/<query> (login and query base64url)",
			ErrLivePath, path, liveEvents, liveCounts)
	}
	login, err := base64.RawURLEncoding.DecodeString(parts[1][1:])
	if err != nil {
		return liveStream{}, fmt.Errorf("%w: login: %v", ErrLivePath, err)
	}
	rate, err := strconv.Atoi(parts[2])
	if err != nil || rate < 1 || rate > live.MaxRate {
		return liveStream{}, fmt.Errorf("%w: rate %q: want events per second from 1 to %d", ErrLivePath, parts[2], live.MaxRate)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil {
		return liveStream{}, fmt.Errorf("%w: query: %v", ErrLivePath, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return liveStream{}, fmt.Errorf("%w: query: want a JSON object", ErrLivePath)
	}
	fields["queryType"] = json.RawMessage(`"` + query.TypeLive + `"`)
	b, err := json.Marshal(fields)
	if err != nil {
		return liveStream{}, fmt.Errorf("%w: query: %v", ErrLivePath, err)
	}
	q, err := query.Parse(b)
	if err != nil {
		return liveStream{}, err
	}
	return liveStream{counts: parts[0] == liveCounts, login: string(login), rate: rate, query: q}, nil
}

// openStream is the stream of path for the user of pc: its filter narrowed to the user's scope.
func (d *Datasource) openStream(ctx context.Context, pc backend.PluginContext, path string) (liveStream, live.Filter, backend.SubscribeStreamStatus, error) {
	s, err := parseLivePath(path)
	if err != nil {
		return s, live.Filter{}, backend.SubscribeStreamStatusNotFound, err
	}
	login := ""
	if pc.User != nil {
		login = pc.User.Login
	}
	if s.login != login {
		return s, live.Filter{}, backend.SubscribeStreamStatusPermissionDenied,
			fmt.Errorf("%w: the channel is %q's, you are %q", query.ErrForbidden, s.login, login)
	}
	c, err := d.caller(ctx, pc.User, false)
	if err != nil {
		return s, live.Filter{}, backend.SubscribeStreamStatusPermissionDenied, err
	}
	if s.query, err = c.Scope.Apply(s.query); err != nil {
		return s, live.Filter{}, backend.SubscribeStreamStatusPermissionDenied, err
	}
	return s, live.NewFilter(s.query, c.Scope), backend.SubscribeStreamStatusOK, nil
}

// SubscribeStream admits a subscriber to a valid live channel of its own within its scope.
// Grafana's answer has no room for a reason, so it is logged.
func (d *Datasource) SubscribeStream(ctx context.Context, req *backend.SubscribeStreamRequest) (*backend.SubscribeStreamResponse, error) {
	_, _, status, err := d.openStream(ctx, req.PluginContext, req.Path)
	if err != nil {
		d.logger.Info("live subscription refused", "path", req.Path, "err", err)
	}
	return &backend.SubscribeStreamResponse{Status: status}, nil
}

// PublishStream refuses: a live stream is read-only.
func (d *Datasource) PublishStream(context.Context, *backend.PublishStreamRequest) (*backend.PublishStreamResponse, error) {
	return &backend.PublishStreamResponse{Status: backend.PublishStreamStatusPermissionDenied}, nil
}

// RunStream sends the new incidents that pass the channel's filters and scope as frames, at
// most the channel's rate; each frame carries the running count of what the rate (or a
// subscriber that fell behind) dropped.
func (d *Datasource) RunStream(ctx context.Context, req *backend.RunStreamRequest, sender *backend.StreamSender) error {
	s, filter, _, err := d.openStream(ctx, req.PluginContext, req.Path)
	if err != nil {
		return err
	}
	sub := d.live.Subscribe()
	defer sub.Close()
	if s.counts {
		return countStream(ctx, sub, filter, sender)
	}
	limiter := live.NewLimiter(s.rate)
	var lost int64
	for {
		var batch []live.Event
		select {
		case <-ctx.Done():
			return nil
		case batch = <-sub.Events():
		}
		if n := sub.Lost(); n > lost {
			limiter.Drop(n - lost)
			lost = n
		}
		shown := make([]live.Event, 0, len(batch))
		for _, e := range batch {
			if filter.Match(e) {
				shown = append(shown, filter.Shown(e))
			}
		}
		if shown = limiter.Take(time.Now(), shown); len(shown) == 0 {
			continue
		}
		if err := sender.SendFrame(liveFrame(shown, limiter.Dropped()), data.IncludeAll); err != nil {
			return err
		}
	}
}

// countStream sends, every second, the incidents of that second that pass the filter (the sum
// of their counts, whatever the rate), and the events a subscriber that fell behind lost.
func countStream(ctx context.Context, sub *live.Subscription, filter live.Filter, sender *backend.StreamSender) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var n int64
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch := <-sub.Events():
			for _, e := range batch {
				if filter.Match(e) {
					n += e.Count
				}
			}
		case now := <-tick.C:
			f := data.NewFrame("counts", data.NewField("time", nil, []time.Time{now.Truncate(time.Second)}),
				data.NewField("incidents", nil, []int64{n}), data.NewField("lost", nil, []int64{sub.Lost()}))
			if err := sender.SendFrame(f, data.IncludeAll); err != nil {
				return err
			}
			n = 0
		}
	}
}

// liveFrame is a batch of events as a wide frame; dropped is the stream's running total, on
// every row (for a stat panel) and in the frame's meta.
func liveFrame(events []live.Event, dropped int64) *data.Frame {
	n := len(events)
	var (
		times   = make([]time.Time, n)
		ips     = make([]string, n)
		country = make([]string, n)
		asns    = make([]*int64, n)
		asNames = make([]string, n)
		probes  = make([]string, n)
		traps   = make([]string, n)
		actions = make([]string, n)
		counts  = make([]int64, n)
		drops   = make([]int64, n)
	)
	for i, e := range events {
		times[i], ips[i], country[i], probes[i] = e.Time, e.IP.String(), e.Country, e.Serial
		traps[i], actions[i], counts[i], drops[i], asNames[i] = e.Trap, e.Action, e.Count, dropped, e.ASName
		if e.ASN != 0 {
			asns[i] = &events[i].ASN
		}
	}
	f := data.NewFrame("live",
		data.NewField("time", nil, times), data.NewField("ip", nil, ips), data.NewField("country", nil, country),
		data.NewField("asn", nil, asns), data.NewField("asn_name", nil, asNames), data.NewField("probe", nil, probes), data.NewField("trap", nil, traps),
		data.NewField("action", nil, actions), data.NewField("incidents", nil, counts), data.NewField("dropped", nil, drops))
	f.Meta = &data.FrameMeta{Custom: map[string]int64{"dropped": dropped}}
	return f
}
