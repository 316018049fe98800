package ingest

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// sshdParser reads an auth.log (or `journalctl -o short|short-iso|short-precise` output). One
// host is one probe: the identity comes from --sn/--token, or else from the host name on each
// line (HostProbe). Failed authentications become faillogs/login incidents, protocol garbage
// becomes faillogs/invalid; every other line is skipped. See docs/ingest.md.
type sshdParser struct {
	stateless
	ids   *Identities
	probe *Probe    // fixed identity from flags, or nil
	now   time.Time // reference for the year of classic syslog stamps
	year  int       // forced year, or 0
}

var (
	sshdRepeated = regexp.MustCompile(`^message repeated (\d+) times: \[ ?(.*?) ?\]$`)
	sshdFailed   = regexp.MustCompile(`^Failed (\S+) for (?:invalid user )?(.*) from (\S+)(?: port \d+)?(?: ssh2)?(?::.*)?$`)
	sshdInvalid  = []*regexp.Regexp{
		regexp.MustCompile(`^Did not receive identification string from (\S+)`),
		regexp.MustCompile(`^Bad protocol version identification .* from (\S+)`),
		regexp.MustCompile(`^banner exchange: Connection from (\S+) port \d+: invalid format`),
		regexp.MustCompile(`^Unable to negotiate with (\S+) port \d+:`),
		regexp.MustCompile(`^ssh_dispatch_run_fatal: Connection from (?:.* )?(\S+) port \d+:`),
	}
)

// syslogHeader splits "STAMP HOST PROGRAM[PID]: MESSAGE".
func (p *sshdParser) header(line string) (ts time.Time, host, prog, msg string, err error) {
	rest := line
	if len(line) >= 15 && isMonth(line[:3]) {
		// Classic BSD stamp without a year: "Jan _2 15:04:05", optionally with µs.
		stamp := line[:15]
		rest = line[15:]
		if len(rest) > 0 && rest[0] == '.' {
			i := 1
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			stamp += rest[:i]
			rest = rest[i:]
		}
		t, perr := time.Parse("Jan _2 15:04:05.999999999", stamp)
		if perr != nil {
			if t, perr = time.Parse("Jan _2 15:04:05", stamp); perr != nil {
				return ts, "", "", "", bad("timestamp %q is not a syslog time", stamp)
			}
		}
		ts = p.withYear(t)
	} else {
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			return ts, "", "", "", bad("not a syslog line")
		}
		var perr error
		ts, perr = parseISO(line[:sp])
		if perr != nil {
			return ts, "", "", "", bad("not a syslog line: timestamp %q", truncate(line[:sp], 40))
		}
		rest = line[sp:]
	}
	rest = strings.TrimLeft(rest, " ")
	sp := strings.IndexByte(rest, ' ')
	if sp <= 0 {
		return ts, "", "", "", bad("not a syslog line: no host")
	}
	host, rest = rest[:sp], strings.TrimLeft(rest[sp:], " ")
	colon := strings.Index(rest, ": ")
	if colon <= 0 {
		if strings.HasSuffix(rest, ":") {
			colon = len(rest) - 1
		} else {
			return ts, "", "", "", bad("not a syslog line: no program tag")
		}
	}
	prog = rest[:colon]
	if i := strings.IndexByte(prog, '['); i >= 0 {
		prog = prog[:i]
	}
	msg = strings.TrimSpace(rest[min(colon+2, len(rest)):])
	return ts.UTC(), host, prog, msg, nil
}

func isMonth(s string) bool {
	switch s {
	case "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec":
		return true
	}
	return false
}

var isoLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700", "2006-01-02T15:04:05-0700"}

func parseISO(s string) (time.Time, error) {
	var err error
	for _, l := range isoLayouts {
		var t time.Time
		if t, err = time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// withYear places a year-less stamp (read as UTC, as syslog on servers usually is) in the
// forced year, or in the reference year unless that puts it more than a day ahead of the
// reference time, in which case it belongs to the year before.
func (p *sshdParser) withYear(t time.Time) time.Time {
	if p.year != 0 {
		return t.AddDate(p.year, 0, 0)
	}
	y := t.AddDate(p.now.Year(), 0, 0)
	if y.After(p.now.Add(24 * time.Hour)) {
		y = t.AddDate(p.now.Year()-1, 0, 0)
	}
	return y
}

func (p *sshdParser) parse(ctx context.Context, raw []byte, b *Batch) error {
	line := string(bytes.TrimRight(raw, "\r\n"))
	ts, host, prog, msg, err := p.header(line)
	if err != nil {
		return err
	}
	if prog != "sshd" && !strings.HasPrefix(prog, "sshd-") {
		return errSkip
	}
	count := int64(1)
	if m := sshdRepeated.FindStringSubmatch(msg); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n < 1 {
			return bad("repeat count %q", m[1])
		}
		count, msg = n, m[2]
	}
	action, ipText := "", ""
	if m := sshdFailed.FindStringSubmatch(msg); m != nil {
		action, ipText = "login", m[3]
	} else {
		for _, re := range sshdInvalid {
			if m := re.FindStringSubmatch(msg); m != nil {
				action, ipText = "invalid", m[1]
				break
			}
		}
	}
	if action == "" {
		return errSkip
	}
	ip, err := parseIP("source address", ipText)
	if err != nil {
		return err
	}
	probe := HostProbe(host)
	if p.probe != nil {
		probe = *p.probe
	} else if err := ValidateProbe(probe); err != nil {
		return bad("host %q: %v", truncate(host, 40), err)
	}
	id, err := p.ids.ID(ctx, probe)
	if err != nil {
		return err
	}
	p.seen(ts)
	b.Incidents = append(b.Incidents, Incident{Time: ts, Count: count, Identity: id, Trap: "faillogs", Action: action, IP: ip})
	return nil
}
