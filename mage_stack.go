//go:build mage

package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sview-project/sview/internal/devserver"
	"github.com/sview-project/sview/internal/pluginharness"
	"github.com/sview-project/sview/internal/stack"
)

// Ports of the private servers `mage up` starts under ./.sview when none is configured: below
// Linux's ephemeral range (32768–60999), where an outgoing connection can hold the port.
const (
	stackPostgresPort = 25432
	stackRedisPort    = 26379
	stackAPIListen    = "127.0.0.1:8080"
	stackMetrics      = "127.0.0.1:9464"
	stackGrafanaPort  = "3000"
	stackDemoDays     = 7
	// The live simulator runs at the seeded density, so graphs go on where the history ends;
	// seeding and rolling up a week at this density takes about a minute on two cores.
	stackDemoPerDay = 43200 // 0.5 incidents/s
	// Each part gets this long after SIGTERM before SIGKILL; parts stop in parallel, well inside
	// mage's 5 s limit after Ctrl-C.
	stackStopGrace = 3 * time.Second
)

// Up runs the whole system locally until Ctrl-C, SIGINT or SIGTERM: PostgreSQL
// (SVIEW_DATABASE_URL, or a private cluster under ./.sview), Redis (SVIEW_REDIS_URL, or a
// private one when redis-server is installed), migrations, a week of demo data rolled up at once
// when the database is empty, the live simulator, the aggregator (`sview run`), the public API
// (`sview serve`), the plugin backend under a go-plugin host and, when one is installed, a Grafana
// server provisioned from this repository. A start after a crash first stops what it left.
func Up(ctx context.Context) error {
	began := time.Now()
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	ctx, cancel := stack.StopContext(ctx)
	defer cancel()
	state := filepath.Join(root, ".sview")
	runDir := filepath.Join(state, "run")
	// The pid to signal: mage's driver, the `go tool mage up` process's child, swallows SIGINT
	// while a target runs (it counts on a terminal signalling the whole foreground group), so
	// SIGINT must reach this process itself. The file also keeps a second `up` from stopping the
	// first one's parts as if they were a crash's leftovers. It lies outside runDir: its process
	// group is the shell's job, not one Start made.
	upPid := filepath.Join(state, "up.pid")
	if pid, running, err := stack.Recorded(upPid); err == nil && running && pid != os.Getpid() {
		return fmt.Errorf("mage up is already running in this checkout (pid %d): stop it first with kill -INT %d", pid, pid)
	}
	if err := stack.WritePidFile(upPid, os.Getpid()); err != nil {
		return err
	}
	defer os.Remove(upPid)
	stale, err := stack.PidFiles(runDir)
	if err != nil {
		return err
	}
	// the private PostgreSQL writes its own pid file; SIGINT is its fast shutdown
	stale = append(stale, stack.PidFile{Path: filepath.Join(state, "postgres", "data", "postmaster.pid"), Signal: syscall.SIGINT})
	notes, err := stack.CleanStale(stale, stackStopGrace)
	for _, n := range notes {
		fmt.Println("cleanup after a previous `mage up` that did not stop:", n)
	}
	if err != nil {
		return fmt.Errorf("clean up after a previous mage up: %w", err)
	}

	var parts []stack.Stopper
	defer func() {
		stopping := time.Now()
		stack.StopAll(parts, stackStopGrace)
		fmt.Printf("stopped everything mage up started in %s\n", time.Since(stopping).Round(10*time.Millisecond))
	}()
	var started []string
	logs := filepath.Join(state, "logs")
	if err := os.MkdirAll(logs, 0o750); err != nil { // the logs are the developer's (they may hold database URLs)
		return err
	}

	dbURL := os.Getenv("SVIEW_DATABASE_URL")
	if dbURL == "" {
		s, url, err := stackPostgres(ctx, filepath.Join(state, "postgres"))
		if err != nil {
			return err
		}
		parts = append(parts, s)
		dbURL = url
		started = append(started, "PostgreSQL      "+dbURL+"  (data in .sview/postgres)")
	}
	redisURL := os.Getenv("SVIEW_REDIS_URL")
	if redisURL == "" {
		if p, url, err := stackRedis(ctx, runDir, filepath.Join(state, "redis")); err != nil {
			return err
		} else if p == nil {
			started = append(started, "cache           in process (no redis-server installed)")
		} else {
			parts = append(parts, p)
			redisURL = url
			started = append(started, "Redis           "+redisURL)
		}
	}

	bin := filepath.Join(state, "bin")
	fmt.Println("building sview and the plugin backend …")
	if err := run(nil, "go", "build", "-o", filepath.Join(bin, "sview"), "./cmd/sview"); err != nil {
		return err
	}
	plugin, err := stackPluginBuild(ctx, root)
	if err != nil {
		return err
	}
	env := []string{"SVIEW_DATABASE_URL=" + dbURL, "SVIEW_REDIS_URL=" + redisURL}
	sview := filepath.Join(bin, "sview")

	if err := runEnv(env, sview, "migrate", "up"); err != nil {
		return err
	}
	if err := stackSeed(ctx, env, sview, dbURL); err != nil {
		return err
	}

	procs := []struct {
		name, what string
		args       []string
	}{
		{"live", fmt.Sprintf("demo live       %g incidents/s, the seeded density", stackLiveRate()), []string{sview, "demo", "live", "--rate", fmt.Sprint(stackLiveRate())}},
		{"run", "aggregator      metrics on http://" + stackMetrics + "/metrics", []string{sview, "run", "--metrics-listen", stackMetrics}},
		{"serve", "public API      http://" + stackAPIListen + "  (/healthz, /passcheck/apiv1/, /range/{prefix}, /greylist-latest.csv, /api/resource, POST /api/query)", []string{sview, "serve", "--listen", stackAPIListen}},
	}
	for _, p := range procs {
		proc, err := stackStart(runDir, logs, p.name, env, p.args...)
		if err != nil {
			return err
		}
		parts = append(parts, proc)
		started = append(started, p.what+"  (log .sview/logs/"+p.name+".log)")
	}
	pl, health, err := stackPlugin(ctx, runDir, logs, plugin, dbURL)
	if err != nil {
		return err
	}
	parts = append(parts, pl)
	started = append(started, "plugin backend  under a go-plugin host, as Grafana runs it; health: "+health+"  (log .sview/logs/plugin.log)")
	if g, p, err := stackGrafana(root, state, runDir, dbURL, redisURL, env); err != nil {
		return err
	} else {
		if p != nil {
			parts = append(parts, p)
		}
		started = append(started, g)
	}

	fmt.Printf("\nsview is up after %s:\n", time.Since(began).Round(time.Second))
	for _, s := range started {
		fmt.Println("  " + s)
	}
	fmt.Println("\nEvery period has data now; the greylist and leaked passwords follow within seconds, once")
	fmt.Printf("the aggregator's start-up catch-up has run. Ctrl-C, kill -INT %d (.sview/up.pid) or SIGTERM to\n", os.Getpid())
	fmt.Println("`go tool mage up` stops everything.")
	<-ctx.Done()
	return nil
}

// stackLiveRate is the live simulator's rate in incidents/s: the seeded density.
func stackLiveRate() float64 { return float64(stackDemoPerDay) / 86400 }

// stackSeed fills an empty database with a week of demo data and rolls it up at every precision
// (with a progress line), so every period has data before the live simulator starts.
func stackSeed(ctx context.Context, env []string, sview, dbURL string) error {
	empty, err := stackDatabaseEmpty(ctx, dbURL)
	if err != nil || !empty {
		return err
	}
	from := time.Now().UTC().AddDate(0, 0, -stackDemoDays).Truncate(24 * time.Hour)
	fmt.Printf("database is empty: seeding %d days of demo data at %d incidents/day …\n", stackDemoDays, stackDemoPerDay)
	if err := runEnv(env, sview, "demo", "seed", "--days", fmt.Sprint(stackDemoDays), "--per-day", fmt.Sprint(stackDemoPerDay)); err != nil {
		return err
	}
	fmt.Println("rolling up the seeded history at every precision …")
	return runEnv(env, sview, "backfill", "--from", from.Format(time.RFC3339))
}

// stopFunc adapts a server's Stop to stack.Stopper.
type stopFunc func() error

func (f stopFunc) Stop(time.Duration) {
	if err := f(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

func stackPostgres(ctx context.Context, dir string) (stack.Stopper, string, error) {
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/sview?sslmode=disable", stackPostgresPort)
	if devserver.Answers(fmt.Sprintf("127.0.0.1:%d", stackPostgresPort)) {
		return nil, "", fmt.Errorf("port %d is taken by a server this checkout did not start: stop it or set SVIEW_DATABASE_URL", stackPostgresPort)
	}
	s, err := devserver.Postgres(ctx, dir, stackPostgresPort)
	if err != nil {
		return nil, "", err
	}
	c, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		_ = s.Stop()
		return nil, "", err
	}
	defer c.Close(ctx)
	var exists bool
	err = c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'sview')").Scan(&exists)
	if err == nil && !exists {
		_, err = c.Exec(ctx, "CREATE DATABASE sview")
	}
	if err != nil {
		_ = s.Stop()
		return nil, "", err
	}
	return stopFunc(s.Stop), url, nil
}

// stackRedis starts a private redis-server that keeps nothing on disk, or returns nil when none
// is installed.
func stackRedis(ctx context.Context, runDir, dir string) (*stack.Proc, string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, "", nil
	}
	addr := fmt.Sprintf("127.0.0.1:%d", stackRedisPort)
	if devserver.Answers(addr) {
		return nil, "", fmt.Errorf("port %d is taken by a server this checkout did not start: stop it or set SVIEW_REDIS_URL", stackRedisPort)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	// #nosec G204 -- redis-server from PATH, arguments built here
	p, err := stack.Start(runDir, "redis", exec.Command(bin, "--bind", "127.0.0.1", "--port", fmt.Sprint(stackRedisPort),
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log")))
	if err != nil {
		return nil, "", err
	}
	for deadline := time.Now().Add(30 * time.Second); !devserver.Answers(addr); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.Stop(stackStopGrace)
			return nil, "", fmt.Errorf("redis-server did not start listening on %s (log in %s)", addr, dir)
		}
	}
	return p, fmt.Sprintf("redis://%s/0", addr), nil
}

func stackDatabaseEmpty(ctx context.Context, url string) (bool, error) {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return false, err
	}
	defer c.Close(ctx)
	var any bool
	err = c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM incidents)").Scan(&any)
	return !any, err
}

// stackPluginBuild builds the linux backend binary into dist/ as the SDK's build does and puts
// plugin.json beside it, which is what Grafana needs to load it from there.
func stackPluginBuild(ctx context.Context, root string) (string, error) {
	dist := filepath.Join(root, "dist")
	if err := os.MkdirAll(dist, 0o755); err != nil { // #nosec G301 -- docker-compose mounts dist/ into Grafana, another user
		return "", err
	}
	bin, err := pluginharness.Build(ctx, root, dist)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dist, "plugin.json")); err == nil {
		return bin, nil
	}
	b, err := os.ReadFile(filepath.Join(root, "plugin", "src", "plugin.json")) // #nosec G304 -- the repository's own plugin.json
	if err != nil {
		return "", err
	}
	return bin, os.WriteFile(filepath.Join(dist, "plugin.json"), b, 0o644) // #nosec G306 G703 -- dist/ is read by Grafana, another user
}

// stackPlugin starts the plugin backend under the go-plugin host and asks it for the health of a
// datasource configured for the stack's database, as Grafana's "Save & test" would.
func stackPlugin(ctx context.Context, runDir, logs, binary, dbURL string) (*stack.Plugin, string, error) {
	log, err := stackLog(logs, "plugin")
	if err != nil {
		return nil, "", err
	}
	p, err := stack.StartPlugin(runDir, binary, log)
	if err != nil {
		_ = log.Close() // the start error is the one to report
		return nil, "", fmt.Errorf("start the plugin backend (log .sview/logs/plugin.log): %w", err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		p.Stop(stackStopGrace)
		return nil, "", fmt.Errorf("parse database URL: %w", err)
	}
	password, _ := u.User.Password()
	settings, _ := json.Marshal(map[string]any{"host": u.Hostname(), "port": u.Port(), "database": strings.TrimPrefix(u.Path, "/"),
		"user": u.User.Username(), "sslMode": cmp.Or(u.Query().Get("sslmode"), "prefer")})
	res, err := p.CheckHealth(ctx, pluginharness.PluginContext("sview-up", settings, map[string]string{"password": password}))
	if err != nil {
		return p, "", fmt.Errorf("plugin health check: %w", err)
	}
	return p, res.Status.String() + " " + res.Message, nil
}

// stackLog opens .sview/logs/<name>.log for appending, so the logs of earlier starts are kept,
// and marks where this start begins.
func stackLog(logs, name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(logs, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600) // #nosec G304 -- .sview/logs/<part>.log, names fixed in Up
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "\n==== mage up %s ====\n", time.Now().Format(time.RFC3339))
	return f, nil
}

// stackStart runs a long-lived part with its output appended to .sview/logs/<name>.log.
func stackStart(runDir, logs, name string, env []string, args ...string) (*stack.Proc, error) {
	out, err := stackLog(logs, name)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...) // #nosec G204 -- the parts' command lines are fixed in Up
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	p, err := stack.Start(runDir, name, cmd)
	_ = out.Close() // the child has its own copy
	if err != nil {
		return nil, err
	}
	select {
	case <-p.Done():
		return nil, fmt.Errorf("%s exited at once: see .sview/logs/%s.log", name, name)
	case <-time.After(500 * time.Millisecond):
	}
	return p, nil
}

// stackGrafana starts a Grafana server provisioned from this repository when one is installed.
func stackGrafana(root, state, runDir, dbURL, redisURL string, env []string) (string, *stack.Proc, error) {
	bin, err := exec.LookPath("grafana")
	args := []string{"server"}
	if err != nil {
		if bin, err = exec.LookPath("grafana-server"); err != nil {
			return "Grafana         not installed: point your Grafana at dist/, provisioning/ and dashboards/ (see README)", nil, nil
		}
		args = nil
	}
	home := "/usr/share/grafana"
	plugins := filepath.Join(state, "grafana", "plugins")
	if err := os.MkdirAll(plugins, 0o750); err != nil { // Grafana runs as us here
		return "", nil, err
	}
	link := filepath.Join(plugins, "sview-sentinel-datasource")
	if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
		if err := os.Symlink(filepath.Join(root, "dist"), link); err != nil {
			return "", nil, err
		}
	}
	pg, err := url.Parse(dbURL)
	if err != nil {
		return "", nil, fmt.Errorf("parse database URL: %w", err)
	}
	password, _ := pg.User.Password()
	sslMode := pg.Query().Get("sslmode")
	if sslMode == "" {
		sslMode = "prefer"
	}
	redisAddress := ""
	if redisURL != "" {
		if r, err := url.Parse(redisURL); err == nil {
			redisAddress = r.Host
		}
	}
	genv := append(env,
		// provisioning/datasources/sview.yaml reads these
		"SVIEW_PG_HOST="+pg.Hostname(),
		"SVIEW_PG_PORT="+pg.Port(),
		"SVIEW_PG_DATABASE="+strings.TrimPrefix(pg.Path, "/"),
		"SVIEW_PG_USER="+pg.User.Username(),
		"SVIEW_PG_PASSWORD="+password,
		"SVIEW_PG_SSLMODE="+sslMode,
		"SVIEW_REDIS_ADDRESS="+redisAddress,
		"SVIEW_REDIS_PASSWORD=",
		"SVIEW_ALERT_WEBHOOK_URL=http://127.0.0.1:9/set-SVIEW_ALERT_WEBHOOK_URL",
		"GF_PATHS_DATA="+filepath.Join(state, "grafana", "data"),
		"GF_PATHS_PLUGINS="+plugins,
		"GF_PATHS_PROVISIONING="+filepath.Join(root, "provisioning"),
		"GF_SERVER_HTTP_PORT="+stackGrafanaPort,
		"GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=sview-sentinel-datasource",
		"SVIEW_DASHBOARDS_DIR="+filepath.Join(root, "dashboards"),
	)
	p, err := stackStart(runDir, filepath.Join(state, "logs"), "grafana", genv, append([]string{bin}, append(args, "--homepath", home)...)...)
	if err != nil {
		return "", nil, fmt.Errorf("start grafana: %w", err)
	}
	return "Grafana         http://127.0.0.1:" + stackGrafanaPort + " (admin/admin)  (log .sview/logs/grafana.log)", p, nil
}

func runEnv(env []string, name string, args ...string) error {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return run(m, name, args...)
}
