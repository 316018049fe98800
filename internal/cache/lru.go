package cache

import (
	"context"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// DefaultMemoryEntries bounds the in-process cache when no Redis is configured. A cached
// result is a few KiB, so this stays well under 100 MiB.
const DefaultMemoryEntries = 10_000

// DefaultFallbackEntries bounds the in-process copies kept in front of Redis: the answers a
// process served recently, a few thousand at most on a busy Grafana.
const DefaultFallbackEntries = 2_000

type memItem struct {
	value   []byte
	expires time.Time
}

// Memory is the in-process LRU backend. Its lock is per process; single-flight already makes
// one computation per key here, so Lock always succeeds.
type Memory struct {
	items *lru.Cache[string, memItem]
	now   func() time.Time
	mu    sync.Mutex // serialises Clear against List
}

// NewMemory builds an LRU holding at most size entries (DefaultMemoryEntries when size <= 0).
func NewMemory(size int) (*Memory, error) {
	if size <= 0 {
		size = DefaultMemoryEntries
	}
	items, err := lru.New[string, memItem](size)
	if err != nil {
		return nil, fmt.Errorf("create LRU of %d entries: %w", size, err)
	}
	return &Memory{items: items, now: time.Now}, nil
}

func (m *Memory) Name() string { return "memory" }

func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	it, ok := m.items.Get(key)
	if !ok {
		return nil, false, nil
	}
	if m.now().After(it.expires) {
		m.items.Remove(key)
		return nil, false, nil
	}
	return it.value, true, nil
}

func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.items.Add(key, memItem{value: value, expires: m.now().Add(ttl)})
	return nil
}

func (m *Memory) Lock(context.Context, string, time.Duration) (func(), bool, error) {
	return func() {}, true, nil
}

func (m *Memory) List(_ context.Context, fn func(Listed) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, k := range m.items.Keys() {
		it, ok := m.items.Peek(k)
		if !ok || now.After(it.expires) {
			continue
		}
		h, err := decodeHeader(it.value)
		if err != nil {
			return fmt.Errorf("entry %s: %w", k, err)
		}
		if err := fn(Listed{Key: k, Size: len(it.value), TTL: it.expires.Sub(now), Header: h}); err != nil {
			return err
		}
	}
	return nil
}

func (m *Memory) Clear(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.items.Len()
	m.items.Purge()
	return n, nil
}

func (m *Memory) Ping(context.Context) error { return nil }
func (m *Memory) Close() error               { return nil }
