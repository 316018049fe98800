//go:build mage

package main

import (
	"context"
	"fmt"
)

// Gosec runs the gosec security scanner over every package, these magefiles included (tag
// mage), and fails on any finding that is neither fixed nor justified in a
// `// #nosec Gxxx -- why` comment. Test files are not scanned (gosec's default): they run
// fixed fixtures against throw-away servers. No rule is excluded. gosec is installed by goTool
// (mage_tools.go).
func Gosec(ctx context.Context) error {
	bin, err := gosecBinary()
	if err != nil {
		return err
	}
	// -exclude-generated: the SDK's generated protobuf code is not ours.
	if err := run(nil, bin, "-quiet", "-tags", "mage", "-exclude-generated", "-fmt", "text", "./..."); err != nil {
		return fmt.Errorf("gosec found problems (fix them, or justify each with // #nosec Gxxx -- why): %w", err)
	}
	return nil
}
