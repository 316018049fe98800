package main

import (
	"context"
	"errors"
)

// Placeholder until this area lands; its owner replaces this file.
func cmdServe(context.Context, *env, []string) error   { return errors.New("not built yet") }
func cmdRefresh(context.Context, *env, []string) error { return errors.New("not built yet") }
func cmdCache(context.Context, *env, []string) error   { return errors.New("not built yet") }
