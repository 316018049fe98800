package cache

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis modes.
const (
	ModeSingle   = "single"
	ModeSentinel = "sentinel"
	ModeCluster  = "cluster"
)

// Modes are the accepted values of RedisConfig.Mode.
var Modes = []string{ModeSingle, ModeSentinel, ModeCluster}

// DefaultKeyPrefix starts every key sview writes, so `cache clear` never touches other data.
const DefaultKeyPrefix = "sview:cache:"

// Errors of Redis configuration.
var (
	ErrRedisMode       = errors.New("redis mode")
	ErrRedisAddress    = errors.New("redis address")
	ErrRedisMasterName = errors.New("redis sentinel master name")
	ErrRedisURL        = errors.New("redis URL")
)

// RedisConfig says how to reach Redis in any of the three topologies.
type RedisConfig struct {
	Mode       string   // single (default), sentinel or cluster
	Addrs      []string // host:port; sentinels in sentinel mode, seed nodes in cluster mode
	MasterName string   // sentinel mode only
	Username   string
	Password   string
	DB         int // single and sentinel mode only
	TLS        bool
	KeyPrefix  string // DefaultKeyPrefix when empty
}

// Validate reports the first bad field by name with its allowed values.
func (c RedisConfig) Validate() error {
	mode := c.mode()
	if !slices.Contains(Modes, mode) {
		return fmt.Errorf("%w %q: want one of %s", ErrRedisMode, c.Mode, strings.Join(Modes, ", "))
	}
	if len(c.Addrs) == 0 {
		return fmt.Errorf("%w: none given, want host:port", ErrRedisAddress)
	}
	for _, a := range c.Addrs {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return fmt.Errorf("%w %q: want host:port", ErrRedisAddress, a)
		}
	}
	if mode == ModeSentinel && c.MasterName == "" {
		return fmt.Errorf("%w: required in sentinel mode", ErrRedisMasterName)
	}
	if mode == ModeSingle && len(c.Addrs) > 1 {
		return fmt.Errorf("%w: %d addresses in single mode, want one (or mode cluster)", ErrRedisAddress, len(c.Addrs))
	}
	return nil
}

func (c RedisConfig) mode() string {
	if c.Mode == "" {
		return ModeSingle
	}
	return c.Mode
}

// ParseRedisURL reads redis://[user:pass@]host:port[/db][?mode=sentinel|cluster&master_name=M&addr=h:p…&key_prefix=P];
// rediss:// turns on TLS. Extra addr parameters add sentinels or cluster seeds; key_prefix
// separates the caches of several sview databases sharing one Redis.
func ParseRedisURL(raw string) (RedisConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return RedisConfig{}, fmt.Errorf("%w: %w", ErrRedisURL, err)
	}
	var c RedisConfig
	switch u.Scheme {
	case "redis":
	case "rediss":
		c.TLS = true
	default:
		return RedisConfig{}, fmt.Errorf("%w scheme %q: want redis:// or rediss://", ErrRedisURL, u.Scheme)
	}
	host := u.Host
	if host != "" && u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "6379")
	}
	if host != "" {
		c.Addrs = append(c.Addrs, host)
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if c.DB, err = strconv.Atoi(p); err != nil || c.DB < 0 {
			return RedisConfig{}, fmt.Errorf("%w database %q: want a number >= 0", ErrRedisURL, p)
		}
	}
	q := u.Query()
	for k := range q {
		if !slices.Contains([]string{"mode", "master_name", "addr", "key_prefix"}, k) {
			return RedisConfig{}, fmt.Errorf("%w parameter %q: want mode, master_name, addr or key_prefix", ErrRedisURL, k)
		}
	}
	c.Mode = q.Get("mode")
	c.MasterName = q.Get("master_name")
	c.Addrs = append(c.Addrs, q["addr"]...)
	c.KeyPrefix = q.Get("key_prefix")
	return c, c.Validate()
}

// Redis is the shared backend: one go-redis UniversalClient for a single node, Sentinel or a
// Cluster. The value and the lock of one key carry the same hash tag, so they live in one slot.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// NewRedis builds the client; it does not connect until first used.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := &redis.UniversalOptions{
		Addrs:         cfg.Addrs,
		Username:      cfg.Username,
		Password:      cfg.Password,
		DB:            cfg.DB,
		ClientName:    "sview",
		IsClusterMode: cfg.mode() == ModeCluster,
		// Short timeouts: when Redis is gone the query falls back to PostgreSQL quickly.
		DialTimeout:  time.Second,
		ReadTimeout:  time.Second,
		WriteTimeout: time.Second,
		MaxRetries:   1,
	}
	if cfg.mode() == ModeSentinel {
		opts.MasterName = cfg.MasterName
		opts.SentinelUsername = cfg.Username
		opts.SentinelPassword = cfg.Password
	}
	if cfg.TLS {
		opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	prefix := cfg.KeyPrefix
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	return &Redis{client: redis.NewUniversalClient(opts), prefix: prefix}, nil
}

func (r *Redis) Name() string { return "redis" }

func (r *Redis) valueKey(key string) string { return r.prefix + "{" + key + "}" }
func (r *Redis) lockKey(key string) string  { return r.prefix + "{" + key + "}:lock" }

func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := r.client.Get(ctx, r.valueKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redis get: %w", err)
	}
	return b, true, nil
}

func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := r.client.Set(ctx, r.valueKey(key), value, ttl).Err(); err != nil {
		return fmt.Errorf("redis set: %w", err)
	}
	return nil
}

// releaseScript deletes the lock only when it still holds our token, so a lock that expired
// and was taken by another process is never released by us.
var releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

func (r *Redis) Lock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	token := hex.EncodeToString(tok)
	lk := r.lockKey(key)
	ok, err := r.client.SetNX(ctx, lk, token, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("redis lock: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	release := func() {
		// A fresh context: the lock must go even when the computation's context was cancelled.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = releaseScript.Run(ctx, r.client, []string{lk}, token).Err()
	}
	return release, true, nil
}

// scan runs fn for every key matching pattern on every master (one node unless clustered).
func (r *Redis) scan(ctx context.Context, pattern string, fn func(ctx context.Context, c redis.Cmdable, key string) error) error {
	each := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, pattern, 500).Iterator()
		for it.Next(ctx) {
			if err := fn(ctx, c, it.Val()); err != nil {
				return err
			}
		}
		return it.Err()
	}
	if cc, ok := r.client.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return each(ctx, c) })
	}
	return each(ctx, r.client)
}

func (r *Redis) List(ctx context.Context, fn func(Listed) error) error {
	return r.scan(ctx, r.prefix+"{*}", func(ctx context.Context, c redis.Cmdable, k string) error {
		b, err := c.Get(ctx, k).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil // expired between SCAN and GET
		}
		if err != nil {
			return fmt.Errorf("redis get %s: %w", k, err)
		}
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			return fmt.Errorf("redis pttl %s: %w", k, err)
		}
		h, err := decodeHeader(b)
		if err != nil {
			return fmt.Errorf("entry %s: %w", k, err)
		}
		key := strings.TrimSuffix(strings.TrimPrefix(k, r.prefix+"{"), "}")
		return fn(Listed{Key: key, Size: len(b), TTL: ttl, Header: h})
	})
}

func (r *Redis) Clear(ctx context.Context) (int, error) {
	n := 0
	err := r.scan(ctx, r.prefix+"*", func(ctx context.Context, c redis.Cmdable, k string) error {
		if err := c.Del(ctx, k).Err(); err != nil {
			return fmt.Errorf("redis del %s: %w", k, err)
		}
		n++
		return nil
	})
	return n, err
}

func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

func (r *Redis) Close() error { return r.client.Close() }
