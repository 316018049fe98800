//go:build mage

package main

import (
	"context"
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
	stackDemoPerDay   = 200000
	stackLiveRate     = 20
)

// Up runs the whole system locally until Ctrl-C: PostgreSQL (SVIEW_DATABASE_URL, or a private
// cluster under ./.sview), Redis (SVIEW_REDIS_URL, or a private one when redis-server is
// installed), migrations, 7 days of demo data when the database is empty, the live simulator,
// the aggregator (`sview run`), the public API (`sview serve`), the plugin backend in standalone
// mode and, when one is installed, a Grafana server provisioned from this repository.
func Up(ctx context.Context) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	state := filepath.Join(root, ".sview")
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		fmt.Println("stopped everything mage up started")
	}()
	var started []string

	dbURL := os.Getenv("SVIEW_DATABASE_URL")
	if dbURL == "" {
		dbURL, err = stackPostgres(ctx, filepath.Join(state, "postgres"), &stops)
		if err != nil {
			return err
		}
		started = append(started, "PostgreSQL      "+dbURL+"  (data in .sview/postgres)")
	}
	redisURL := os.Getenv("SVIEW_REDIS_URL")
	if redisURL == "" {
		if _, err := exec.LookPath("redis-server"); err == nil {
			s, err := devserver.Redis(ctx, filepath.Join(state, "redis"), stackRedisPort)
			if err != nil {
				return err
			}
			stops = append(stops, func() { _ = s.Stop() })
			redisURL = s.URL
			started = append(started, "Redis           "+redisURL)
		} else {
			started = append(started, "cache           in process (no redis-server installed)")
		}
	}

	bin := filepath.Join(state, "bin")
	fmt.Println("building sview and the plugin backend …")
	if err := run(nil, "go", "build", "-o", filepath.Join(bin, "sview"), "./cmd/sview"); err != nil {
		return err
	}
	if err := stackPluginBuild(root); err != nil {
		return err
	}
	env := []string{"SVIEW_DATABASE_URL=" + dbURL, "SVIEW_REDIS_URL=" + redisURL}
	sview := filepath.Join(bin, "sview")

	if err := runEnv(env, sview, "migrate", "up"); err != nil {
		return err
	}
	empty, err := stackDatabaseEmpty(ctx, dbURL)
	if err != nil {
		return err
	}
	if empty {
		fmt.Printf("database is empty: seeding %d days of demo data at %d incidents/day …\n", stackDemoDays, stackDemoPerDay)
		if err := runEnv(env, sview, "demo", "seed", "--days", fmt.Sprint(stackDemoDays), "--per-day", fmt.Sprint(stackDemoPerDay)); err != nil {
			return err
		}
	}

	logs := filepath.Join(state, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	procs := []struct {
		name, what string
		args       []string
	}{
		{"live", fmt.Sprintf("demo live       %d events/s", stackLiveRate), []string{sview, "demo", "live", "--rate", fmt.Sprint(stackLiveRate)}},
		{"run", "aggregator      metrics on http://" + stackMetrics + "/metrics", []string{sview, "run", "--metrics-listen", stackMetrics}},
		{"serve", "public API      http://" + stackAPIListen + "  (/healthz, /passcheck/apiv1/, /range/{prefix}, /greylist-latest.csv, /api/resource)", []string{sview, "serve", "--listen", stackAPIListen}},
		{"plugin", "plugin backend  standalone; gRPC address in dist/standalone.txt", []string{filepath.Join(root, "dist", "gpx_sview_linux_amd64"), "-standalone"}},
	}
	for _, p := range procs {
		stop, err := stackStart(ctx, root, env, filepath.Join(logs, p.name+".log"), p.args...)
		if err != nil {
			return fmt.Errorf("start %s: %w", p.name, err)
		}
		stops = append(stops, stop)
		started = append(started, p.what+"  (log .sview/logs/"+p.name+".log)")
	}
	if g, err := stackGrafana(ctx, root, state, dbURL, redisURL, env, &stops); err != nil {
		return err
	} else {
		started = append(started, g)
	}

	time.Sleep(2 * time.Second)
	fmt.Println("\nsview is up:")
	for _, s := range started {
		fmt.Println("  " + s)
	}
	if addr, err := os.ReadFile(filepath.Join(root, "dist", "standalone.txt")); err == nil {
		fmt.Println("  plugin gRPC     " + strings.TrimSpace(string(addr)))
	}
	fmt.Println("\nCtrl-C stops everything.")
	<-ctx.Done()
	return nil
}

func stackPostgres(ctx context.Context, dir string, stops *[]func()) (string, error) {
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/sview?sslmode=disable", stackPostgresPort)
	if devserver.Answers(fmt.Sprintf("127.0.0.1:%d", stackPostgresPort)) {
		return "", fmt.Errorf("port %d is taken: is another `mage up` running? stop it or set SVIEW_DATABASE_URL", stackPostgresPort)
	}
	s, err := devserver.Postgres(ctx, dir, stackPostgresPort)
	if err != nil {
		return "", err
	}
	*stops = append(*stops, func() {
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	})
	c, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	var exists bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'sview')").Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := c.Exec(ctx, "CREATE DATABASE sview"); err != nil {
			return "", err
		}
	}
	return url, nil
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

// stackPluginBuild builds the linux backend binary and puts plugin.json beside it, which is all
// standalone mode needs.
func stackPluginBuild(root string) error {
	dist := filepath.Join(root, "dist")
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return err
	}
	if err := run(nil, "go", "build", "-o", filepath.Join(dist, "gpx_sview_linux_amd64"), "./plugin/pkg"); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dist, "plugin.json")); err == nil {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(root, "plugin", "src", "plugin.json"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dist, "plugin.json"), b, 0o644)
}

// stackStart runs a long-lived process with its output in logFile; the returned stop sends
// SIGTERM and waits, so every part shuts down cleanly.
func stackStart(ctx context.Context, dir string, env []string, logFile string, args ...string) (func(), error) {
	out, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	// Own process group: Ctrl-C reaches mage, which then stops each child in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); out.Close() }()
	select {
	case err := <-done:
		log, _ := os.ReadFile(logFile)
		return nil, fmt.Errorf("exited at once (%v):\n%s", err, log)
	case <-time.After(500 * time.Millisecond):
	}
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(4 * time.Second):
			_ = cmd.Process.Kill()
		}
	}, nil
}

// stackGrafana starts a Grafana server provisioned from this repository when one is installed.
func stackGrafana(ctx context.Context, root, state, dbURL, redisURL string, env []string, stops *[]func()) (string, error) {
	bin, err := exec.LookPath("grafana")
	args := []string{"server"}
	if err != nil {
		if bin, err = exec.LookPath("grafana-server"); err != nil {
			return "Grafana         not installed: point your Grafana at dist/, provisioning/ and dashboards/ (see README)", nil
		}
		args = nil
	}
	home := "/usr/share/grafana"
	plugins := filepath.Join(state, "grafana", "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		return "", err
	}
	link := filepath.Join(plugins, "sview-sentinel-datasource")
	if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
		if err := os.Symlink(filepath.Join(root, "dist"), link); err != nil {
			return "", err
		}
	}
	pg, err := url.Parse(dbURL)
	if err != nil {
		return "", fmt.Errorf("parse database URL: %w", err)
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
	stop, err := stackStart(ctx, root, genv, filepath.Join(state, "logs", "grafana.log"), append([]string{bin}, append(args, "--homepath", home)...)...)
	if err != nil {
		return "", fmt.Errorf("start grafana: %w", err)
	}
	*stops = append(*stops, stop)
	return "Grafana         http://127.0.0.1:" + stackGrafanaPort + " (admin/admin)", nil
}

func runEnv(env []string, name string, args ...string) error {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return run(m, name, args...)
}
