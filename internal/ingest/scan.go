package ingest

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"time"
)

// Port scans are derived from firewall-log packets (the original dumper's rule is not public;
// this is ours, see docs/ingest.md): packets from one attacker IP to one probe within one
// aligned 15-minute window form one scan, written as one incident at the time of the window's
// first packet. It is a big_port_scan when it touched at least BigScanPorts distinct local
// ports, a small_port_scan otherwise. A window is written once the newest packet seen is
// ScanGrace past its end (or at the end of the file); until then it is held back, and saved
// with the ledger checkpoint so a restart neither loses nor repeats it.
const (
	ScanWindow   = 15 * time.Minute
	ScanGrace    = 5 * time.Minute
	BigScanPorts = 10
)

type scanKey struct {
	identity int64
	ip       netip.Addr
	bucket   int64 // Unix seconds / ScanWindow
}

type scanWindow struct {
	first time.Time
	ports []int32 // distinct, at most BigScanPorts
}

type scanTracker struct {
	open  map[scanKey]*scanWindow
	maxTS time.Time
}

func newScanTracker() *scanTracker { return &scanTracker{open: map[scanKey]*scanWindow{}} }

func (s *scanTracker) add(identity int64, ip netip.Addr, t time.Time, port int32) {
	if t.After(s.maxTS) {
		s.maxTS = t
	}
	k := scanKey{identity, ip, t.Unix() / int64(ScanWindow/time.Second)}
	w := s.open[k]
	if w == nil {
		w = &scanWindow{first: t}
		s.open[k] = w
	}
	if t.Before(w.first) {
		w.first = t
	}
	if len(w.ports) < BigScanPorts && !slices.Contains(w.ports, port) {
		w.ports = append(w.ports, port)
	}
}

// flush writes the windows that are complete: all when final, else those whose end plus the
// grace is not after the watermark.
func (s *scanTracker) flush(b *Batch, watermark time.Time, final bool) {
	var done []scanKey
	for k := range s.open {
		end := time.Unix((k.bucket+1)*int64(ScanWindow/time.Second), 0)
		if final || !end.Add(ScanGrace).After(watermark) {
			done = append(done, k)
		}
	}
	// A stable order keeps the output reproducible.
	sort.Slice(done, func(i, j int) bool {
		a, c := s.open[done[i]], s.open[done[j]]
		if !a.first.Equal(c.first) {
			return a.first.Before(c.first)
		}
		if done[i].identity != done[j].identity {
			return done[i].identity < done[j].identity
		}
		return done[i].ip.Less(done[j].ip)
	})
	for _, k := range done {
		w := s.open[k]
		action := "small_port_scan"
		if len(w.ports) >= BigScanPorts {
			action = "big_port_scan"
		}
		b.Incidents = append(b.Incidents, Incident{Time: w.first, Count: 1, Identity: k.identity,
			Trap: "fwlogs", Action: action, IP: k.ip})
		delete(s.open, k)
	}
}

type savedWindow struct {
	Identity int64   `json:"i"`
	IP       string  `json:"ip"`
	Bucket   int64   `json:"b"`
	First    int64   `json:"f"` // Unix µs
	Ports    []int32 `json:"p"`
}

type savedScans struct {
	MaxTS   int64         `json:"max_ts"`
	Windows []savedWindow `json:"windows"`
}

func (s *scanTracker) marshal() ([]byte, error) {
	if len(s.open) == 0 && s.maxTS.IsZero() {
		return nil, nil
	}
	out := savedScans{Windows: make([]savedWindow, 0, len(s.open))}
	if !s.maxTS.IsZero() {
		out.MaxTS = s.maxTS.UnixMicro()
	}
	for k, w := range s.open {
		out.Windows = append(out.Windows, savedWindow{k.identity, k.ip.String(), k.bucket, w.first.UnixMicro(), w.ports})
	}
	return json.Marshal(out)
}

func (s *scanTracker) unmarshal(data []byte) error {
	s.open = map[scanKey]*scanWindow{}
	s.maxTS = time.Time{}
	if len(data) == 0 {
		return nil
	}
	var in savedScans
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("read saved port-scan windows: %w", err)
	}
	if in.MaxTS != 0 {
		s.maxTS = time.UnixMicro(in.MaxTS).UTC()
	}
	for _, w := range in.Windows {
		ip, err := netip.ParseAddr(w.IP)
		if err != nil {
			return fmt.Errorf("read saved port-scan windows: %w", err)
		}
		s.open[scanKey{w.Identity, ip, w.Bucket}] = &scanWindow{time.UnixMicro(w.First).UTC(), w.Ports}
	}
	return nil
}
