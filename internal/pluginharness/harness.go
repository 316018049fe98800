// Package pluginharness starts the built gpx_sview binary the way Grafana does (a hashicorp
// go-plugin client with the SDK's handshake, gRPC only) and calls its v2 services, so tests can
// run CheckHealth, QueryData and CallResource against the real plugin process without Grafana.
package pluginharness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// PluginID is the id Grafana passes in every PluginContext.
const PluginID = "sview-sentinel-datasource"

// BinaryName is the file name Grafana looks for next to plugin.json on this platform.
func BinaryName() string { return "gpx_sview_" + runtime.GOOS + "_" + runtime.GOARCH }

// Build compiles the plugin backend into dir with the flags of the SDK's build (static,
// arrow_json_stdlib) and returns the binary's path. root is the module root.
func Build(ctx context.Context, root, dir string) (string, error) {
	out := filepath.Join(dir, BinaryName())
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "arrow_json_stdlib", "-o", out, "./plugin/pkg") // #nosec G204 -- go build of our own plugin into the caller's directory
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the plugin: %w\n%s", err, b)
	}
	return out, nil
}

// Plugin is one running plugin process.
type Plugin struct {
	client   *goplugin.Client
	data     pluginv2.DataClient
	diag     pluginv2.DiagnosticsClient
	resource pluginv2.ResourceClient
	stream   pluginv2.StreamClient
}

// Start launches binary as Grafana does and connects to its services. log receives the
// plugin's own log output (nil discards it).
func Start(binary string, log io.Writer) (*Plugin, error) {
	return StartCommand(Command(binary), log)
}

// Command is the command Start runs: binary with the environment Grafana gives a plugin.
func Command(binary string) *exec.Cmd {
	cmd := exec.Command(binary)
	// Grafana passes its version and a minimal environment; the plugin must not rely on more.
	cmd.Env = append(os.Environ(), "GF_VERSION=12.3.0", "GF_EDITION=oss")
	return cmd
}

// StartCommand is Start for a command prepared by the caller (a process group, a directory).
// The plugin host owns cmd from here on: it starts, waits for and stops it.
func StartCommand(cmd *exec.Cmd, log io.Writer) (*Plugin, error) {
	if log == nil {
		log = io.Discard
	}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{
			grpcplugin.ProtocolVersion: {
				"data":        &grpcplugin.DataGRPCPlugin{},
				"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
				"resource":    &grpcplugin.ResourceGRPCPlugin{},
				"stream":      &grpcplugin.StreamGRPCPlugin{},
			},
		},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Managed:          false,
		Stderr:           log,
		SyncStderr:       log,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin-host", Output: log, Level: hclog.Warn}),
	})
	p := &Plugin{client: client}
	if err := p.connect(); err != nil {
		client.Kill()
		return nil, err
	}
	return p, nil
}

func (p *Plugin) connect() error {
	rpc, err := p.client.Client()
	if err != nil {
		return fmt.Errorf("start the plugin (handshake): %w", err)
	}
	dispense := func(name string) (any, error) {
		v, err := rpc.Dispense(name)
		if err != nil {
			return nil, fmt.Errorf("dispense %s: %w", name, err)
		}
		return v, nil
	}
	var ok bool
	v, err := dispense("data")
	if err != nil {
		return err
	}
	if p.data, ok = v.(pluginv2.DataClient); !ok {
		return fmt.Errorf("data service: unexpected client %T", v)
	}
	if v, err = dispense("diagnostics"); err != nil {
		return err
	}
	if p.diag, ok = v.(pluginv2.DiagnosticsClient); !ok {
		return fmt.Errorf("diagnostics service: unexpected client %T", v)
	}
	if v, err = dispense("resource"); err != nil {
		return err
	}
	if p.resource, ok = v.(pluginv2.ResourceClient); !ok {
		return fmt.Errorf("resource service: unexpected client %T", v)
	}
	if v, err = dispense("stream"); err != nil {
		return err
	}
	if p.stream, ok = v.(pluginv2.StreamClient); !ok {
		return fmt.Errorf("stream service: unexpected client %T", v)
	}
	return nil
}

// Close stops the plugin process the way Grafana does on shutdown.
func (p *Plugin) Close() { p.client.Kill() }

// Exited reports whether the plugin process has gone.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// PluginContext is what Grafana sends with every call for one datasource: its settings with
// jsonData and the decrypted secureJsonData.
func PluginContext(uid string, jsonData []byte, secure map[string]string) backend.PluginContext {
	return backend.PluginContext{
		Namespace: "default", // org 1's; the SDK deprecates OrgID, which nothing here reads
		PluginID:  PluginID,
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			ID: 1, UID: uid, Name: "Sentinel View", Type: PluginID,
			JSONData: jsonData, DecryptedSecureJSONData: secure,
		},
	}
}

// QueryData sends a query request over gRPC.
func (p *Plugin) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp, err := p.data.QueryData(ctx, backend.ToProto().QueryDataRequest(req))
	if err != nil {
		return nil, fmt.Errorf("QueryData: %w", err)
	}
	return backend.FromProto().QueryDataResponse(resp)
}

// CheckHealth asks for the health of the datasource in pc.
func (p *Plugin) CheckHealth(ctx context.Context, pc backend.PluginContext) (*backend.CheckHealthResult, error) {
	resp, err := p.diag.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(pc)})
	if err != nil {
		return nil, fmt.Errorf("CheckHealth: %w", err)
	}
	return backend.FromProto().CheckHealthResponse(resp), nil
}

// CallResource sends a resource request and gathers the streamed answer into one response.
func (p *Plugin) CallResource(ctx context.Context, req *backend.CallResourceRequest) (*backend.CallResourceResponse, error) {
	stream, err := p.resource.CallResource(ctx, backend.ToProto().CallResourceRequest(req))
	if err != nil {
		return nil, fmt.Errorf("CallResource: %w", err)
	}
	var out *backend.CallResourceResponse
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("CallResource: %w", err)
		}
		part := backend.FromProto().CallResourceResponse(msg)
		if out == nil {
			out = part
			continue
		}
		out.Body = append(out.Body, part.Body...)
	}
	if out == nil {
		return nil, errors.New("CallResource: the plugin sent no response")
	}
	return out, nil
}

// SubscribeStream asks whether the user of req may join a channel, as Grafana Live does first.
func (p *Plugin) SubscribeStream(ctx context.Context, req *backend.SubscribeStreamRequest) (backend.SubscribeStreamStatus, error) {
	resp, err := p.stream.SubscribeStream(ctx, backend.ToProto().SubscribeStreamRequest(req))
	if err != nil {
		return 0, fmt.Errorf("SubscribeStream: %w", err)
	}
	return backend.SubscribeStreamStatus(resp.Status), nil
}

// RunStream starts a channel's stream, as Grafana Live does for its first subscriber; recv
// returns the packets' data until ctx ends the stream.
func (p *Plugin) RunStream(ctx context.Context, req *backend.RunStreamRequest) (recv func() ([]byte, error), err error) {
	s, err := p.stream.RunStream(ctx, backend.ToProto().RunStreamRequest(req))
	if err != nil {
		return nil, fmt.Errorf("RunStream: %w", err)
	}
	return func() ([]byte, error) {
		pk, err := s.Recv()
		if err != nil {
			return nil, err
		}
		return pk.Data, nil
	}, nil
}
