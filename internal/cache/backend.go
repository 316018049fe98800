package cache

import (
	"context"
	"time"
)

// Backend stores encoded entries. Both implementations (Redis and the in-process LRU) are safe
// for concurrent use.
type Backend interface {
	// Name is "redis" or "memory", for status output.
	Name() string
	// Get returns the stored value; ok is false when the key is absent or expired.
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Set stores value for ttl.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Lock tries once to take the computation lock of key for ttl. When acquired, release
	// gives it back (only if it is still ours).
	Lock(ctx context.Context, key string, ttl time.Duration) (release func(), acquired bool, err error)
	// List calls fn for every stored entry.
	List(ctx context.Context, fn func(Listed) error) error
	// Clear deletes every entry and lock of this cache and reports how many keys went.
	Clear(ctx context.Context) (int, error)
	// Ping checks that the backend answers.
	Ping(ctx context.Context) error
	Close() error
}

// Listed is one entry as `sview cache ls` shows it.
type Listed struct {
	Key    string
	Size   int
	TTL    time.Duration
	Header Entry // without the value
}

// Open builds a cache over Redis when rc is given (shared by every process that uses it, with
// an in-process fallback for when it fails), else over an in-process LRU; opts.Backend and
// opts.Fallback are set here.
func Open(rc *RedisConfig, opts Options) (*Cache, error) {
	var err error
	if rc != nil {
		if opts.Fallback, err = NewMemory(DefaultFallbackEntries); err != nil {
			return nil, err
		}
		opts.Backend, err = NewRedis(*rc)
	} else {
		opts.Backend, err = NewMemory(0)
	}
	if err != nil {
		return nil, err
	}
	return New(opts)
}
