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
	// actions: the first argument names an action (import geo, cache ls), whose flags are only
	// known once it is chosen, so `sview CMD --help` is answered from usage and summary.
	actions bool
}

func commands() map[string]command {
	return map[string]command{
		"migrate":   {"migrate up|down [N]|version|force V", "apply or revert schema migrations", cmdMigrate, false},
		"ingest":    {"ingest minipot|fwlogs|faillogs|sshd|idea|intelmq|haas FILE|- [--follow]", "load probe reports, IDEA and IntelMQ events, HaaS sessions", cmdIngest, false},
		"import":    {"import geo|greylist|pwned|contacts [--format auto|csv|hibp] [--prefix ABCDE] FILE|-", "load geo prefixes, a greylist, leaked passwords or abuse contacts", cmdImport, true},
		"demo":      {"demo seed|live [flags]", "simulate a probe network", cmdDemo, true},
		"run":       {"run [flags]", "keep rollups, greylist, leaks and cache current (daemon)", cmdRun, false},
		"aggregate": {"aggregate quarterly|hourly|daily [--from T --to T]", "roll up one precision now", cmdAggregate, true},
		"backfill":  {"backfill --from T --to T", "roll up a past range at every precision, resumably, then build its twins", cmdBackfill, false},
		"status":    {"status [--json] [--tables]", "watermarks, lag, invalidations, twins pending, locks and job results; --tables: the derived tables", cmdStatus, false},
		"greylist":  {"greylist build|export [flags]", "rebuild or export the greylist", cmdGreylist, true},
		"leak":      {"leak build [--grace D]|lookup PREFIX", "hash captured passwords now, or look up a SHA-1 prefix", cmdLeak, true},
		"refresh":   {"refresh [--dry-run]", "recompute cached results that are due", cmdRefresh, false},
		"cache":     {"cache warm|ls|clear [args]", "inspect and fill the query cache", cmdCache, true},
		"serve":     {"serve [--listen ADDR]", "serve the public HTTP API", cmdServe, false},
		"report":    {"report [--period 1d|1w|1m] [--dry-run] [--out DIR]", "build and send the due reports to the networks' abuse contacts", cmdReport, false},
		"contacts":  {"contacts ls|lookup ADDRESS|grafana [--out FILE]", "list the abuse contacts, find the one of an address, or route Grafana alerts to them", cmdContacts, true},
		"summary":   {"summary [--month YYYY-MM] --out DIR", "write a month's network summary (Markdown, CSV, PNG charts)", cmdSummary, false},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sview:", err)
		os.Exit(exitCode(err))
	}
}

// Exit codes, listed in the help text and docs/ingest.md.
const (
	exitFailure = 1 // anything that went wrong, usage errors included
	exitNoData  = 3 // sview ingest read its input but loaded no good line
)

// exitError carries an exit code other than exitFailure up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

// wantsHelp reports whether args ask for help (-h, -help or --help before a "--").
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// run runs one command line. Help, asked for with `help`, `help CMD` or -h/--help anywhere, is
// printed to stdout and returns nil.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "help" {
		args = append(args[1:], "--help")
	}
	help := wantsHelp(args)
	if help {
		// usage asked for is output, not a diagnostic
		stderr = stdout
	}
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
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
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
	name, rest := global.Arg(0), global.Args()[1:]
	cmd, ok := cmds[name]
	if !ok {
		global.Usage()
		return fmt.Errorf("unknown command %q", name)
	}
	if help && cmd.actions && (len(rest) == 0 || wantsHelp(rest[:1])) {
		fmt.Fprintf(stdout, "usage: sview %s\n  %s\n  sview %s ACTION --help shows the flags of one action\n", cmd.usage, cmd.summary, name)
		return nil
	}
	err = cmd.run(ctx, e, rest)
	if help && errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
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
	fmt.Fprintln(w, "\n`sview help COMMAND` or `sview COMMAND --help` describes one command.")
	fmt.Fprintf(w, "exit codes: 0 success or help, %d failure (usage errors included), %d ingest loaded no good line\n", exitFailure, exitNoData)
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
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: sview %s [flags]\n", name)
		fs.PrintDefaults()
	}
	return fs
}
