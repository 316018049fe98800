package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Formats are the formats `sview ingest` reads: the probes' messages, an auth.log, and the
// ecosystem's IDEA and IntelMQ events and HaaS sessions.
var Formats = []string{"minipot", "fwlogs", "faillogs", "sshd", "idea", "intelmq", "haas"}

// lineError marks a bad line; its text is the reason shown to the operator.
type lineError struct{ reason string }

func (e *lineError) Error() string { return e.reason }

func bad(format string, args ...any) error { return &lineError{fmt.Sprintf(format, args...)} }

// errSkip marks a line that is fine but carries nothing to store (a blank line, an sshd line
// about a successful login, another program's line in an auth.log).
var errSkip = errors.New("nothing to store")

// lineParser turns lines of one format into rows.
type lineParser interface {
	// parse reads one line (without its newline) and appends its rows to b. It returns a
	// *lineError for a bad line, errSkip for a line without data, and any other error only when
	// the ingest cannot go on (the database is gone).
	parse(ctx context.Context, line []byte, b *Batch) error
	// flush moves rows held back across lines (open port-scan windows) into b: those complete
	// at the watermark, or all of them when final.
	flush(b *Batch, watermark time.Time, final bool)
	// watermark is the latest event time seen.
	watermark() time.Time
	// state and restore carry the held-back rows across a checkpoint, saved with the offset.
	state() ([]byte, error)
	restore(data []byte) error
}

// stateless is embedded by parsers that hold nothing back between lines.
type stateless struct{ maxTS time.Time }

func (s *stateless) flush(*Batch, time.Time, bool) {}
func (s *stateless) watermark() time.Time          { return s.maxTS }
func (s *stateless) state() ([]byte, error)        { return nil, nil }
func (s *stateless) restore([]byte) error          { return nil }
func (s *stateless) seen(t time.Time) {
	if t.After(s.maxTS) {
		s.maxTS = t
	}
}

// unixTime accepts what probes put in ts: Unix seconds as an integer or a fraction, or an
// RFC 3339 string.
type unixTime struct {
	t   time.Time
	set bool
}

var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (u *unixTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var t time.Time
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		p, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil {
				return fmt.Errorf("ts %q is neither Unix seconds nor RFC 3339", s)
			}
			return u.fromSeconds(f)
		}
		t = p
	} else {
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("ts %s is not a number", b)
		}
		return u.fromSeconds(f)
	}
	u.t, u.set = t.UTC(), true
	return nil
}

func (u *unixTime) fromSeconds(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return fmt.Errorf("ts %v is out of range", f)
	}
	sec, frac := math.Modf(f)
	u.t = time.Unix(int64(sec), int64(math.Round(frac*1e6))*1000).UTC()
	u.set = true
	return nil
}

func (u unixTime) check() (time.Time, error) {
	if !u.set {
		return time.Time{}, bad("ts is missing")
	}
	if u.t.Before(minTime) || !u.t.Before(maxTime) {
		return time.Time{}, bad("ts %s is outside 2000–2099", u.t.Format(time.RFC3339))
	}
	return u.t, nil
}

// parseIP reads an attacker address; IPv4-mapped IPv6 becomes IPv4.
func parseIP(field, s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, bad("%s is missing", field)
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, bad("%s %q is not an IP address", field, truncate(s, 80))
	}
	return a.Unmap(), nil
}

// envelope is what every JSON probe message carries besides its own fields.
type envelope struct {
	SN          string `json:"sn"`
	DeviceToken string `json:"device_token"`
}

// probeID validates the envelope and resolves the probe's identity.
func probeID(ctx context.Context, ids *Identities, e envelope) (int64, error) {
	p := Probe{SN: e.SN, Token: e.DeviceToken}
	if err := ValidateProbe(p); err != nil {
		return 0, &lineError{err.Error()}
	}
	return ids.ID(ctx, p)
}

func decodeJSON(line []byte, v any) error {
	if len(line) == 0 || line[0] != '{' {
		return bad("not a JSON object")
	}
	if err := json.Unmarshal(line, v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return bad("invalid JSON at byte %d: %v", se.Offset, err)
		}
		return bad("%v", err)
	}
	return nil
}

// ---- minipot ----

type minipotMsg struct {
	envelope
	TS     unixTime `json:"ts"`
	Type   string   `json:"type"`
	IP     string   `json:"ip"`
	Action string   `json:"action"`
	Data   *struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
	} `json:"data"`
}

type minipotParser struct {
	stateless
	ids *Identities
}

var minipotTypes = map[string]string{
	"ftp": "minipot_ftp", "http": "minipot_http", "smtp": "minipot_smtp", "telnet": "minipot_telnet",
}

var minipotActions = map[string]bool{"connect": true, "login": true, "invalid": true, "message": true}

func (p *minipotParser) parse(ctx context.Context, line []byte, b *Batch) error {
	var m minipotMsg
	if err := decodeJSON(line, &m); err != nil {
		return err
	}
	ts, err := m.TS.check()
	if err != nil {
		return err
	}
	trap, ok := minipotTypes[m.Type]
	if !ok {
		return bad("type %q: want ftp, http, smtp or telnet", truncate(m.Type, 40))
	}
	if !minipotActions[m.Action] {
		return bad("action %q: want connect, login, invalid or message", truncate(m.Action, 40))
	}
	ip, err := parseIP("ip", m.IP)
	if err != nil {
		return err
	}
	id, err := probeID(ctx, p.ids, m.envelope)
	if err != nil {
		return err
	}
	p.seen(ts)
	b.Incidents = append(b.Incidents, Incident{Time: ts, Count: 1, Identity: id, Trap: trap, Action: m.Action, IP: ip})
	if m.Action == "login" && m.Data != nil && m.Data.Password != nil {
		user := ""
		if m.Data.Username != nil {
			user = *m.Data.Username
		}
		b.Passwords = append(b.Passwords, Password{Time: ts, Count: 1, Username: CleanText(user),
			Password: CleanText(*m.Data.Password), Identity: id, Trap: trap, IP: ip})
	}
	return nil
}

// ---- faillogs ----

type faillogsMsg struct {
	envelope
	TS      unixTime `json:"ts"`
	Service string   `json:"service"`
	User    string   `json:"user"`
	IP      string   `json:"ip"`
	Port    *int64   `json:"port"`
}

type faillogsParser struct {
	stateless
	ids *Identities
}

func (p *faillogsParser) parse(ctx context.Context, line []byte, b *Batch) error {
	var m faillogsMsg
	if err := decodeJSON(line, &m); err != nil {
		return err
	}
	ts, err := m.TS.check()
	if err != nil {
		return err
	}
	ip, err := parseIP("ip", m.IP)
	if err != nil {
		return err
	}
	if m.Port != nil && (*m.Port < 0 || *m.Port > 65535) {
		return bad("port %d is out of range", *m.Port)
	}
	id, err := probeID(ctx, p.ids, m.envelope)
	if err != nil {
		return err
	}
	p.seen(ts)
	// A failed login on the probe's own SSH server: no password is reported, so no passwords row.
	b.Incidents = append(b.Incidents, Incident{Time: ts, Count: 1, Identity: id, Trap: "faillogs", Action: "login", IP: ip})
	return nil
}

// ---- fwlogs ----

type fwlogsMsg struct {
	envelope
	TS        unixTime `json:"ts"`
	Protocol  string   `json:"protocol"`
	IP        string   `json:"ip"`
	Port      *int64   `json:"port"`
	LocalIP   string   `json:"local_ip"`
	LocalPort *int64   `json:"local_port"`
}

type fwlogsParser struct {
	ids   *Identities
	scans *scanTracker
}

func protocolOf(s string) (string, error) {
	switch strings.ToUpper(s) {
	case "TCP":
		return "TCP", nil
	case "UDP":
		return "UDP", nil
	case "":
		return "", bad("protocol is missing")
	}
	return "other", nil
}

func (p *fwlogsParser) parse(ctx context.Context, line []byte, b *Batch) error {
	var m fwlogsMsg
	if err := decodeJSON(line, &m); err != nil {
		return err
	}
	ts, err := m.TS.check()
	if err != nil {
		return err
	}
	proto, err := protocolOf(m.Protocol)
	if err != nil {
		return err
	}
	ip, err := parseIP("ip", m.IP)
	if err != nil {
		return err
	}
	if m.LocalPort == nil {
		return bad("local_port is missing")
	}
	if *m.LocalPort < 0 || *m.LocalPort > 65535 {
		return bad("local_port %d is out of range", *m.LocalPort)
	}
	if m.Port != nil && (*m.Port < 0 || *m.Port > 65535) {
		return bad("port %d is out of range", *m.Port)
	}
	if m.LocalIP != "" {
		if _, err := parseIP("local_ip", m.LocalIP); err != nil {
			return err
		}
	}
	id, err := probeID(ctx, p.ids, m.envelope)
	if err != nil {
		return err
	}
	port := int32(*m.LocalPort)
	b.Ports = append(b.Ports, Port{Time: ts, Count: 1, Port: port, Protocol: proto, Identity: id, IP: ip})
	p.scans.add(id, ip, ts, port)
	return nil
}

func (p *fwlogsParser) flush(b *Batch, watermark time.Time, final bool) {
	p.scans.flush(b, watermark, final)
}
func (p *fwlogsParser) watermark() time.Time      { return p.scans.maxTS }
func (p *fwlogsParser) state() ([]byte, error)    { return p.scans.marshal() }
func (p *fwlogsParser) restore(data []byte) error { return p.scans.unmarshal(data) }

// trimLine drops a trailing carriage return and surrounding blanks.
func trimLine(line []byte) []byte { return bytes.TrimSpace(line) }
