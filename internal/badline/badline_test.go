package badline

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var errBroken = errors.New("broken")

func TestCollector(t *testing.T) {
	cases := []struct {
		name      string
		keep      int
		add       int
		wantKept  int
		wantPrint string
	}{
		{"none", 2, 0, 0, ""},
		{"under the bound", 3, 2, 2, "f: bad line 1: broken\nf: bad line 2: broken\n"},
		{"over the bound", 2, 5, 2, "f: bad line 1: broken\nf: bad line 2: broken\nf: … and 3 more bad lines\n"},
		{"default bound", 0, DefaultKeep + 1, DefaultKeep, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			col := NewCollector(c.keep)
			for i := range c.add {
				col.Add(int64(i+1), errBroken)
			}
			require.EqualValues(t, c.add, col.Count())
			require.Len(t, col.Lines(), c.wantKept)
			for i, l := range col.Lines() {
				require.EqualValues(t, i+1, l.Number)
				require.ErrorIs(t, l, errBroken)
			}
			if c.wantPrint != "" {
				var sb strings.Builder
				Print(&sb, "f: ", col.Lines(), col.Count())
				require.Equal(t, c.wantPrint, sb.String())
			}
		})
	}
}

func TestPrintShorterKept(t *testing.T) {
	col := NewCollector(10)
	for i := range 4 {
		col.Add(int64(10*i), errBroken)
	}
	var sb strings.Builder
	Print(&sb, "  ", col.Lines()[:1], col.Count())
	require.Equal(t, "  bad line 0: broken\n  … and 3 more bad lines\n", sb.String())
}
