package main

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"
)

// loadOptions shape a closed-loop run: Concurrency workers call the
// operation back to back; calls that start during Warmup are not counted,
// calls that start after Warmup+Duration are not made. With Calls > 0
// each worker makes exactly that many calls instead, all measured, and
// the rate is over the run's elapsed time.
type loadOptions struct {
	Concurrency int
	Warmup      time.Duration
	Duration    time.Duration
	Calls       int
}

// loadResult summarises the measured calls.
type loadResult struct {
	OK         int // successful calls
	Errors     int
	FirstError string
	PerS       float64 // successful calls per second of Duration
	Seconds    float64 // Duration, or the elapsed time of a run of Calls
	P50Ms      float64
	P99Ms      float64
	MaxMs      float64
}

// runLoad runs op (worker is 0…Concurrency-1, i counts the worker's calls)
// as loadOptions say and returns the latency summary of the successful
// measured calls. It stops early, with ctx's error, when ctx ends.
func runLoad(ctx context.Context, o loadOptions, op func(ctx context.Context, worker, i int) error) (loadResult, error) {
	type result struct {
		lat      []time.Duration
		errs     int
		firstErr error
	}
	results := make([]result, o.Concurrency)
	start := time.Now()
	measureFrom, end := start.Add(o.Warmup), start.Add(o.Warmup+o.Duration)
	if o.Calls > 0 {
		measureFrom, end = start, start.Add(100*365*24*time.Hour)
	}
	var wg sync.WaitGroup
	for w := range o.Concurrency {
		wg.Go(func() {
			r := &results[w]
			for i := 0; ctx.Err() == nil && (o.Calls == 0 || i < o.Calls); i++ {
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				err := op(ctx, w, i)
				d := time.Since(t0)
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					r.errs++
					if r.firstErr == nil {
						r.firstErr = err
					}
					continue
				}
				r.lat = append(r.lat, d)
			}
		})
	}
	wg.Wait()
	if o.Calls > 0 {
		o.Duration = time.Since(start)
	}
	if err := ctx.Err(); err != nil {
		return loadResult{}, err
	}
	var all []time.Duration
	var res loadResult
	for _, r := range results {
		all = append(all, r.lat...)
		res.Errors += r.errs
		if r.firstErr != nil && res.FirstError == "" {
			res.FirstError = r.firstErr.Error()
		}
	}
	slices.Sort(all)
	res.OK = len(all)
	res.Seconds = round(o.Duration.Seconds(), 3)
	res.PerS = round(float64(len(all))/o.Duration.Seconds(), 1)
	res.P50Ms = ms(percentile(all, 0.50))
	res.P99Ms = ms(percentile(all, 0.99))
	if len(all) > 0 {
		res.MaxMs = ms(all[len(all)-1])
	}
	return res, nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(f float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(f*p) / p
}
