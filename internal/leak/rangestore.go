package leak

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Defaults of RangeStore.
const (
	// DefaultRangeCacheBytes holds every prefix of a table of about 2.5M hashes (docs/leak.md).
	DefaultRangeCacheBytes = 256 << 20
	// DefaultRangeRefresh is how often the store looks for a new leak build or import; with it,
	// an answer is at most this much older than the table (plus the build's own commit).
	DefaultRangeRefresh = 15 * time.Second
)

// rangePrefixes is the number of 5-hex prefixes, 16^5.
const rangePrefixes = 1 << 20

// rangeEntryOverhead is what an entry costs besides its body: the struct, the ETag text and the
// allocator's rounding (measured by BenchmarkRangeHotPath: the heap grows by this much per
// non-empty prefix beyond the bodies).
const rangeEntryOverhead = 120

// RangeStoreOptions configure a RangeStore; zero values take the defaults.
type RangeStoreOptions struct {
	MaxBytes int64         // bound of the cached bodies (DefaultRangeCacheBytes)
	Refresh  time.Duration // poll interval of the leak version (DefaultRangeRefresh)
	OnError  func(error)   // told about failed polls; the store keeps serving what it holds
}

// RangeStore answers the range API from memory: the unpadded body of each 5-hex prefix, read
// from passwords_pwned on first use and kept until the table changes or memory runs short.
//
// The table's version is polled (Run): the builder's watermark row and the ledger of pwned
// imports change in the transactions that change passwords_pwned, so a changed version means
// every held body may be stale and the next request of each prefix reads it again.
// Bodies are bounded by MaxBytes and evicted by a clock sweep (an approximation of LRU that
// keeps lookups free of locks).
type RangeStore struct {
	db   Querier
	opts RangeStoreOptions
	pad  *PadPool

	version atomic.Pointer[RangeVersion]
	slots   []atomic.Pointer[RangeEntry] // indexed by the prefix's value
	bytes   atomic.Int64
	flight  singleflight.Group
	empty   atomic.Pointer[RangeEntry] // shared by the empty prefixes of the current generation

	evictMu sync.Mutex
	hand    int
}

// RangeVersion names a state of passwords_pwned as far as the store can tell.
type RangeVersion struct {
	Gen      uint64    // increases by one per change seen
	Modified time.Time // when the last build step or import committed; zero when none has
	key      string
	// lastModified is Modified in the HTTP date format, shared by the generation's entries.
	lastModified string
}

// RangeEntry is the answer of one prefix at one generation.
type RangeEntry struct {
	Body []byte // "SUFFIX:COUNT\r\n" lines sorted by suffix, as the unpadded API sends them
	// ETag is a strong validator of Body: a hash of its content, so every sview instance gives
	// the same tag for the same answer, and a new generation that leaves a prefix unchanged
	// keeps its clients' copies valid.
	ETag     string
	Modified time.Time
	// LastModified is Modified in the HTTP date format, empty when Modified is zero; kept with
	// the entry so that answering allocates nothing for it.
	LastModified string
	gen          uint64
	used         atomic.Bool // set on use, cleared by the eviction sweep
}

// OpenRangeStore reads the current version and returns an empty store; call Run to follow
// the table.
func OpenRangeStore(ctx context.Context, db Querier, opts RangeStoreOptions) (*RangeStore, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultRangeCacheBytes
	}
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRangeRefresh
	}
	s := &RangeStore{db: db, opts: opts, pad: NewPadPool(), slots: make([]atomic.Pointer[RangeEntry], rangePrefixes)}
	s.version.Store(&RangeVersion{})
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Run warms the store, then polls the version every Refresh interval until ctx ends, warming
// it again after each change. A warm runs beside the polls, so a slow one never delays them; it
// gives up when a newer version comes.
func (s *RangeStore) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.Refresh)
	defer t.Stop()
	var (
		wg      sync.WaitGroup
		warming atomic.Bool
		warmed  atomic.Uint64
	)
	defer wg.Wait()
	for {
		if gen := s.version.Load().Gen; gen != warmed.Load() && warming.CompareAndSwap(false, true) {
			wg.Go(func() {
				defer warming.Store(false)
				if err := s.Warm(ctx); err != nil {
					s.report(ctx, err)
					return
				}
				warmed.Store(gen)
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.report(ctx, s.Refresh(ctx))
		}
	}
}

func (s *RangeStore) report(ctx context.Context, err error) {
	if err != nil && s.opts.OnError != nil && ctx.Err() == nil {
		s.opts.OnError(err)
	}
}

// Warm reads passwords_pwned in hash order and fills the prefixes it passes, empty ones
// included, until the bodies take 7/8 of MaxBytes or the version changes. One sequential scan
// costs far less than a query per prefix; past the bound, prefixes are filled on first use.
func (s *RangeStore) Warm(ctx context.Context) error {
	v := s.version.Load()
	goal := s.opts.MaxBytes / 8 * 7
	// Closing a result early still reads it to its end, so the scan asks for no more rows than
	// could fit: each costs at least its shortest line, "SUFFIX:1\r\n".
	rows, err := s.db.Query(ctx, `SELECT hash, count FROM passwords_pwned ORDER BY hash LIMIT $1`, goal/(suffixLen+4))
	if err != nil {
		return fmt.Errorf("warm the range store: %w", err)
	}
	defer rows.Close()
	var (
		cur   = -1 // the prefix whose lines are being gathered
		next  int  // the first prefix not stored yet
		lines []string
		hash  []byte
		count int64
	)
	// store fills one prefix and says whether to go on.
	store := func(idx int, lines []string) bool {
		s.putIfOlder(idx, s.newEntry(lines, v))
		next = idx + 1
		return s.bytes.Load() < goal && s.version.Load() == v
	}
	emptyUpTo := func(upto int) bool {
		for next < upto {
			if !store(next, nil) {
				return false
			}
		}
		return true
	}
	for rows.Next() {
		if err := rows.Scan(&hash, &count); err != nil {
			return fmt.Errorf("warm the range store: %w", err)
		}
		var h Hash
		if len(hash) != len(h) {
			return fmt.Errorf("warm the range store: stored hash has %d bytes, want %d", len(hash), len(h))
		}
		copy(h[:], hash)
		if idx := int(h[0])<<12 | int(h[1])<<4 | int(h[2])>>4; idx != cur {
			if cur >= 0 && !store(cur, lines) || !emptyUpTo(idx) {
				return nil
			}
			cur, lines = idx, lines[:0]
		}
		lines = append(lines, rangeLine(strings.ToUpper(h.String()[RangePrefixLen:]), count))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("warm the range store: %w", err)
	}
	if cur >= 0 && !store(cur, lines) {
		return nil
	}
	emptyUpTo(rangePrefixes)
	return nil
}

// Refresh reads the version once and starts a new generation when it changed.
func (s *RangeStore) Refresh(ctx context.Context) error {
	var (
		built, imported time.Time
		rows, imports   int64
	)
	// Both parts are written in the same transaction as the hashes they account for, so a
	// version read after their commit is never older than the table it describes.
	err := s.db.QueryRow(ctx, `SELECT
			coalesce((SELECT updated_at FROM leak_watermark), 'epoch'),
			coalesce((SELECT rows FROM leak_watermark), 0),
			coalesce((SELECT max(finished_at) FROM ingest_ledger WHERE format = 'pwned'), 'epoch'),
			(SELECT count(*) FROM ingest_ledger WHERE format = 'pwned')`).Scan(&built, &rows, &imported, &imports)
	if err != nil {
		return fmt.Errorf("read the leak table's version: %w", err)
	}
	key := fmt.Sprintf("%d/%d/%d/%d", built.UnixMicro(), rows, imported.UnixMicro(), imports)
	old := s.version.Load()
	if key == old.key {
		return nil
	}
	modified := built
	if imported.After(modified) {
		modified = imported
	}
	if modified.Unix() <= 0 {
		modified = time.Time{}
	}
	v := &RangeVersion{Gen: old.Gen + 1, Modified: modified.UTC(), key: key}
	if !modified.IsZero() {
		v.lastModified = v.Modified.Format(http.TimeFormat)
	}
	s.version.Store(v)
	return nil
}

// Version is the generation the store serves.
func (s *RangeStore) Version() RangeVersion { return *s.version.Load() }

// Bytes is what the held bodies cost, as counted against MaxBytes.
func (s *RangeStore) Bytes() int64 { return s.bytes.Load() }

// Pad is the store's pool of padding lines.
func (s *RangeStore) Pad() *PadPool { return s.pad }

// Get answers prefix, 5 hex characters in upper case (as ParseRangePrefix in internal/api
// gives them), from memory or, on a miss, from the database.
func (s *RangeStore) Get(ctx context.Context, prefix string) (*RangeEntry, error) {
	idx, err := strconv.ParseUint(prefix, 16, 20)
	if err != nil || len(prefix) != RangePrefixLen {
		return nil, fmt.Errorf("%w %q: the range API wants exactly %d hexadecimal characters", ErrInvalidPrefix, clip(prefix), RangePrefixLen)
	}
	v := s.version.Load()
	if e := s.slots[idx].Load(); e != nil && e.gen == v.Gen {
		if !e.used.Load() {
			e.used.Store(true)
		}
		return e, nil
	}
	// Concurrent misses of one prefix share one query.
	res, err, _ := s.flight.Do(prefix, func() (any, error) {
		v := s.version.Load() // read before the query: the entry is at least this new
		if e := s.slots[idx].Load(); e != nil && e.gen == v.Gen {
			return e, nil
		}
		lines, err := Range(ctx, s.db, prefix)
		if err != nil {
			return nil, err
		}
		e := s.newEntry(lines, v)
		s.putIfOlder(int(idx), e) // #nosec G115 -- ParseUint allowed 20 bits at most
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return res.(*RangeEntry), nil
}

// newEntry encodes lines; every empty prefix of a generation shares one entry, so a sparse
// table costs no more than its slots.
func (s *RangeStore) newEntry(lines []string, v *RangeVersion) *RangeEntry {
	if len(lines) == 0 {
		if e := s.empty.Load(); e != nil && e.gen == v.Gen {
			return e
		}
		e := encodeEntry(nil, v)
		s.empty.Store(e)
		return e
	}
	return encodeEntry(lines, v)
}

func encodeEntry(lines []string, v *RangeVersion) *RangeEntry {
	n := 0
	for _, l := range lines {
		n += len(l) + 2
	}
	body := make([]byte, 0, n)
	for _, l := range lines {
		body = append(body, l...)
		body = append(body, "\r\n"...)
	}
	h := fnv.New64a()
	_, _ = h.Write(body)
	tag := `"` + strconv.FormatUint(binary.BigEndian.Uint64(h.Sum(nil)), 36) + `"`
	return &RangeEntry{Body: body, ETag: tag, Modified: v.Modified, LastModified: v.lastModified, gen: v.Gen}
}

func entrySize(e *RangeEntry) int64 {
	if e == nil || len(e.Body) == 0 {
		return 0
	}
	return int64(cap(e.Body)) + rangeEntryOverhead
}

// putIfOlder stores e unless the slot already holds an entry of e's generation or a later one
// (filled meanwhile by a request or Warm).
func (s *RangeStore) putIfOlder(idx int, e *RangeEntry) {
	for {
		old := s.slots[idx].Load()
		if old != nil && old.gen >= e.gen {
			return
		}
		if s.slots[idx].CompareAndSwap(old, e) {
			if s.bytes.Add(entrySize(e)-entrySize(old)) > s.opts.MaxBytes {
				s.evict()
			}
			return
		}
	}
}

// evict sweeps the slots like a clock until the held bodies take at most 7/8 of MaxBytes:
// stale entries go first, used ones get a second chance.
func (s *RangeStore) evict() {
	s.evictMu.Lock()
	defer s.evictMu.Unlock()
	gen := s.version.Load().Gen
	goal := s.opts.MaxBytes / 8 * 7
	// Two turns clear every used mark on the first, so the second frees whatever remains.
	for range 2 * rangePrefixes {
		if s.bytes.Load() <= goal {
			return
		}
		s.hand = (s.hand + 1) % rangePrefixes
		e := s.slots[s.hand].Load()
		if e == nil {
			continue
		}
		if e.gen == gen && e.used.Swap(false) {
			continue
		}
		if s.slots[s.hand].CompareAndSwap(e, nil) {
			s.bytes.Add(-entrySize(e))
		}
	}
}
