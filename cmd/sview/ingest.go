package main

import (
	"context"
	"errors"
)

// Placeholder until this area lands; its owner replaces this file.
func cmdIngest(context.Context, *env, []string) error { return errors.New("not built yet") }
func cmdDemo(context.Context, *env, []string) error   { return errors.New("not built yet") }
func importGeo(context.Context, *env, []string) error { return errors.New("not built yet") }
