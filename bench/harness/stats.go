package harness

import (
	"math"
	"slices"
	"time"
)

// Summary describes a set of latency samples. Percentiles are nearest-rank.
// Durations are in milliseconds so that the JSON file reads directly.
type Summary struct {
	Count  int     `json:"count"`
	MeanMs float64 `json:"meanMs"`
	P50Ms  float64 `json:"p50Ms"`
	P90Ms  float64 `json:"p90Ms"`
	P99Ms  float64 `json:"p99Ms"`
	P999Ms float64 `json:"p999Ms"`
	MaxMs  float64 `json:"maxMs"`
}

// Summarize sorts samples in place and returns their summary. An empty set
// gives the zero Summary.
func Summarize(samples []time.Duration) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	return Summary{
		Count:  len(samples),
		MeanMs: ms(sum / time.Duration(len(samples))),
		P50Ms:  ms(nearestRank(samples, 0.50)),
		P90Ms:  ms(nearestRank(samples, 0.90)),
		P99Ms:  ms(nearestRank(samples, 0.99)),
		P999Ms: ms(nearestRank(samples, 0.999)),
		MaxMs:  ms(samples[len(samples)-1]),
	}
}

// nearestRank returns the p-quantile of sorted samples by the nearest-rank
// method: the smallest sample such that at least p of all samples are at or
// below it.
func nearestRank(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3 // microsecond precision
}

// Histogram bucket layout: logarithmic, histPerDecade buckets per decade from
// histMin up to histMax. Samples below histMin go to the first bucket, above
// histMax to the last.
const (
	histMin       = 10 * time.Microsecond
	histMax       = 1 * time.Second
	histPerDecade = 10
)

// Histogram counts samples in logarithmic buckets. Bounds[i] is the upper
// bound of bucket i in milliseconds.
type Histogram struct {
	BoundsMs []float64 `json:"boundsMs"`
	Counts   []int     `json:"counts"`
}

// NewHistogram buckets samples (in any order).
func NewHistogram(samples []time.Duration) Histogram {
	decades := math.Log10(float64(histMax) / float64(histMin))
	n := int(math.Round(decades * histPerDecade))
	h := Histogram{BoundsMs: make([]float64, n), Counts: make([]int, n)}
	for i := range n {
		upper := float64(histMin) * math.Pow(10, float64(i+1)/histPerDecade)
		h.BoundsMs[i] = upper / 1e6
	}
	for _, d := range samples {
		h.Counts[histBucket(d, n)]++
	}
	return h
}

func histBucket(d time.Duration, n int) int {
	if d <= histMin {
		return 0
	}
	i := int(math.Ceil(math.Log10(float64(d)/float64(histMin))*histPerDecade)) - 1
	return max(0, min(i, n-1))
}
