package ingest

import (
	"context"
	"strings"
)

// haasMsg is one HaaS session as JSON lines (docs/ingest.md: CZ.NIC publishes no line format
// of its own, so this one is ours, close to what the HaaS server records per session).
type haasMsg struct {
	envelope
	TS     unixTime `json:"ts"`
	IP     string   `json:"ip"`
	Logins []struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
	} `json:"logins"`
	Commands []string `json:"commands"`
}

// haasParser reads HaaS sessions. A session names its probe with sn and device_token like the
// probes' messages; without them it belongs to the fixed probe (--sn/--token), else to the
// probe derived from the host name given with --probe (HostProbe, "haas" by default).
type haasParser struct {
	stateless
	ids   *Identities
	probe Probe
}

func (p *haasParser) parse(ctx context.Context, line []byte, b *Batch) error {
	var m haasMsg
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
	for i, l := range m.Logins {
		if l.Password == nil {
			return bad("logins[%d]: password is missing", i)
		}
	}
	var id int64
	if m.SN != "" || m.DeviceToken != "" {
		id, err = probeID(ctx, p.ids, m.envelope)
	} else {
		id, err = p.ids.ID(ctx, p.probe)
	}
	if err != nil {
		return err
	}
	p.seen(ts)
	action := "connect"
	if len(m.Logins) > 0 {
		action = "login"
	}
	b.Incidents = append(b.Incidents, Incident{Time: ts, Count: 1, Identity: id, Trap: "haas", Action: action, IP: ip})
	for _, l := range m.Logins {
		user := ""
		if l.Username != nil {
			user = *l.Username
		}
		b.Passwords = append(b.Passwords, Password{Time: ts, Count: 1, Username: CleanText(user),
			Password: CleanText(*l.Password), Identity: id, Trap: "haas", IP: ip})
	}
	for _, c := range m.Commands {
		// A bare Enter is no command.
		if c = strings.TrimSpace(c); c != "" {
			b.Commands = append(b.Commands, Command{Time: ts, Count: 1, Command: CleanText(c), Identity: id, IP: ip})
		}
	}
	return nil
}
