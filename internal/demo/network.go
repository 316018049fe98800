// Package demo simulates the Sentinel probe network: a few hundred probes and a population of
// attackers with heavy-tailed activity, sessions, daily cycles and realistic credentials and
// ports, deterministic for a seed. `Seed` writes whole days of raw rows, `Live` keeps inserting
// at a steady rate; both go through the ingest package's COPY writer.
package demo

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"

	"github.com/sview-project/sview/internal/geo"
	"github.com/sview-project/sview/internal/ingest"
)

// GeoTSV is the bundled prefix file (iptoasn TSV) the attackers' addresses are drawn from.
//
//go:embed geo.tsv
var GeoTSV []byte

type trapID uint8

const (
	trapTelnet trapID = iota
	trapFTP
	trapSMTP
	trapHTTP
	trapFwlogs
	trapFaillogs
	trapHaas
	numTraps
)

var trapNames = [numTraps]string{"minipot_telnet", "minipot_ftp", "minipot_smtp", "minipot_http", "fwlogs", "faillogs", "haas"}

type kind uint8

const (
	kindTelnet kind = iota // IoT botnet brute-forcing telnet
	kindSSH                // SSH brute-forcer (seen by HaaS and by probes' own sshd)
	kindScan               // port scanner sweeping many probes
	kindWeb                // web scanner (HTTP requests, some basic-auth logins)
	kindMail               // SMTP AUTH brute-forcer
	kindFTP                // FTP brute-forcer
	numKinds
)

var kindWeights = [numKinds]float64{0.20, 0.20, 0.40, 0.10, 0.05, 0.05}

// Probe is one simulated probe.
type Probe struct {
	ingest.Probe
	weight float64
	traps  uint8 // bit per trapID
}

type attacker struct {
	ip      netip.Addr
	country string
	asn     int32
	weight  float64
	kinds   [2]kind // primary, secondary
	start   int     // first active day within the activity period
	length  int     // active days per period
}

// activityPeriod is the cycle (days) attackers come and go in.
const activityPeriod = 28

// Network is the simulated population. It is immutable once built.
type Network struct {
	seed      uint64
	Probes    []Probe
	attackers []attacker
	byTrap    [numTraps]*alias // probe indices with each trap, by probe weight
	trapProbe [numTraps][]int
}

// NewNetwork builds the probes and the attackers for seed. attackers is the population size
// (not everyone is active every day).
func NewNetwork(seed uint64, probes, attackers int) (*Network, error) {
	if probes < 4 {
		return nil, fmt.Errorf("want at least 4 probes, got %d", probes)
	}
	if attackers < 10 {
		return nil, fmt.Errorf("want at least 10 attackers, got %d", attackers)
	}
	n := &Network{seed: seed}
	var recs []geo.Record
	if _, err := geo.Parse(bytes.NewReader(GeoTSV), 10, func(_ int64, r geo.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read bundled geo file: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) // #nosec G404 -- the demo network must be reproducible from its seed; demo tokens are not secrets

	n.Probes = make([]Probe, probes)
	for i := range n.Probes {
		var tok [28]byte
		for j := range tok {
			tok[j] = byte(rng.Uint32() & 0xff)
		}
		p := Probe{
			Probe:  ingest.Probe{SN: fmt.Sprintf("%016X", 0x0000000A00000000|uint64(rng.Uint32())), Token: ingest.TokenFrom(tok)},
			weight: math.Exp(rng.NormFloat64() * 0.7),
		}
		if i < 4 || rng.Float64() < 0.75 {
			p.traps |= 1<<trapTelnet | 1<<trapFTP | 1<<trapSMTP | 1<<trapHTTP
		}
		if i < 4 || rng.Float64() < 0.9 {
			p.traps |= 1 << trapFwlogs
		}
		if i < 4 || rng.Float64() < 0.35 {
			p.traps |= 1 << trapFaillogs
		}
		if i < 4 || rng.Float64() < 0.25 {
			p.traps |= 1 << trapHaas
		}
		n.Probes[i] = p
	}
	for t := range numTraps {
		var w []float64
		for i, p := range n.Probes {
			if p.traps&(1<<t) != 0 {
				n.trapProbe[t] = append(n.trapProbe[t], i)
				w = append(w, p.weight)
			}
		}
		n.byTrap[t] = newAlias(w)
	}

	// Attackers come from autonomous systems by their weight, then from one of the system's
	// ranges by its size (log scale, so small ranges still appear). About 2% use IPv6.
	type asGroup struct {
		v4, v6 []int
		w4     []float64
		a4     *alias
	}
	groups := map[int32]*asGroup{}
	var asns []int32
	for i, r := range recs {
		g := groups[r.ASN]
		if g == nil {
			g = &asGroup{}
			groups[r.ASN] = g
			asns = append(asns, r.ASN)
		}
		if r.Start.Is4() {
			g.v4, g.w4 = append(g.v4, i), append(g.w4, 1+rangeBits(r))
		} else {
			g.v6 = append(g.v6, i)
		}
	}
	for _, g := range groups {
		g.a4 = newAlias(g.w4)
	}
	var asW []float64
	for _, a := range asns {
		w, ok := asnWeights[a]
		if !ok {
			w = 1
		}
		asW = append(asW, w)
	}
	asAlias := newAlias(asW)
	kindAlias := newAlias(kindWeights[:])
	n.attackers = make([]attacker, attackers)
	for i := range n.attackers {
		g := groups[asns[asAlias.pick(rng)]]
		var rec geo.Record
		if len(g.v6) > 0 && rng.Float64() < 0.02 {
			rec = recs[g.v6[rng.IntN(len(g.v6))]]
		} else if len(g.v4) > 0 {
			rec = recs[g.v4[g.a4.pick(rng)]]
		} else {
			rec = recs[g.v6[rng.IntN(len(g.v6))]]
		}
		// Pareto(α = 1.1): the top 1% of attackers carry about half of all sessions.
		w := math.Pow(1-rng.Float64(), -1/1.1)
		a := attacker{
			ip: randomAddr(rng, rec), country: rec.Country, asn: rec.ASN, weight: w,
			start: rng.IntN(activityPeriod),
		}
		a.kinds[0] = kind(kindAlias.pick(rng)) // #nosec G115 -- an index into kindWeights (a handful of kinds)
		a.kinds[1] = a.kinds[0]
		if rng.Float64() < 0.3 {
			a.kinds[1] = kind(kindAlias.pick(rng)) // #nosec G115 -- an index into kindWeights (a handful of kinds)
		}
		// The busier an attacker, the longer it stays: one-shot bots come and go, the big
		// ones are there every day.
		a.length = min(activityPeriod, 1+int(rng.ExpFloat64()*3*(1+math.Log(w))))
		n.attackers[i] = a
	}
	return n, nil
}

// rangeBits is log2 of the number of addresses in an IPv4 range.
func rangeBits(r geo.Record) float64 {
	s, e := r.Start.As4(), r.End.As4()
	a, b := binary.BigEndian.Uint32(s[:]), binary.BigEndian.Uint32(e[:])
	return math.Log2(float64(b-a) + 1)
}

// randomAddr picks a host address inside the range.
func randomAddr(rng *rand.Rand, r geo.Record) netip.Addr {
	if r.Start.Is4() {
		s, e := r.Start.As4(), r.End.As4()
		a, b := binary.BigEndian.Uint32(s[:]), binary.BigEndian.Uint32(e[:])
		for {
			v := a + uint32(rng.Uint64N(uint64(b-a)+1)) // #nosec G115 -- below b-a+1 <= 2^32, so a plus it stays <= b
			if last := v & 0xff; (last == 0 || last == 255) && b-a > 255 {
				continue // network and broadcast addresses rarely attack
			}
			var out [4]byte
			binary.BigEndian.PutUint32(out[:], v)
			return netip.AddrFrom4(out)
		}
	}
	s, e := r.Start.As16(), r.End.As16()
	if s == e {
		return r.Start
	}
	var out [16]byte
	copy(out[:8], s[:8])
	// The /64 of the range start, a random interface identifier (ranges here are /32 or wider).
	for i := 8; i < 16; i++ {
		out[i] = byte(rng.Uint32() & 0xff)
	}
	return netip.AddrFrom16(out)
}

// alias samples indices by weight in O(1) (Vose's alias method).
type alias struct {
	prob  []float64
	alias []int32
}

func newAlias(w []float64) *alias {
	n := len(w)
	a := &alias{prob: make([]float64, n), alias: make([]int32, n)}
	if n == 0 {
		return a
	}
	var sum float64
	for _, x := range w {
		sum += x
	}
	scaled := make([]float64, n)
	var small, large []int32
	for i, x := range w {
		scaled[i] = x * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.prob[s], a.alias[s] = scaled[s], l
		scaled[l] += scaled[s] - 1
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range large {
		a.prob[i] = 1
	}
	for _, i := range small {
		a.prob[i] = 1
	}
	return a
}

func (a *alias) pick(rng *rand.Rand) int {
	i := rng.IntN(len(a.prob))
	if rng.Float64() < a.prob[i] {
		return i
	}
	return int(a.alias[i])
}
