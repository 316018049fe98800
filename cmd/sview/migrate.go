package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/sview-project/sview/migrations"
)

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("migrate")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: sview migrate up | down [N] | version | force VERSION")
		fmt.Fprintln(e.stderr, "  down without N reverts every migration")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !slices.Contains([]string{"up", "down", "version", "force"}, fs.Arg(0)) {
		fs.Usage()
		return fmt.Errorf("migrate: unknown action %q: want up, down, version or force", fs.Arg(0))
	}
	url, err := e.requireDatabase()
	if err != nil {
		return err
	}
	switch fs.Arg(0) {
	case "up":
		if err := migrations.Up(url); err != nil {
			return err
		}
		state, err := migrations.Timescale(ctx, url)
		if err != nil {
			return err
		}
		if advice := state.Advice(); advice != "" {
			e.logger.Warn(advice)
		}
		return printVersion(e, url)
	case "down":
		steps := 0
		if fs.NArg() > 1 {
			if steps, err = strconv.Atoi(fs.Arg(1)); err != nil || steps < 1 {
				return fmt.Errorf("migrate down: N must be a positive number, got %q", fs.Arg(1))
			}
		}
		if err := migrations.Down(url, steps); err != nil {
			return err
		}
		return printVersion(e, url)
	case "version":
		return printVersion(e, url)
	}
	// force
	v, err := strconv.Atoi(fs.Arg(1))
	if err != nil || fs.NArg() != 2 {
		return fmt.Errorf("migrate force: want one version number, got %q", fs.Args()[1:])
	}
	if err := migrations.Force(url, v); err != nil {
		return err
	}
	return printVersion(e, url)
}

func printVersion(e *env, url string) error {
	v, dirty, err := migrations.Version(url)
	if err != nil {
		return err
	}
	state := "clean"
	if dirty {
		state = "dirty"
	}
	fmt.Fprintf(e.stdout, "schema version %d (%s), this build ships %d\n", v, state, migrations.Latest())
	return nil
}
