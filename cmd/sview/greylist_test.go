package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/greylist"
)

// TestGreylistAndLeakCommands drives the commands of greylist.go end to end on a fresh database.
func TestGreylistAndLeakCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t, `
		INSERT INTO identity (id, sn, device_token) SELECT i, 'sn' || i, repeat('a', 64) FROM generate_series(1, 3) i;
		INSERT INTO incidents (time, identity_id, trap, action, ip)
			SELECT now() - interval '1 hour' * i, 1 + i % 3, 'minipot_ftp', 'login', '192.0.2.7' FROM generate_series(1, 6) i;
		INSERT INTO passwords (time, username, password, trap)
			SELECT now() - interval '1 hour' * i, 'root', 'letmein', 'minipot_ftp' FROM generate_series(1, 4) i`)

	require.Contains(t, c.run(cmdGreylist, "build", "--days", "2"), "1 addresses (1 added, 0 removed)")
	require.Equal(t, greylist.Comment+"\nAddress,Tags\n192.0.2.7,ftp\n", c.run(cmdGreylist, "export"))
	out := filepath.Join(t.TempDir(), "greylist-latest.csv")
	c.run(cmdGreylist, "export", "--out", out)
	body, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, greylist.Comment+"\nAddress,Tags\n192.0.2.7,ftp\n", string(body))
	require.Equal(t, greylist.Comment+"\nAddress,Tags\n", c.run(cmdGreylist, "export", "--date", "2001-01-01"))

	in := filepath.Join(t.TempDir(), "list.csv")
	require.NoError(t, os.WriteFile(in, []byte("Address,Tags\n198.51.100.1,smtp\nnope,ftp\n"), 0o644))
	require.Contains(t, c.run(importGreylist, in), "3 lines, 1 loaded, 1 addresses upserted, 1 bad")
	require.Contains(t, c.stderr.String(), in+`: bad line 3: address "nope"`)

	hibp := filepath.Join(t.TempDir(), "B1D5E.txt") // SHA-1 of "letmein" starts with b7a875fc…, so no overlap
	require.NoError(t, os.WriteFile(hibp, []byte(strings.Repeat("A", 35)+":9\n"), 0o644))
	require.Contains(t, c.run(importPwned, hibp), "(hibp): 1 lines, 1 loaded, 1 hashes merged")
	require.Contains(t, c.run(cmdLeak, "lookup", "b1d5e"), "b1d5e"+strings.Repeat("a", 35)+" 9 \n")

	require.Contains(t, c.run(cmdLeak, "build", "--grace", "1m"), "4 raw rows hashed into 1 hashes")
	require.Equal(t, "b7a875fc1ea228b9061041b7cec4bd3c52ab3ce3 4 ftp\n", c.run(cmdLeak, "lookup", "B7A875"))

	require.ErrorContains(t, c.call(cmdLeak, "lookup", "xyz"), "invalid hash prefix")
	require.ErrorContains(t, c.call(cmdGreylist, "build", "--days", "0"), "want 1 or more")
	require.ErrorContains(t, c.call(cmdGreylist, "export", "--date", "yesterday"), "want YYYY-MM-DD")
	require.ErrorContains(t, c.call(importPwned, "--format", "xml", hibp), "want auto, csv or hibp")
	require.ErrorContains(t, c.call(importPwned), "want 1 argument(s), got 0")
}

func TestParseAll(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		want    int
		wantPos []string
		wantX   bool
		wantErr string
	}{
		{"flags first", []string{"-x", "a", "b"}, 2, []string{"a", "b"}, true, ""},
		{"flags between and after", []string{"a", "-x", "b"}, 2, []string{"a", "b"}, true, ""},
		{"stdin", []string{"-", "-x"}, 1, []string{"-"}, true, ""},
		{"after --", []string{"a", "--", "-x", "-y"}, 3, []string{"a", "-x", "-y"}, false, ""},
		{"too few", []string{"-x"}, 1, nil, true, "want 1 argument(s), got 0"},
		{"too many", []string{"a", "b"}, 1, nil, false, "want 1 argument(s), got 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			x := fs.Bool("x", false, "")
			pos, err := parseAll(fs, c.args, c.want)
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.wantPos, pos)
			require.Equal(t, c.wantX, *x)
		})
	}
}
