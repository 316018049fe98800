//go:build bench

package ingest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/demo"
	"github.com/sview-project/sview/internal/ingest"
	"github.com/sview-project/sview/internal/testenv"
)

// demoRows generates realistic rows (about 2.7 per incident) for a fresh database, with the
// probes registered there.
func demoRows(b *testing.B, pool *pgxpool.Pool, incidents int) ([]*ingest.Batch, ingest.Counts) {
	b.Helper()
	var batches []*ingest.Batch
	var c ingest.Counts
	n, err := demo.Generate(demo.Options{Days: 1, PerDay: incidents, Seed: 11,
		End: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Batch: 50_000}, func(bt *ingest.Batch) error {
		batches = append(batches, bt)
		c = c.Add(ingest.Counts{Incidents: int64(len(bt.Incidents)), Passwords: int64(len(bt.Passwords)), Ports: int64(len(bt.Ports)),
			Commands: int64(len(bt.Commands)), FeedEvents: int64(len(bt.FeedEvents))})
		return nil
	})
	require.NoError(b, err)
	ids, err := demo.RegisterProbes(context.Background(), pool, n)
	require.NoError(b, err)
	for _, bt := range batches {
		for i := range bt.Incidents {
			bt.Incidents[i].Identity = ids[bt.Incidents[i].Identity-1]
		}
		for i := range bt.Passwords {
			bt.Passwords[i].Identity = ids[bt.Passwords[i].Identity-1]
		}
		for i := range bt.Ports {
			bt.Ports[i].Identity = ids[bt.Ports[i].Identity-1]
		}
		for i := range bt.Commands {
			bt.Commands[i].Identity = ids[bt.Commands[i].Identity-1]
		}
	}
	return batches, c
}

// backendCPU is the CPU time (user + system) a PostgreSQL backend has used, read from /proc:
// the server runs on this machine in every setup the benchmarks support.
func backendCPU(b *testing.B, pid int32) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("read backend CPU time: %v (the benchmark needs a local PostgreSQL)", err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ is 100 on Linux
}

func load1() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	v, _ := strconv.ParseFloat(strings.Fields(string(data))[0], 64)
	return v
}

// BenchmarkCopy measures raw rows per second through ingest's binary COPY writer, one
// transaction per batch of 50,000 incidents with their passwords and ports rows, into the real
// schema (indexes, foreign keys, late-data triggers): with one connection, and with two
// connections taking batches in turn. Full size: 1M incidents (about 2.7M rows). Besides the
// wall-clock rate it reports the CPU the server backends and this process spent per row, which
// does not depend on what else the machine is doing: on idle cores the rate approaches
// min(conns, cores) / (server CPU per row), as long as the client keeps up.
func BenchmarkCopy(b *testing.B) {
	incidents := int(1_000_000 * testenv.BenchScale(b))
	for _, conns := range []int{1, 2} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			ctx := context.Background()
			var rows int64
			var el, serverCPU, clientCPU time.Duration
			loads := 0.0
			for range b.N {
				b.StopTimer()
				pool := testenv.Pool(b)
				batches, c := demoRows(b, pool, incidents)
				var cs []*pgxpool.Conn
				var pids []int32
				for range conns {
					conn, err := pool.Acquire(ctx)
					require.NoError(b, err)
					var pid int32
					require.NoError(b, conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))
					cs, pids = append(cs, conn), append(pids, pid)
				}
				var cpu0 time.Duration
				for _, pid := range pids {
					cpu0 += backendCPU(b, pid)
				}
				self0 := processCPU()
				loads += load1()
				b.StartTimer()
				t0 := time.Now()
				work := make(chan *ingest.Batch)
				var wg sync.WaitGroup
				errs := make(chan error, conns)
				for _, conn := range cs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var w ingest.Writer
						for bt := range work {
							tx, err := conn.Begin(ctx)
							if err != nil {
								errs <- err
								return
							}
							if _, err := w.Copy(ctx, tx, bt); err != nil {
								errs <- err
								return
							}
							if err := tx.Commit(ctx); err != nil {
								errs <- err
								return
							}
						}
					}()
				}
				for _, bt := range batches {
					work <- bt
				}
				close(work)
				wg.Wait()
				close(errs)
				require.NoError(b, <-errs)
				el += time.Since(t0)
				b.StopTimer()
				for _, pid := range pids {
					serverCPU += backendCPU(b, pid)
				}
				serverCPU -= cpu0
				clientCPU += processCPU() - self0
				for _, conn := range cs {
					conn.Release()
				}
				rows += c.Total()
				b.StartTimer()
			}
			b.ReportMetric(float64(rows)/el.Seconds(), "rows/s")
			b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
			b.ReportMetric(float64(serverCPU.Nanoseconds())/float64(rows), "server-ns/row")
			b.ReportMetric(float64(clientCPU.Nanoseconds())/float64(rows), "client-ns/row")
			b.ReportMetric(float64(rows)/serverCPU.Seconds(), "rows/server-cpu-s")
			b.ReportMetric(loads/float64(b.N), "load1")
		})
	}
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInsert is the baseline: the same kind of rows through multi-row INSERT statements
// of 1,000 rows, one transaction per batch. Full size: 200k incidents.
func BenchmarkInsert(b *testing.B) {
	incidents := int(200_000 * testenv.BenchScale(b))
	ctx := context.Background()
	var rows int64
	var el time.Duration
	for range b.N {
		b.StopTimer()
		pool := testenv.Pool(b)
		batches, c := demoRows(b, pool, incidents)
		b.StartTimer()
		t0 := time.Now()
		for _, bt := range batches {
			tx, err := pool.Begin(ctx)
			require.NoError(b, err)
			_, err = ingest.InsertBatch(ctx, tx, bt)
			require.NoError(b, err)
			require.NoError(b, tx.Commit(ctx))
		}
		el += time.Since(t0)
		rows += c.Total()
	}
	b.ReportMetric(float64(rows)/el.Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
}

// BenchmarkIngestFile measures `sview ingest` end to end: minipot JSON lines read, validated,
// enriched from geo_prefixes and copied. Full size: 1M lines.
func BenchmarkIngestFile(b *testing.B) {
	lines := int(1_000_000 * testenv.BenchScale(b))
	path := writeFormatFiles(b, b.TempDir(), map[string]int{"minipot": lines})["minipot"].path
	r := benchIngest(b, "minipot", path)
	b.ReportMetric(r.lines/r.el.Seconds(), "lines/s")
	b.ReportMetric(r.rows/r.el.Seconds(), "rows/s")
	b.ReportMetric(float64(r.cpu.Nanoseconds())/r.lines, "client-ns/line")
	b.ReportMetric(load1(), "load1")
}

// BenchmarkIngestFormats compares the formats end to end in one run: the probes' minipot and
// fwlogs messages and the ecosystem's IDEA, IntelMQ and HaaS lines, all made from the same
// demo traffic (one IDEA or IntelMQ event per incident, one HaaS line per HaaS session).
// Full size: 300k lines of each, and 30k HaaS sessions (about 28 rows each).
func BenchmarkIngestFormats(b *testing.B) {
	lines := int(300_000 * testenv.BenchScale(b))
	formats := []string{"minipot", "fwlogs", "idea", "intelmq", "haas"}
	files := writeFormatFiles(b, b.TempDir(), map[string]int{"minipot": lines, "fwlogs": lines, "idea": lines,
		"intelmq": lines, "haas": lines / 10})
	for _, format := range formats {
		b.Run("format="+format, func(b *testing.B) {
			f := files[format]
			r := benchIngest(b, format, f.path)
			b.ReportMetric(r.lines/r.el.Seconds(), "lines/s")
			b.ReportMetric(r.rows/r.el.Seconds(), "rows/s")
			b.ReportMetric(r.rows/r.lines, "rows/line")
			b.ReportMetric(float64(f.bytes)/float64(f.lines), "bytes/line")
			b.ReportMetric(float64(f.bytes)/1e6/r.el.Seconds(), "MB/s")
			b.ReportMetric(float64(r.cpu.Nanoseconds())/r.lines, "client-ns/line")
			b.ReportMetric(load1(), "load1")
		})
	}
}

type benchResult struct {
	lines, rows float64
	el, cpu     time.Duration
}

// benchIngest ingests path b.N times, each into a fresh database with the demo prefixes.
func benchIngest(b *testing.B, format, path string) benchResult {
	ctx := context.Background()
	var r benchResult
	for range b.N {
		b.StopTimer()
		pool := testenv.Pool(b)
		_, err := demo.LoadGeoIfEmpty(ctx, pool)
		require.NoError(b, err)
		b.StartTimer()
		t0, c0 := time.Now(), processCPU()
		rep, err := ingest.Run(ctx, pool, ingest.Options{Format: format, Path: path})
		require.NoError(b, err)
		r.el += time.Since(t0)
		r.cpu += processCPU() - c0
		require.Zero(b, rep.Bad)
		r.rows += float64(rep.Rows.Total())
		r.lines += float64(rep.Lines)
	}
	return r
}

type benchFile struct {
	path         string
	lines, bytes int64
}

// writeFormatFiles writes the given number of lines of each format from one demo day, going
// round the day again a day later while a format has too few of its own.
func writeFormatFiles(b *testing.B, dir string, want map[string]int) map[string]*benchFile {
	b.Helper()
	lines := 0
	for _, n := range want {
		lines = max(lines, n)
	}
	n, err := demo.NewNetwork(11, demo.DefaultProbes, 1000)
	require.NoError(b, err)
	var batches []*ingest.Batch
	_, err = demo.Generate(demo.Options{Days: 1, PerDay: min(lines, 500_000), Seed: 11, Attackers: 1000,
		End: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, func(bt *ingest.Batch) error {
		batches = append(batches, bt)
		return nil
	})
	require.NoError(b, err)
	out := map[string]*benchFile{}
	for format, lines := range want {
		f := &benchFile{path: filepath.Join(dir, format+".jsonl")}
		fh, err := os.Create(f.path)
		require.NoError(b, err)
		w := bufio.NewWriter(fh)
		emit := func(m map[string]any) bool {
			line, err := json.Marshal(m)
			require.NoError(b, err)
			w.Write(append(line, '\n'))
			f.lines++
			f.bytes += int64(len(line)) + 1
			return f.lines < int64(lines)
		}
		for round := 0; f.lines < int64(lines); round++ {
			shift := time.Duration(round) * 24 * time.Hour
			before := f.lines
			for _, bt := range batches {
				if !formatLines(n, bt, format, shift, emit) {
					break
				}
			}
			require.Greater(b, f.lines, before, "the demo day has no %s lines", format)
		}
		require.NoError(b, w.Flush())
		require.NoError(b, fh.Close())
		out[format] = f
	}
	return out
}

// ideaCategory and intelmqClass classify a demo incident for the feed formats.
func ideaCategory(r ingest.Incident) string {
	switch {
	case r.Action == "login":
		return "Attempt.Login"
	case r.Trap == "minipot_http" && r.Action == "message":
		return "Attempt.Exploit"
	}
	return "Recon.Scanning"
}

var intelmqClass = map[string][2]string{
	"Attempt.Login": {"intrusion-attempts", "brute-force"}, "Attempt.Exploit": {"intrusion-attempts", "exploit"},
	"Recon.Scanning": {"information-gathering", "scanner"},
}

// formatLines hands emit the lines of one format made from a batch, its times moved by shift;
// it stops when emit returns false.
func formatLines(n *demo.Network, bt *ingest.Batch, format string, shift time.Duration, emit func(map[string]any) bool) bool {
	probe := func(id int64) demo.Probe { return n.Probes[id-1] }
	stamp := func(t time.Time) string { return t.Add(shift).UTC().Format(time.RFC3339) }
	switch format {
	case "minipot":
		pw := 0
		for _, r := range bt.Incidents {
			if !strings.HasPrefix(r.Trap, "minipot_") {
				continue
			}
			p := probe(r.Identity)
			m := map[string]any{"ts": r.Time.Add(shift).Unix(), "type": r.Trap[8:], "ip": r.IP.String(), "action": r.Action,
				"sn": p.SN, "device_token": p.Token}
			if r.Action == "login" {
				for pw < len(bt.Passwords) && bt.Passwords[pw].Time.Before(r.Time) {
					pw++
				}
				if pw < len(bt.Passwords) {
					m["data"] = map[string]string{"username": bt.Passwords[pw].Username, "password": bt.Passwords[pw].Password}
				}
			}
			if !emit(m) {
				return false
			}
		}
	case "fwlogs":
		for i, r := range bt.Ports {
			p := probe(r.Identity)
			if !emit(map[string]any{"ts": float64(r.Time.Add(shift).UnixMicro()) / 1e6, "protocol": r.Protocol, "ip": r.IP.String(),
				"port": 1024 + i%60000, "local_ip": "192.168.1.1", "local_port": r.Port, "sn": p.SN, "device_token": p.Token}) {
				return false
			}
		}
	case "idea":
		for i, r := range bt.Incidents {
			fam := "IP4"
			if r.IP.Is6() {
				fam = "IP6"
			}
			if !emit(map[string]any{"Format": "IDEA0", "ID": fmt.Sprintf("0b1e5d2c-%04x-4a6b-9c1d-%012x", i%65536, i),
				"CreateTime": stamp(r.Time.Add(time.Minute)), "DetectTime": stamp(r.Time.Add(30 * time.Second)), "EventTime": stamp(r.Time),
				"Category": []string{ideaCategory(r)}, "ConnCount": 1 + i%20,
				"Source": []map[string]any{{fam: []string{r.IP.String()}, "Proto": []string{"tcp"}}},
				"Target": []map[string]any{{"Port": []int{23}}},
				"Node":   []map[string]any{{"Name": "cz.example.honeypot", "SW": []string{"Sentinel"}, "Type": []string{"Honeypot"}}}}) {
				return false
			}
		}
	case "intelmq":
		for _, r := range bt.Incidents {
			c := intelmqClass[ideaCategory(r)]
			m := map[string]any{"source.ip": r.IP.String(), "classification.taxonomy": c[0], "classification.type": c[1],
				"classification.identifier": r.Trap, "feed.provider": "Example CERT", "feed.name": "Honeypot Events",
				"time.source": stamp(r.Time), "time.observation": stamp(r.Time.Add(time.Hour)), "protocol.transport": "tcp"}
			if r.ASN != 0 {
				m["source.asn"], m["source.geolocation.cc"] = r.ASN, r.Country
			}
			if !emit(m) {
				return false
			}
		}
	case "haas":
		// A session's passwords are contiguous in a demo batch; every third session also
		// gets the next of the batch's command runs.
		runs := commandRuns(bt.Commands)
		sessions := 0
		for i := 0; i < len(bt.Passwords); {
			r := bt.Passwords[i]
			if r.Trap != "haas" {
				i++
				continue
			}
			var logins []map[string]string
			for ; i < len(bt.Passwords) && bt.Passwords[i].Trap == "haas" && bt.Passwords[i].IP == r.IP && bt.Passwords[i].Identity == r.Identity; i++ {
				logins = append(logins, map[string]string{"username": bt.Passwords[i].Username, "password": bt.Passwords[i].Password})
			}
			p := probe(r.Identity)
			m := map[string]any{"ts": stamp(r.Time), "ip": r.IP.String(), "logins": logins, "sn": p.SN, "device_token": p.Token}
			if sessions%3 == 0 && len(runs) > 0 {
				m["commands"] = runs[(sessions/3)%len(runs)]
			}
			sessions++
			if !emit(m) {
				return false
			}
		}
	}
	return true
}

// commandRuns splits a batch's commands into the runs of one attacker on one probe.
func commandRuns(cs []ingest.Command) [][]string {
	var runs [][]string
	for i, c := range cs {
		if i == 0 || c.IP != cs[i-1].IP || c.Identity != cs[i-1].Identity {
			runs = append(runs, nil)
		}
		runs[len(runs)-1] = append(runs[len(runs)-1], c.Command)
	}
	return runs
}
