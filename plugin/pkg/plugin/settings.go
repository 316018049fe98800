package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/engine"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/store"
)

// Defaults of the datasource settings.
const (
	DefaultPort         = 5432
	DefaultSSLMode      = "prefer"
	DefaultQueryTimeout = 60 * time.Second
	MaxQueryTimeout     = time.Hour
)

// SSLModes are libpq's TLS modes.
var SSLModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// jsonData is the plain part of the configuration, with the names the config editor
// (plugin/src/types.ts SviewOptions) writes.
type jsonData struct {
	Host           string            `json:"host"`
	Port           looseNumber       `json:"port"`
	Database       string            `json:"database"`
	User           string            `json:"user"`
	SSLMode        string            `json:"sslMode"`
	ReadReplicaURL string            `json:"readReplicaUrl"`
	ReadFallback   string            `json:"readReplicaFallback"` // primary (default) or none
	RedisAddress   string            `json:"redisAddress"`        // host:port, several comma-separated
	RedisMode      string            `json:"redisMode"`
	RedisMaster    string            `json:"redisMasterName"`
	RedisUser      string            `json:"redisUser"`
	RedisDB        int               `json:"redisDB"`
	RedisTLS       bool              `json:"redisTLS"`
	RedisPrefix    string            `json:"redisKeyPrefix"`
	QueryTimeout   looseNumber       `json:"queryTimeoutSeconds"`
	MaxRows        int               `json:"maxRows"`
	CacheTTL       map[string]string `json:"cacheTtlOverrides"` // period → Go duration
	// Who may see what (scope.go); a nil Scopes is the default rules, an empty list nothing.
	Scopes     *[]scopeRule        `json:"scopes"`
	Teams      map[string][]string `json:"teams"` // team name → logins
	AlertScope *scopeRule          `json:"alertScope"`
}

// looseNumber takes a JSON number or string as text, so a value typed into a text field is
// validated (and named in the error) rather than failing the whole document.
type looseNumber string

func (n *looseNumber) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*n = looseNumber(strings.TrimSpace(s))
		return nil
	}
	var num json.Number
	if err := json.Unmarshal(b, &num); err != nil {
		return err
	}
	*n = looseNumber(num)
	return nil
}

// Settings is the validated configuration of one datasource instance.
type Settings struct {
	DatabaseURL  string // primary: schema checks
	ReadURL      string // where queries go: the replica when set, else the primary
	ReadFallback string // while the replica is down: store.FallbackPrimary or FallbackNone
	Redis        *cache.RedisConfig
	QueryTimeout time.Duration
	MaxRows      int
	CacheTTL     map[string]time.Duration
	Access       Access
}

// LoadSettings parses and validates the instance settings.
func LoadSettings(_ context.Context, s backend.DataSourceInstanceSettings) (Settings, error) {
	var j jsonData
	if len(s.JSONData) > 0 {
		if err := json.Unmarshal(s.JSONData, &j); err != nil {
			return Settings{}, fmt.Errorf("%w: %w", ErrInvalidJSONData, err)
		}
	}
	return j.settings(s.DecryptedSecureJSONData)
}

func (j jsonData) settings(secure map[string]string) (Settings, error) {
	host := strings.TrimSpace(j.Host)
	if host == "" || strings.ContainsAny(host, " /?#@") {
		return Settings{}, fmt.Errorf("%w %q: want a host name or address, without port or scheme", ErrInvalidHost, j.Host)
	}
	port := DefaultPort
	if j.Port != "" {
		p, err := strconv.Atoi(string(j.Port))
		if err != nil || p < 1 || p > 65535 {
			return Settings{}, fmt.Errorf("%w %q: want 1 to 65535", ErrInvalidPort, j.Port)
		}
		port = p
	}
	if j.Database == "" {
		return Settings{}, fmt.Errorf("%w: name the database sview migrated", ErrMissingDatabase)
	}
	if j.User == "" {
		return Settings{}, fmt.Errorf("%w: a login with the sview_reader role", ErrMissingUser)
	}
	ssl := j.SSLMode
	if ssl == "" {
		ssl = DefaultSSLMode
	}
	if !slices.Contains(SSLModes, ssl) {
		return Settings{}, fmt.Errorf("%w %q: want one of %s", ErrInvalidSSLMode, j.SSLMode, strings.Join(SSLModes, ", "))
	}
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: "/" + j.Database,
		RawQuery: url.Values{"sslmode": {ssl}}.Encode()}
	if pw := secure["password"]; pw != "" {
		u.User = url.UserPassword(j.User, pw)
	} else {
		u.User = url.User(j.User)
	}
	out := Settings{DatabaseURL: u.String(), ReadURL: u.String(), QueryTimeout: DefaultQueryTimeout, MaxRows: engine.DefaultMaxRows}

	if j.ReadReplicaURL != "" {
		r, err := url.Parse(j.ReadReplicaURL)
		if err != nil || (r.Scheme != "postgres" && r.Scheme != "postgresql") || r.Host == "" {
			return Settings{}, fmt.Errorf("%w: want postgres://user@host:port/database", ErrInvalidReplicaURL)
		}
		if _, has := r.User.Password(); r.User != nil && has {
			return Settings{}, fmt.Errorf("%w: put the password in the secure field, not in the URL", ErrInvalidReplicaURL)
		}
		if r.User == nil {
			r.User = url.User(j.User)
		}
		if pw := secure["readReplicaPassword"]; pw != "" {
			r.User = url.UserPassword(r.User.Username(), pw)
		} else if pw := secure["password"]; pw != "" {
			r.User = url.UserPassword(r.User.Username(), pw)
		}
		out.ReadURL = r.String()
	}
	switch j.ReadFallback {
	case "", store.FallbackPrimary:
		out.ReadFallback = store.FallbackPrimary
	case store.FallbackNone:
		out.ReadFallback = store.FallbackNone
	default:
		return Settings{}, fmt.Errorf("%w: fallback %q, want %s (reads go to the primary while the replica is down) or %s (they fail)",
			ErrInvalidReplicaURL, j.ReadFallback, store.FallbackPrimary, store.FallbackNone)
	}

	if j.RedisAddress != "" {
		rc := cache.RedisConfig{Mode: j.RedisMode, MasterName: j.RedisMaster, Username: j.RedisUser,
			Password: secure["redisPassword"], DB: j.RedisDB, TLS: j.RedisTLS, KeyPrefix: j.RedisPrefix}
		for a := range strings.SplitSeq(j.RedisAddress, ",") {
			rc.Addrs = append(rc.Addrs, strings.TrimSpace(a))
		}
		if err := rc.Validate(); err != nil {
			return Settings{}, fmt.Errorf("%w: %w", ErrInvalidRedis, err)
		}
		out.Redis = &rc
	} else if j.RedisMode != "" || j.RedisMaster != "" {
		return Settings{}, fmt.Errorf("%w: mode or master name given without an address", ErrInvalidRedis)
	}

	if j.QueryTimeout != "" {
		secs, err := strconv.ParseFloat(string(j.QueryTimeout), 64)
		d := time.Duration(secs * float64(time.Second))
		if err != nil || d <= 0 || d > MaxQueryTimeout {
			return Settings{}, fmt.Errorf("%w %q: want seconds, more than 0 and at most %d", ErrInvalidTimeout, j.QueryTimeout, int(MaxQueryTimeout.Seconds()))
		}
		out.QueryTimeout = d
	}
	if j.MaxRows < 0 {
		return Settings{}, fmt.Errorf("%w %d: want a positive number, or 0 for the default %d", ErrInvalidMaxRows, j.MaxRows, engine.DefaultMaxRows)
	}
	if j.MaxRows > 0 {
		out.MaxRows = j.MaxRows
	}
	for name, v := range j.CacheTTL {
		if _, ok := period.Lookup(name); !ok {
			return Settings{}, fmt.Errorf("%w: period %q, want one of %s", ErrInvalidCacheTTL, name, strings.Join(period.Names(), ", "))
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Settings{}, fmt.Errorf("%w for %s: %q, want a duration such as 10m", ErrInvalidCacheTTL, name, v)
		}
		if out.CacheTTL == nil {
			out.CacheTTL = map[string]time.Duration{}
		}
		out.CacheTTL[name] = d
	}
	a, err := newAccess(j.Scopes, j.Teams, j.AlertScope)
	if err != nil {
		return Settings{}, err
	}
	out.Access = a
	return out, nil
}
