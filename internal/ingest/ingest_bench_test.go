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
		c = c.Add(ingest.Counts{Incidents: int64(len(bt.Incidents)), Passwords: int64(len(bt.Passwords)), Ports: int64(len(bt.Ports))})
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
	ctx := context.Background()
	dir := b.TempDir()
	path := filepath.Join(dir, "minipot.jsonl")
	f, err := os.Create(path)
	require.NoError(b, err)
	w := bufio.NewWriter(f)
	n, err := demo.NewNetwork(11, demo.DefaultProbes, 1000)
	require.NoError(b, err)
	written := 0
	_, err = demo.Generate(demo.Options{Days: 1, PerDay: lines * 2, Seed: 11, End: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		func(bt *ingest.Batch) error {
			pw := 0
			for _, r := range bt.Incidents {
				if written >= lines || len(r.Trap) < 8 || r.Trap[:8] != "minipot_" {
					continue
				}
				p := n.Probes[r.Identity-1]
				m := map[string]any{"ts": r.Time.Unix(), "type": r.Trap[8:], "ip": r.IP.String(), "action": r.Action,
					"sn": p.SN, "device_token": p.Token}
				if r.Action == "login" {
					for pw < len(bt.Passwords) && bt.Passwords[pw].Time.Before(r.Time) {
						pw++
					}
					if pw < len(bt.Passwords) {
						m["data"] = map[string]string{"username": bt.Passwords[pw].Username, "password": bt.Passwords[pw].Password}
					}
				}
				line, _ := json.Marshal(m)
				w.Write(append(line, '\n'))
				written++
			}
			return nil
		})
	require.NoError(b, err)
	require.NoError(b, w.Flush())
	require.NoError(b, f.Close())
	var total ingest.Counts
	var el, cpu time.Duration
	var read int64
	for range b.N {
		b.StopTimer()
		pool := testenv.Pool(b)
		_, err := demo.LoadGeoIfEmpty(ctx, pool)
		require.NoError(b, err)
		b.StartTimer()
		t0, c0 := time.Now(), processCPU()
		rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "minipot", Path: path})
		require.NoError(b, err)
		el += time.Since(t0)
		cpu += processCPU() - c0
		require.Zero(b, rep.Bad)
		total = total.Add(rep.Rows)
		read += rep.Lines
	}
	b.ReportMetric(float64(read)/el.Seconds(), "lines/s")
	b.ReportMetric(float64(total.Total())/el.Seconds(), "rows/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(read), "client-ns/line")
	b.ReportMetric(load1(), "load1")
}
