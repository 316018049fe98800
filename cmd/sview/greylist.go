package main

import (
	"context"
	"errors"
)

// Placeholder until this area lands; its owner replaces this file.
func cmdGreylist(context.Context, *env, []string) error    { return errors.New("not built yet") }
func importGreylist(context.Context, *env, []string) error { return errors.New("not built yet") }
func importPwned(context.Context, *env, []string) error    { return errors.New("not built yet") }
