package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/migrations"
)

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")
	latest := migrations.Latest()
	require.Equal(t, fmt.Sprintf("schema version %d (clean), this build ships %d\n", latest, latest), c.run(cmdMigrate, "version"))

	c.run(cmdMigrate, "down", "1")
	v, dirty, err := migrations.Version(c.url)
	require.NoError(t, err)
	require.False(t, dirty)
	require.Less(t, v, latest, "down 1 reverts the newest migration")
	require.Contains(t, c.run(cmdMigrate, "up"), fmt.Sprintf("schema version %d (clean)", latest))
	require.Contains(t, c.run(cmdMigrate, "force", fmt.Sprint(latest)), fmt.Sprintf("schema version %d", latest))

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sideways"}, "want up, down, version or force"},
		{[]string{"down", "0"}, "N must be a positive number"},
		{[]string{"force"}, "want one version number"},
		{[]string{"force", "x"}, "want one version number"},
	} {
		require.ErrorContains(t, c.call(cmdMigrate, tt.args...), tt.want, "%v", tt.args)
	}

	c.e.databaseURL = ""
	require.ErrorContains(t, c.call(cmdMigrate, "up"), "set SVIEW_DATABASE_URL")
}
