package paneltest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// pending names queries the dashboards and alert rules need that the backend does not answer
// yet, with what is missing. A test runs them anyway: while they fail it skips them with this
// reason, and once they pass it fails until the entry is removed, so nothing stays excused
// after it works.
var pending = []struct {
	match  func(q map[string]any) bool
	reason string
}{
	{
		match: func(q map[string]any) bool { return q["queryType"] == "greylist" && q["format"] == "timeseries" },
		reason: "greylist size per day (queryType greylist, format timeseries): internal/query drops format for " +
			"greylist queries and plugin/pkg/plugin greylistFrames answers only the list; it needs a frame " +
			"time + size per snapshot day from greylist.Sizes over the period or range",
	},
}

// pendingReason is the reason a query cannot be answered yet, or "".
func pendingReason(raw json.RawMessage) string {
	var q map[string]any
	if json.Unmarshal(raw, &q) != nil {
		return ""
	}
	for _, p := range pending {
		if p.match(q) {
			return p.reason
		}
	}
	return ""
}

// Require fails t unless err (the outcome of running and checking raw) is nil, except that a
// pending query skips while it fails and fails once it works.
func Require(t testing.TB, raw json.RawMessage, err error) {
	t.Helper()
	reason := pendingReason(raw)
	switch {
	case reason == "":
		require.NoError(t, err, "%s", raw)
	case err == nil:
		t.Fatalf("the backend now answers this query; remove its entry from paneltest.pending: %s", reason)
	default:
		t.Skipf("pending backend support: %s (now: %v)", reason, err)
	}
}
