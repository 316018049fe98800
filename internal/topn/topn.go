// Package topn is the arithmetic of a pruned top-N: which keys can still be among the N largest
// totals when only the top-ranked part of every bucket has been read. It knows nothing of
// tables or SQL, so its bounds are tested on generated buckets without a database.
//
// Every bucket read gives its keys of the top ranks with their counts, and its residual: the
// count at the first rank not read, which bounds every key the bucket did not give (0 when the
// bucket was read whole). Summed over the buckets:
//
//   - lo(k), what was read for k, is a lower bound of its total;
//   - R, the sum of every residual, bounds the total of a key never read;
//   - up(k) = lo(k) + R − residuals(k), where residuals(k) sums the residuals of the buckets
//     that gave k, is an upper bound of its total;
//   - T, the N-th largest lo, is a lower bound of the N-th largest total.
//
// When R < T no key outside the candidates can reach the N-th total, and only candidates with
// up(k) >= T can: summing those exactly and ranking them gives the same top N, ties included,
// as ranking every key.
package topn

import (
	"cmp"
	"container/heap"
	"slices"
	"strings"
)

// The threshold is refined (see needsRefinement) when more than refineAbove × N candidates
// would pass, with the exact totals of the refineWith × N candidates of largest lo.
const refineAbove, refineWith = 4, 2

// Candidates are the keys read for a top N, with what was read of each.
type Candidates struct {
	n    int
	r    int64          // R
	ids  map[string]int // index in list by the key's texts joined
	list []candidate    // in the order first read, so every choice below is deterministic
}

type candidate struct {
	key           []string
	lo, residuals int64
}

// New makes empty candidates for the top n (n >= 1).
func New(n int) *Candidates {
	return &Candidates{n: n, ids: map[string]int{}}
}

// AddResidual adds the residuals of buckets read to R.
func (c *Candidates) AddResidual(r int64) { c.r += r }

// Add adds what buckets gave of a key (one text per key column): lo to its lower bound, and the
// residuals of those buckets (0 for buckets read whole, which can hide nothing of it).
func (c *Candidates) Add(key []string, lo, residuals int64) {
	id := strings.Join(key, "\x00")
	i, ok := c.ids[id]
	if !ok {
		i = len(c.list)
		c.ids[id] = i
		c.list = append(c.list, candidate{key: key})
	}
	c.list[i].lo += lo
	c.list[i].residuals += residuals
}

// Prune returns the candidates that can reach the N-th largest total: ranked by their exact
// totals, they give the top N of every key, ties included. exact returns the exact totals of
// some keys, to refine T. ok is false when nothing can be pruned: fewer than N candidates, or
// R >= T even after refining.
func (c *Candidates) Prune(exact func(keys [][]string) ([]int64, error)) (keys [][]string, ok bool, err error) {
	t, ok := c.threshold()
	if !ok {
		return nil, false, nil
	}
	if c.needsRefinement(t) {
		sums, err := exact(c.leaders())
		if err != nil {
			return nil, false, err
		}
		t = c.raise(t, sums)
	}
	keys, ok = c.selectPassing(t)
	return keys, ok, nil
}

// threshold is T, the N-th largest lo; false when there are fewer than N candidates, which
// leaves no lower bound of the N-th total.
func (c *Candidates) threshold() (int64, bool) {
	if len(c.list) < c.n {
		return 0, false
	}
	los := make([]int64, len(c.list))
	for i, k := range c.list {
		los[i] = k.lo
	}
	return nthLargest(los, c.n), true
}

func (c *Candidates) up(k candidate) int64 { return k.lo + c.r - k.residuals }

// passing counts the candidates whose upper bound reaches t.
func (c *Candidates) passing(t int64) int {
	n := 0
	for _, k := range c.list {
		if c.up(k) >= t {
			n++
		}
	}
	return n
}

// needsRefinement reports whether threshold t prunes too little: lo misses what a key counted
// below the top ranks, so on flat keys (attacking addresses over months) t can sit at or under
// R, or let most candidates through.
func (c *Candidates) needsRefinement(t int64) bool {
	return c.r >= t || c.passing(t) > refineAbove*c.n
}

// leaders are the refineWith × N candidates with the largest lo (all when fewer), the first
// read first among equal lo.
func (c *Candidates) leaders() [][]string {
	order := slices.Clone(c.list)
	slices.SortStableFunc(order, func(a, b candidate) int { return cmp.Compare(b.lo, a.lo) })
	keys := make([][]string, min(refineWith*c.n, len(order)))
	for i := range keys {
		keys[i] = order[i].key
	}
	return keys
}

// raise is t raised by exact, the exact totals of the leaders: when there are N of them, they
// are N totals of real keys, so their N-th largest is a lower bound of the N-th total too.
func (c *Candidates) raise(t int64, exact []int64) int64 {
	if len(exact) < c.n {
		return t
	}
	return max(t, nthLargest(exact, c.n))
}

// selectPassing returns every candidate with up(k) >= t. False when R >= t: then a key never
// read could reach the N-th total, and nothing can be pruned.
func (c *Candidates) selectPassing(t int64) ([][]string, bool) {
	if c.r >= t {
		return nil, false
	}
	var keys [][]string
	for _, k := range c.list {
		if c.up(k) >= t {
			keys = append(keys, k.key)
		}
	}
	return keys, true
}

// Top returns the indexes of the exact totals in the top n, every total tied with the n-th
// kept: those at least the n-th largest, or, when there are no more than n, every one of at
// least 1 (a key that counted).
func Top(totals []int64, n int) []int {
	t := int64(1)
	if len(totals) > n {
		t = nthLargest(totals, n)
	}
	var top []int
	for i, v := range totals {
		if v >= t {
			top = append(top, i)
		}
	}
	return top
}

// nthLargest is the n-th largest of vals (1-based; 1 <= n <= len(vals)): the smallest of the
// n largest, kept in a min-heap, so a hundred thousand ports cost no sort.
func nthLargest(vals []int64, n int) int64 {
	top := make(minHeap, 0, n)
	for _, v := range vals {
		switch {
		case len(top) < n:
			heap.Push(&top, v)
		case v > top[0]:
			top[0] = v
			heap.Fix(&top, 0)
		}
	}
	return top[0]
}

type minHeap []int64

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *minHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
