package demo

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sview-project/sview/internal/ingest"
)

// generator produces the sessions of one stretch of time into a batch.
type generator struct {
	n      *Network
	rng    *rand.Rand
	ids    []int64 // identity id of each probe
	active *alias
	idx    []int // attacker index of each alias entry
	end    time.Time
	budget int // incidents still allowed
	b      *ingest.Batch
	// extra drives HaaS commands and feed events: a stream of its own, so they leave the
	// incidents, passwords and ports of a seed as they were before they existed.
	extra *rand.Rand

	userZ, passZ, pairZ, portZ, scriptZ *rand.Zipf
}

func (n *Network) newGenerator(rng, extra *rand.Rand, ids []int64, day int64) *generator {
	g := &generator{n: n, rng: rng, extra: extra, ids: ids, b: &ingest.Batch{}}
	g.userZ = rand.NewZipf(rng, 1.3, 1, uint64(len(usernames)-1))          // #nosec G115 -- a fixed non-empty list: len-1 >= 0
	g.passZ = rand.NewZipf(rng, 1.1, 2, uint64(len(passwords)-1))          // #nosec G115 -- a fixed non-empty list: len-1 >= 0
	g.pairZ = rand.NewZipf(rng, 1.2, 1, uint64(len(telnetPairs)-1))        // #nosec G115 -- a fixed non-empty list: len-1 >= 0
	g.portZ = rand.NewZipf(rng, 1.15, 1, uint64(len(popularPorts)-1))      // #nosec G115 -- a fixed non-empty list: len-1 >= 0
	g.scriptZ = rand.NewZipf(extra, 1.3, 1, uint64(len(commandScripts)-1)) // #nosec G115 -- a fixed non-empty list: len-1 >= 0
	g.setDay(day)
	return g
}

// setDay picks the attackers active on the given day (days since the Unix epoch).
func (g *generator) setDay(day int64) {
	g.idx = g.idx[:0]
	var w []float64
	for i := range g.n.attackers {
		a := &g.n.attackers[i]
		if int((day%activityPeriod+activityPeriod-int64(a.start))%activityPeriod) < a.length {
			g.idx = append(g.idx, i)
			w = append(w, a.weight)
		}
	}
	if len(g.idx) == 0 {
		for i := range g.n.attackers {
			g.idx = append(g.idx, i)
			w = append(w, g.n.attackers[i].weight)
		}
	}
	g.active = newAlias(w)
}

// dayRNG is the random stream of one day: days are independent of each other and of how many
// there are, so a day's rows depend only on the seed, the day and the options.
func (n *Network) dayRNG(day int64, salt uint64) *rand.Rand {
	// #nosec G404 G115 -- math/rand drives the demo simulator, not secrets; the day's bits only seed it (wrapping is fine)
	return rand.New(rand.NewPCG(n.seed^0x5851f42d4c957f2d, uint64(day)*0x9e3779b97f4a7c15+salt))
}

// FeedEventsPer is how many incidents there are for each feed event the demo generates.
const FeedEventsPer = 100

// Day generates the rows of the 24 hours from start: perDay incidents (exactly), with the
// passwords, ports and commands rows their sessions bring, and perDay/FeedEventsPer feed
// events, handed to emit in batches of about batchIncidents incidents. Identity ids come from
// ids, one per probe. Sessions are generated hour by hour, so batches are roughly in time order
// (kinder to the time indexes).
func (n *Network) Day(start time.Time, perDay int, ids []int64, batchIncidents int, emit func(*ingest.Batch) error) error {
	day := start.Unix() / 86400
	salt := uint64(start.Unix() % 86400) // #nosec G115 -- only a seed salt: a pre-1970 start wraps harmlessly
	g := n.newGenerator(n.dayRNG(day, salt), n.dayRNG(day, salt^0xfeed), ids, day)
	g.end = start.Add(24 * time.Hour)
	g.b = newBatch(min(perDay, batchIncidents))
	left := perDay
	feedBudgets := hourBudgets(start, perDay/FeedEventsPer)
	for h, budget := range hourBudgets(start, perDay) {
		hour := start.Add(time.Duration(h) * time.Hour)
		for range feedBudgets[h] {
			g.feedEvent(hour.Add(time.Duration(g.extra.Int64N(int64(time.Hour)))))
		}
		g.budget = budget
		if h == 23 {
			g.budget = left // sessions cut at the end of the day leave nothing behind
		}
		for g.budget > 0 {
			before := g.budget
			g.session(hour.Add(time.Duration(g.rng.Int64N(int64(time.Hour)))))
			left -= before - g.budget
			if len(g.b.Incidents) >= batchIncidents {
				if err := emit(g.b); err != nil {
					return err
				}
				g.b = newBatch(min(max(left, 1), batchIncidents))
			}
		}
	}
	if g.b.Len() > 0 {
		return emit(g.b)
	}
	return nil
}

// hourBudgets splits perDay incidents over the 24 hours from start along the daily cycle:
// activity peaks at 14:00 UTC and is lowest at 02:00 UTC, at about half the peak.
func hourBudgets(start time.Time, perDay int) [24]int {
	var w [24]float64
	var sum float64
	for h := range w {
		mid := float64(start.Unix()%86400)/3600 + float64(h) + 0.5
		w[h] = 1 + 0.35*math.Sin(2*math.Pi*(mid-8)/24)
		sum += w[h]
	}
	var out [24]int
	given := 0
	for h := range w {
		out[h] = int(float64(perDay) * w[h] / sum)
		given += out[h]
	}
	for h := 0; given < perDay; h = (h + 1) % 24 {
		out[h]++
		given++
	}
	return out
}

// newBatch preallocates for about n incidents and the rows that come with them.
func newBatch(n int) *ingest.Batch {
	n += 1000 // the last session may overshoot
	return &ingest.Batch{
		Incidents: make([]ingest.Incident, 0, n),
		Passwords: make([]ingest.Password, 0, n*3/4),
		Ports:     make([]ingest.Port, 0, n*3/4),
	}
}

// session simulates one visit of an attacker starting at t0.
func (g *generator) session(t0 time.Time) {
	a := &g.n.attackers[g.idx[g.active.pick(g.rng)]]
	k := a.kinds[0]
	if g.rng.Float64() < 0.2 {
		k = a.kinds[1]
	}
	switch k {
	case kindTelnet:
		g.bruteforce(a, trapTelnet, t0, 25)
	case kindSSH:
		if g.rng.Float64() < 0.6 {
			g.bruteforce(a, trapHaas, t0, 20)
		} else {
			g.bruteforce(a, trapFaillogs, t0, 12)
		}
	case kindFTP:
		g.bruteforce(a, trapFTP, t0, 12)
	case kindMail:
		g.bruteforce(a, trapSMTP, t0, 8)
	case kindWeb:
		g.web(a, t0)
	default:
		g.scan(a, t0)
	}
}

// lognormal draws a count with the given median, clipped to [1, max].
func (g *generator) lognormal(median, sigma float64, max int) int {
	v := int(median * math.Exp(g.rng.NormFloat64()*sigma))
	return min(max, v+1)
}

func (g *generator) gap(mean float64) time.Duration {
	return time.Duration((0.2 + g.rng.ExpFloat64()*mean) * float64(time.Second))
}

func (g *generator) probe(t trapID) int {
	return g.n.trapProbe[t][g.n.byTrap[t].pick(g.rng)]
}

// incident appends one incident unless the budget or the time window is used up.
func (g *generator) incident(a *attacker, probe int, t trapID, action string, at time.Time) bool {
	if g.budget <= 0 || !at.Before(g.end) {
		return false
	}
	g.budget--
	g.b.Incidents = append(g.b.Incidents, ingest.Incident{Time: at, Count: 1, Identity: g.ids[probe],
		Trap: trapNames[t], Action: action, IP: a.ip, Country: a.country, ASN: a.asn})
	return true
}

func (g *generator) password(a *attacker, probe int, t trapID, at time.Time, user, pass string) {
	g.b.Passwords = append(g.b.Passwords, ingest.Password{Time: at, Count: 1, Username: user, Password: pass,
		Identity: g.ids[probe], Trap: trapNames[t], IP: a.ip, Country: a.country, ASN: a.asn})
}

// bruteforce: one IP hammering one probe with login attempts seconds apart (dozens to
// hundreds), after a connect on the minipots; an occasional malformed exchange.
func (g *generator) bruteforce(a *attacker, t trapID, t0 time.Time, median float64) {
	p := g.probe(t)
	at := t0
	if t != trapHaas && t != trapFaillogs {
		if !g.incident(a, p, t, "connect", at) {
			return
		}
	}
	n := g.lognormal(median, 1.0, 600)
	for range n {
		at = at.Add(g.gap(2.5))
		if !g.incident(a, p, t, "login", at) {
			return
		}
		if t != trapFaillogs { // the probe's own sshd reports no passwords
			user, pass := g.credentials(t)
			g.password(a, p, t, at, user, pass)
		}
		if t == trapSMTP && g.rng.Float64() < 0.05 {
			at = at.Add(g.gap(1))
			g.incident(a, p, t, "message", at)
		}
	}
	if t == trapHaas && g.extra.Float64() < 0.35 {
		g.commands(a, p, at)
	}
	if g.rng.Float64() < 0.08 {
		g.incident(a, p, t, "invalid", at.Add(g.gap(1)))
	}
}

// commands: HaaS lets a brute-forcer in, and about a third of them type a script, a command
// every few seconds.
func (g *generator) commands(a *attacker, probe int, at time.Time) {
	for _, c := range commandScripts[g.scriptZ.Uint64()] {
		at = at.Add(time.Duration((0.5 + g.extra.ExpFloat64()*3) * float64(time.Second)))
		if !at.Before(g.end) {
			return
		}
		g.b.Commands = append(g.b.Commands, ingest.Command{Time: at, Count: 1, Command: c,
			Identity: g.ids[probe], IP: a.ip, Country: a.country, ASN: a.asn})
	}
}

// feedEvent: an ecosystem feed reports one of the day's attackers (the busier, the likelier),
// by what it does; brute-force and scanner reports count several connections.
func (g *generator) feedEvent(at time.Time) {
	a := &g.n.attackers[g.idx[g.active.pick(g.extra)]]
	choices := feedsOf[a.kinds[0]]
	f := &feeds[choices[g.extra.IntN(len(choices))]]
	count := int64(1)
	if f.typ == "brute-force" || f.typ == "scanner" {
		count += int64(g.extra.ExpFloat64() * 20)
	}
	g.b.FeedEvents = append(g.b.FeedEvents, ingest.FeedEvent{Time: at, Count: count, Provider: f.provider,
		Feed: f.name, Taxonomy: f.taxonomy, Type: f.typ, Identifier: f.identifiers[g.extra.IntN(len(f.identifiers))],
		IP: a.ip, Country: a.country, ASN: a.asn})
}

// web: requests to the HTTP minipot, sometimes with basic-auth logins.
func (g *generator) web(a *attacker, t0 time.Time) {
	p := g.probe(trapHTTP)
	at := t0
	if !g.incident(a, p, trapHTTP, "connect", at) {
		return
	}
	for range g.lognormal(6, 1.0, 200) {
		at = at.Add(g.gap(1))
		if !g.incident(a, p, trapHTTP, "message", at) {
			return
		}
	}
	if g.rng.Float64() < 0.25 {
		for range g.lognormal(4, 0.8, 100) {
			at = at.Add(g.gap(1))
			if !g.incident(a, p, trapHTTP, "login", at) {
				return
			}
			user, pass := g.credentials(trapHTTP)
			g.password(a, p, trapHTTP, at, user, pass)
		}
	}
	if g.rng.Float64() < 0.05 {
		g.incident(a, p, trapHTTP, "invalid", at.Add(g.gap(1)))
	}
}

// scan: a sweep over many probes (a score on average), each a small scan of a few popular ports or, for about
// one sweep in twenty, a big scan of tens to hundreds of ports.
func (g *generator) scan(a *attacker, t0 time.Time) {
	probes := 1 + min(150, int(g.rng.ExpFloat64()*20))
	big := g.rng.Float64() < 0.05
	at := t0
	for range probes {
		p := g.probe(trapFwlogs)
		var ports int
		if big {
			ports = 10 + min(290, int(g.rng.ExpFloat64()*30))
		} else {
			ports = 1 + min(8, int(g.rng.ExpFloat64()*0.8))
		}
		action := "small_port_scan"
		if big {
			action = "big_port_scan"
		}
		if !g.incident(a, p, trapFwlogs, action, at) {
			return
		}
		pt := at
		for i := range ports {
			port, proto := g.port(big && i >= 5)
			g.b.Ports = append(g.b.Ports, ingest.Port{Time: pt, Count: 1, Port: port, Protocol: proto,
				Identity: g.ids[p], IP: a.ip, Country: a.country, ASN: a.asn})
			pt = pt.Add(time.Duration(g.rng.IntN(50)+1) * time.Millisecond)
		}
		at = at.Add(g.gap(3))
	}
}

// port picks a scanned port: a popular one, or any port for the body of a big scan.
func (g *generator) port(any bool) (int32, string) {
	if any {
		return 1 + g.rng.Int32N(65535), "TCP" // the same draw as IntN, without a conversion
	}
	p := popularPorts[g.portZ.Uint64()]
	return p.port, p.proto
}

// credentials picks a username and password the way brute-forcers do: botnet factory pairs
// on telnet, otherwise popular names and passwords with a random tail.
func (g *generator) credentials(t trapID) (string, string) {
	if t == trapTelnet && g.rng.Float64() < 0.6 {
		p := telnetPairs[g.pairZ.Uint64()]
		return p[0], p[1]
	}
	var user string
	if g.rng.Float64() < 0.06 {
		user = tailNames[g.rng.IntN(len(tailNames))]
		if g.rng.Float64() < 0.5 {
			user += strconv.Itoa(g.rng.IntN(100))
		}
	} else {
		user = usernames[g.userZ.Uint64()]
	}
	r := g.rng.Float64()
	switch {
	case r < 0.07:
		return user, user
	case r < 0.19:
		return user, g.tailPassword(user)
	}
	return user, passwords[g.passZ.Uint64()]
}

const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"

func (g *generator) tailPassword(user string) string {
	switch g.rng.IntN(4) {
	case 0:
		return tailWords[g.rng.IntN(len(tailWords))] + strconv.Itoa(g.rng.IntN(10000))
	case 1:
		w := []byte(tailWords[g.rng.IntN(len(tailWords))])
		w[0] -= 'a' - 'A'
		return string(w) + strconv.Itoa(2015+g.rng.IntN(12)) + "!"
	case 2:
		return user + "@" + strconv.Itoa(g.rng.IntN(1000))
	}
	b := make([]byte, 6+g.rng.IntN(7))
	for i := range b {
		b[i] = alnum[g.rng.IntN(len(alnum))]
	}
	return string(b)
}
