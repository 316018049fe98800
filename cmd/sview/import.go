package main

import (
	"context"
	"fmt"
)

func cmdImport(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("import: want geo, greylist, pwned or contacts, then a file")
	}
	switch args[0] {
	case "geo":
		return importGeo(ctx, e, args[1:])
	case "greylist":
		return importGreylist(ctx, e, args[1:])
	case "pwned":
		return importPwned(ctx, e, args[1:])
	case "contacts":
		return importContacts(ctx, e, args[1:])
	}
	return fmt.Errorf("import: unknown kind %q: want geo, greylist, pwned or contacts", args[0])
}
