package main

import (
	"context"
	"errors"
)

// Placeholder until this area lands; its owner replaces this file.
func cmdRun(context.Context, *env, []string) error       { return errors.New("not built yet") }
func cmdAggregate(context.Context, *env, []string) error { return errors.New("not built yet") }
func cmdBackfill(context.Context, *env, []string) error  { return errors.New("not built yet") }
func cmdStatus(context.Context, *env, []string) error    { return errors.New("not built yet") }
