// Command gpx_sview is the backend of the Sentinel View Grafana datasource; Grafana starts it.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/sview-project/sview/plugin/pkg/plugin"
)

func main() {
	// Manage serves every handler an instance implements: QueryData, CheckHealth, CallResource,
	// and the stream handlers of the live stream (plugin.json "streaming": true; docs/live.md).
	if err := datasource.Manage(plugin.ID, plugin.NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("plugin stopped", "err", err)
		os.Exit(1)
	}
}
