package leak

import (
	"testing"

	"go.uber.org/goleak"
)

// The builder tests run writers and builders in goroutines; none may outlive its test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
