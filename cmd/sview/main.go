// Command sview is the operator CLI of sview: migrations, ingest, the aggregator daemon, the
// public HTTP API and the one-shot maintenance commands. It only wires packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// env is what every subcommand gets: configuration from the environment and the logger.
type env struct {
	databaseURL string
	redisURL    string
	logger      *slog.Logger
	stdout      io.Writer
	stderr      io.Writer
}

type command struct {
	usage   string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"migrate":   {"migrate up|down [N]|version|force V", "apply or revert schema migrations", cmdMigrate},
		"ingest":    {"ingest minipot|fwlogs|faillogs|sshd FILE|- [--follow]", "load probe reports", cmdIngest},
		"import":    {"import geo|greylist|pwned [--format auto|csv|hibp] [--prefix ABCDE] FILE|-", "load geo prefixes, a greylist or leaked passwords", cmdImport},
		"demo":      {"demo seed|live [flags]", "simulate a probe network", cmdDemo},
		"run":       {"run [flags]", "keep rollups, greylist, leaks and cache current (daemon)", cmdRun},
		"aggregate": {"aggregate quarterly|hourly|daily [--from T --to T]", "roll up one precision now", cmdAggregate},
		"backfill":  {"backfill --from T --to T", "roll up a past range at every precision, resumably, then build its twins", cmdBackfill},
		"status":    {"status [--json]", "watermarks, lag, invalidations, twins pending, locks and job results", cmdStatus},
		"greylist":  {"greylist build|export [flags]", "rebuild or export the greylist", cmdGreylist},
		"leak":      {"leak build [--grace D]|lookup PREFIX", "hash captured passwords now, or look up a SHA-1 prefix", cmdLeak},
		"refresh":   {"refresh [--dry-run]", "recompute cached results that are due", cmdRefresh},
		"cache":     {"cache warm|ls|clear [args]", "inspect and fill the query cache", cmdCache},
		"serve":     {"serve [--listen ADDR]", "serve the public HTTP API", cmdServe},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sview:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e := &env{
		databaseURL: os.Getenv("SVIEW_DATABASE_URL"),
		redisURL:    os.Getenv("SVIEW_REDIS_URL"),
		stdout:      stdout,
		stderr:      stderr,
	}
	global := flag.NewFlagSet("sview", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.StringVar(&e.databaseURL, "database-url", e.databaseURL, "PostgreSQL URL (env SVIEW_DATABASE_URL)")
	global.StringVar(&e.redisURL, "redis-url", e.redisURL, "Redis URL; empty keeps the cache in process (env SVIEW_REDIS_URL)")
	logLevel := global.String("log-level", envOr("SVIEW_LOG_LEVEL", "info"), "debug, info, warn or error (env SVIEW_LOG_LEVEL)")
	logFormat := global.String("log-format", envOr("SVIEW_LOG_FORMAT", "text"), "text or json (env SVIEW_LOG_FORMAT)")
	cmds := commands()
	global.Usage = func() { printUsage(stderr, global, cmds) }
	if err := global.Parse(args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	e.logger = logger
	if global.NArg() == 0 {
		global.Usage()
		return errors.New("no command given")
	}
	name := global.Arg(0)
	if name == "help" {
		global.Usage()
		return nil
	}
	cmd, ok := cmds[name]
	if !ok {
		global.Usage()
		return fmt.Errorf("unknown command %q", name)
	}
	return cmd.run(ctx, e, global.Args()[1:])
}

func printUsage(w io.Writer, global *flag.FlagSet, cmds map[string]command) {
	fmt.Fprintln(w, "usage: sview [global flags] COMMAND [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-58s %s\n", cmds[n].usage, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nglobal flags:")
	global.PrintDefaults()
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// requireDatabase returns the configured database URL or a clear error.
func (e *env) requireDatabase() (string, error) {
	if e.databaseURL == "" {
		return "", errors.New("no database configured: set SVIEW_DATABASE_URL or --database-url")
	}
	return e.databaseURL, nil
}

// newFlags builds a subcommand flag set that prints its errors and usage to stderr.
func (e *env) newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("sview "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}
