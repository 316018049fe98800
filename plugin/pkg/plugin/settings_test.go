package plugin

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/cache"
)

func TestLoadSettings(t *testing.T) {
	base := map[string]any{"host": "db.example", "database": "sview", "user": "grafana"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		json    map[string]any
		secure  map[string]string
		wantErr error
		check   func(t *testing.T, s Settings)
	}{
		{name: "minimal", json: base, secure: map[string]string{"password": "p@ss"}, check: func(t *testing.T, s Settings) {
			require.Equal(t, "postgres://grafana:p%40ss@db.example:5432/sview?sslmode=prefer", s.DatabaseURL)
			require.Equal(t, s.DatabaseURL, s.ReadURL)
			require.Equal(t, "primary", s.ReadFallback)
			require.Nil(t, s.Redis)
			require.Equal(t, DefaultQueryTimeout, s.QueryTimeout)
			require.Equal(t, 100_000, s.MaxRows)
		}},
		{name: "port as string", json: with("port", "6432"), check: func(t *testing.T, s Settings) {
			require.Contains(t, s.DatabaseURL, "db.example:6432")
		}},
		{name: "replica inherits user and password", json: with("readReplicaUrl", "postgres://replica:5432/sview?sslmode=require"),
			secure: map[string]string{"password": "pw"}, check: func(t *testing.T, s Settings) {
				require.Equal(t, "postgres://grafana:pw@replica:5432/sview?sslmode=require", s.ReadURL)
			}},
		{name: "replica without fallback", json: with("readReplicaUrl", "postgres://replica/sview", "readReplicaFallback", "none"),
			check: func(t *testing.T, s Settings) { require.Equal(t, "none", s.ReadFallback) }},
		{name: "redis sentinel", json: with("redisAddress", "s1:26379, s2:26379", "redisMode", "sentinel", "redisMasterName", "mymaster"),
			secure: map[string]string{"redisPassword": "r"}, check: func(t *testing.T, s Settings) {
				require.Equal(t, &cache.RedisConfig{Mode: "sentinel", MasterName: "mymaster", Addrs: []string{"s1:26379", "s2:26379"}, Password: "r"}, s.Redis)
			}},
		{name: "timeouts and overrides", json: with("queryTimeoutSeconds", 30, "maxRows", 500, "cacheTtlOverrides", map[string]string{"1w": "1h", "1h": "90s"}),
			check: func(t *testing.T, s Settings) {
				require.Equal(t, 30*time.Second, s.QueryTimeout)
				require.Equal(t, 500, s.MaxRows)
				require.Equal(t, map[string]time.Duration{"1w": time.Hour, "1h": 90 * time.Second}, s.CacheTTL)
			}},
		{name: "no host", json: with("host", ""), wantErr: ErrInvalidHost},
		{name: "host with port", json: with("host", "db/x"), wantErr: ErrInvalidHost},
		{name: "bad port", json: with("port", 70000), wantErr: ErrInvalidPort},
		{name: "port not a number", json: with("port", "fifty"), wantErr: ErrInvalidPort},
		{name: "no database", json: with("database", ""), wantErr: ErrMissingDatabase},
		{name: "no user", json: with("user", ""), wantErr: ErrMissingUser},
		{name: "bad sslmode", json: with("sslMode", "on"), wantErr: ErrInvalidSSLMode},
		{name: "replica not postgres", json: with("readReplicaUrl", "mysql://x/y"), wantErr: ErrInvalidReplicaURL},
		{name: "replica fallback unknown", json: with("readReplicaFallback", "sometimes"), wantErr: ErrInvalidReplicaURL},
		{name: "replica with password", json: with("readReplicaUrl", "postgres://u:pw@x/y"), wantErr: ErrInvalidReplicaURL},
		{name: "redis bad mode", json: with("redisAddress", "r:6379", "redisMode", "ring"), wantErr: ErrInvalidRedis},
		{name: "redis bad address", json: with("redisAddress", "redis"), wantErr: ErrInvalidRedis},
		{name: "redis mode without address", json: with("redisMode", "cluster"), wantErr: ErrInvalidRedis},
		{name: "bad timeout", json: with("queryTimeoutSeconds", "soon"), wantErr: ErrInvalidTimeout},
		{name: "timeout too long", json: with("queryTimeoutSeconds", 7200), wantErr: ErrInvalidTimeout},
		{name: "negative max rows", json: with("maxRows", -1), wantErr: ErrInvalidMaxRows},
		{name: "ttl for unknown period", json: with("cacheTtlOverrides", map[string]string{"2w": "1h"}), wantErr: ErrInvalidCacheTTL},
		{name: "bad ttl", json: with("cacheTtlOverrides", map[string]string{"1w": "-1h"}), wantErr: ErrInvalidCacheTTL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.json)
			require.NoError(t, err)
			s, err := LoadSettings(context.Background(), backend.DataSourceInstanceSettings{JSONData: b, DecryptedSecureJSONData: tt.secure})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, s)
		})
	}
	_, err := LoadSettings(context.Background(), backend.DataSourceInstanceSettings{JSONData: []byte(`{"host":`)})
	require.ErrorIs(t, err, ErrInvalidJSONData)
}
