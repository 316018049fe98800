package topn

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

type read struct {
	key           string
	lo, residuals int64
}

func candidates(n int, r int64, reads ...read) *Candidates {
	c := New(n)
	c.AddResidual(r)
	for _, rd := range reads {
		c.Add([]string{rd.key}, rd.lo, rd.residuals)
	}
	return c
}

func names(keys [][]string) []string {
	if keys == nil {
		return nil
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k[0]
	}
	return out
}

func TestNthLargest(t *testing.T) {
	for _, c := range []struct {
		vals []int64
		n    int
		want int64
	}{
		{[]int64{5}, 1, 5},
		{[]int64{3, 9, 1, 7}, 1, 9},
		{[]int64{3, 9, 1, 7}, 2, 7},
		{[]int64{3, 9, 1, 7}, 4, 1},
		{[]int64{4, 4, 4, 2}, 3, 4},
		{[]int64{0, 0, 1}, 2, 0},
	} {
		require.Equal(t, c.want, nthLargest(c.vals, c.n), "%v n=%d", c.vals, c.n)
	}
}

// TestThreshold: T is the N-th largest lo after every read of a key is summed; fewer than N
// candidates give none.
func TestThreshold(t *testing.T) {
	for _, c := range []struct {
		name  string
		n     int
		reads []read
		want  int64
		ok    bool
	}{
		{"fewer than N", 3, []read{{"a", 5, 0}, {"b", 4, 0}}, 0, false},
		{"exactly N", 2, []read{{"a", 5, 0}, {"b", 4, 0}}, 4, true},
		{"reads of one key add up", 2, []read{{"a", 5, 0}, {"b", 4, 0}, {"c", 3, 0}, {"c", 3, 1}}, 5, true},
		{"a repeated key is one candidate", 2, []read{{"a", 5, 0}, {"a", 4, 0}}, 0, false},
		{"ties", 2, []read{{"a", 7, 0}, {"b", 7, 0}, {"c", 7, 0}}, 7, true},
	} {
		got, ok := candidates(c.n, 0, c.reads...).threshold()
		require.Equal(t, c.ok, ok, c.name)
		require.Equal(t, c.want, got, c.name)
	}
}

// TestLeaders: the refineWith × N candidates of largest lo, the first read first among equals.
func TestLeaders(t *testing.T) {
	c := candidates(2, 0, read{"a", 1, 0}, read{"b", 5, 0}, read{"c", 3, 0}, read{"d", 5, 0}, read{"e", 3, 0}, read{"f", 9, 0})
	require.Equal(t, []string{"f", "b", "d", "c"}, names(c.leaders()))
	require.Equal(t, []string{"a"}, names(candidates(3, 0, read{"a", 1, 0}).leaders()), "fewer than refineWith × N")
}

// TestPrune: the bounds, ties, refinement and giving up, on hand-made candidates. exact holds
// the exact totals of the keys the refinement may ask for (consistent with the reads: lo <=
// total <= up).
func TestPrune(t *testing.T) {
	for _, c := range []struct {
		name    string
		n       int
		r       int64
		reads   []read
		exact   map[string]int64
		want    []string // nil: nothing pruned
		refined bool
	}{
		{
			name: "a key never read is bounded by R < T", n: 2, r: 7,
			reads: []read{{"a", 10, 0}, {"b", 8, 0}, {"c", 1, 0}},
			want:  []string{"a", "b", "c"}, // up(c) = 8 reaches T = 8
		},
		{
			name: "residuals of the buckets that gave a key tighten its bound", n: 1, r: 10,
			reads: []read{{"a", 30, 10}, {"b", 25, 10}, {"c", 21, 0}},
			want:  []string{"a", "c"}, // up(b) = 25 < 30, up(c) = 31
		},
		{
			name: "every key tied with the N-th lo is kept", n: 2,
			reads: []read{{"a", 10, 0}, {"b", 7, 0}, {"c", 7, 0}, {"d", 7, 0}, {"e", 3, 0}},
			want:  []string{"a", "b", "c", "d"},
		},
		{
			name: "every key whose upper bound ties with T is kept", n: 1, r: 3,
			reads: []read{{"a", 10, 3}, {"b", 7, 0}, {"c", 6, 0}},
			want:  []string{"a", "b"},
		},
		{
			name: "fewer candidates than N", n: 3,
			reads: []read{{"a", 10, 0}, {"b", 7, 0}},
		},
		{
			name: "R >= T gives up when refining does not raise T above R", n: 1, r: 50,
			reads:   []read{{"a", 40, 0}, {"b", 3, 0}},
			exact:   map[string]int64{"a": 45, "b": 30},
			refined: true,
		},
		{
			name: "R >= T: refining raises T above R", n: 1, r: 50,
			reads:   []read{{"a", 40, 0}, {"b", 5, 0}},
			exact:   map[string]int64{"a": 60, "b": 5},
			want:    []string{"a"}, // up(b) = 55 < 60
			refined: true,
		},
		{
			name: "too many passing: refining prunes them", n: 1, r: 35,
			reads: []read{{"a", 40, 0}, {"b", 10, 0}, {"c", 10, 0}, {"d", 10, 0}, {"e", 10, 0}, {"f", 10, 0}},
			exact: map[string]int64{"a": 70, "b": 12},
			// Five pass T = 40 (more than refineAbove × 1); the leaders a and b give T = 70.
			want:    []string{"a"},
			refined: true,
		},
		{
			name: "fewer exact totals than N leave T", n: 2, r: 9,
			reads:   []read{{"a", 10, 0}, {"b", 9, 0}},
			exact:   map[string]int64{"a": 12},
			refined: true,
		},
		{
			name: "no more than refineAbove × N passing: no refinement", n: 1, r: 35,
			reads: []read{{"a", 40, 0}, {"b", 10, 0}, {"c", 10, 0}, {"d", 10, 0}, {"e", 3, 0}},
			want:  []string{"a", "b", "c", "d"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			refined := false
			keys, ok, err := candidates(c.n, c.r, c.reads...).Prune(func(keys [][]string) ([]int64, error) {
				refined = true
				require.LessOrEqual(t, len(keys), refineWith*c.n)
				var sums []int64
				for _, k := range names(keys) {
					if v, ok := c.exact[k]; ok {
						sums = append(sums, v)
					}
				}
				return sums, nil
			})
			require.NoError(t, err)
			require.Equal(t, c.refined, refined, "refined")
			require.Equal(t, c.want != nil, ok, "pruned")
			require.Equal(t, c.want, names(keys))
		})
	}
	_, _, err := candidates(1, 9, read{"a", 5, 0}).Prune(func([][]string) ([]int64, error) { return nil, errors.ErrUnsupported })
	require.ErrorIs(t, err, errors.ErrUnsupported)
}

// TestTop: the exact top n keeps every total tied with the n-th; with no more than n totals,
// every one that counted.
func TestTop(t *testing.T) {
	for _, c := range []struct {
		totals []int64
		n      int
		want   []int
	}{
		{[]int64{5, 9, 1, 7}, 2, []int{1, 3}},
		{[]int64{5, 9, 5, 7, 5}, 3, []int{0, 1, 2, 3, 4}},
		{[]int64{5, 9}, 3, []int{0, 1}},
		{[]int64{5, 0, 2}, 3, []int{0, 2}},
		{[]int64{3, 3}, 2, []int{0, 1}},
		{nil, 1, nil},
	} {
		require.Equal(t, c.want, Top(c.totals, c.n), "%v n=%d", c.totals, c.n)
	}
}

// TestPruneMatchesBruteForce: on generated buckets (skewed keys, small counts that tie often,
// some keys the answer drops but that still take ranks), each bucket either read whole or
// ranked like a twin table (its top ranks and the count at the next rank as residual), the
// bounds hold for every key and the pruned keys contain every key of the exact top N, ties
// included.
func TestPruneMatchesBruteForce(t *testing.T) {
	outcomes := map[string]int{}
	for seed := range uint64(3000) {
		rng := rand.New(rand.NewPCG(seed, 14))
		n, ranks := 1+rng.IntN(8), 1+rng.IntN(4)
		keySpace, maxCount, skew := 1+rng.IntN(60), int64(1+rng.IntN(8)), 1+3*rng.Float64()
		listedShare := rng.Float64()
		dropped := func(k int) bool { return k < 2 } // like the empty and newline logins
		name := fmt.Sprintf("seed %d: n %d, ranks %d, keys %d, counts <= %d", seed, n, ranks, keySpace, maxCount)

		c := New(n)
		totals := map[string]int64{}
		var r int64
		for range 1 + rng.IntN(30) {
			counts := map[int]int64{}
			for range rng.IntN(keySpace + 1) {
				k := int(float64(keySpace) * math.Pow(rng.Float64(), skew))
				counts[k] += 1 + int64(float64(maxCount)*math.Pow(rng.Float64(), skew))
			}
			type row struct {
				key   int
				count int64
			}
			var rows []row
			for k, v := range counts {
				rows = append(rows, row{k, v})
				if !dropped(k) {
					totals[fmt.Sprint(k)] += v
				}
			}
			// Ranked as the twins rank: count descending, then key.
			slices.SortFunc(rows, func(a, b row) int { return cmp.Or(cmp.Compare(b.count, a.count), cmp.Compare(a.key, b.key)) })
			if rng.Float64() >= listedShare {
				for _, rw := range rows {
					if !dropped(rw.key) {
						c.Add([]string{fmt.Sprint(rw.key)}, rw.count, 0)
					}
				}
				continue
			}
			var residual int64
			if len(rows) > ranks {
				residual = rows[ranks].count
			}
			c.AddResidual(residual)
			r += residual
			for _, rw := range rows[:min(ranks, len(rows))] {
				if !dropped(rw.key) {
					c.Add([]string{fmt.Sprint(rw.key)}, rw.count, residual)
				}
			}
		}

		// The bounds: lo <= total <= up for every candidate, total <= R for every other key.
		read := map[string]bool{}
		for _, k := range c.list {
			read[k.key[0]] = true
			require.LessOrEqual(t, k.lo, totals[k.key[0]], name)
			require.LessOrEqual(t, totals[k.key[0]], c.up(k), name)
		}
		for k, v := range totals {
			if !read[k] {
				require.LessOrEqual(t, v, r, "%s: key %s never read", name, k)
			}
		}

		refined := false
		keys, ok, err := c.Prune(func(keys [][]string) ([]int64, error) {
			refined = true
			sums := make([]int64, len(keys))
			for i, k := range keys {
				sums[i] = totals[k[0]]
			}
			return sums, nil
		})
		require.NoError(t, err)
		outcome := map[bool]string{false: "gave up", true: "pruned"}[ok]
		if refined {
			outcome += " after refining"
		}
		outcomes[outcome]++
		if !ok {
			continue
		}
		all := make([]int64, 0, len(totals))
		for _, v := range totals {
			all = append(all, v)
		}
		nth := nthLargest(all, n)
		kept := map[string]bool{}
		for _, k := range keys {
			kept[k[0]] = true
		}
		for k, v := range totals {
			if v >= nth {
				require.True(t, kept[k], "%s: key %s (total %d, N-th %d, R %d) pruned", name, k, v, nth, r)
			}
		}
		if len(keys) < len(totals) {
			outcomes["dropped keys"]++
		}
	}
	t.Logf("outcomes: %v", outcomes)
	for _, o := range []string{"gave up", "pruned", "gave up after refining", "pruned after refining", "dropped keys"} {
		require.NotZero(t, outcomes[o], "no case %s: %v", o, outcomes)
	}
}
