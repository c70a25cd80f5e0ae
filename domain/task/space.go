package task

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/stratahq/strata/domain"
)

// ParameterSets returns the parameter values of each execution c asks for, in order: for
// grid search every combination of the variants' values (the last variant varying
// fastest), for random search ExecutionCount draws (one value of each variant per
// execution), for manual search its parameter sets. Random numbers come from each
// variant's Seed, so the same Create always gives the same sets. Bayesian search chooses
// each batch from the results of the one before, so its sets cannot be listed up front:
// that is ErrInvalid, as is a Create that Decide refuses or a space larger than
// MaxExecutions or than a grid's ExecutionCount.
func ParameterSets(c Create) ([]map[string]string, error) {
	if _, err := decideCreate(c); err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("parameter sets of %s: %s: %w", c.Type, fmt.Sprintf(format, args...), domain.ErrInvalid)
	}
	switch c.Type {
	case ManualSearch:
		out := make([]map[string]string, len(c.ParameterSets))
		for i, set := range c.ParameterSets {
			out[i] = maps.Clone(set)
		}
		return out, nil
	case GridSearch:
		total := 1
		values := make([][]string, len(c.Variants))
		for i, v := range c.Variants {
			values[i] = variantValues(v, rand.New(rand.NewPCG(uint64(v.Seed), 0)))
			total *= len(values[i])
			if total > MaxExecutions {
				return nil, bad("more than %d combinations", MaxExecutions)
			}
		}
		if c.ExecutionCount > 0 && total > c.ExecutionCount {
			return nil, bad("%d combinations, above the execution count %d", total, c.ExecutionCount)
		}
		out := make([]map[string]string, 0, total)
		idx := make([]int, len(values))
		for range total {
			set := make(map[string]string, len(values))
			for i, v := range c.Variants {
				set[v.Name] = values[i][idx[i]]
			}
			out = append(out, set)
			for i := len(idx) - 1; i >= 0; i-- { // odometer: the last variant varies fastest
				if idx[i]++; idx[i] < len(values[i]) {
					break
				}
				idx[i] = 0
			}
		}
		return out, nil
	case RandomSearch:
		rngs := make([]*rand.Rand, len(c.Variants))
		values := make([][]string, len(c.Variants))
		for i, v := range c.Variants {
			rngs[i] = rand.New(rand.NewPCG(uint64(v.Seed), 1))
			if v.Style != StyleRandom {
				values[i] = variantValues(v, rngs[i])
			}
		}
		out := make([]map[string]string, c.ExecutionCount)
		for n := range out {
			set := make(map[string]string, len(c.Variants))
			for i, v := range c.Variants {
				if v.Style == StyleRandom {
					set[v.Name] = format(v, draw(v, rngs[i]))
				} else {
					set[v.Name] = values[i][rngs[i].IntN(len(values[i]))]
				}
			}
			out[n] = set
		}
		return out, nil
	}
	return nil, bad("the optimizer picks each batch from the results of the one before; list the sets with manual_search or vary them with grid_search or random_search")
}

// variantValues returns every value v takes, as parameter text. Decide has checked v.
func variantValues(v Variant, rng *rand.Rand) []string {
	switch v.Style {
	case StyleSingle:
		return []string{v.Value}
	case StyleMultiple:
		return append([]string(nil), v.Items...)
	case StyleLinear:
		var out []string
		// Count steps rather than adding them up, so rounding cannot drop the end.
		for i := 0; ; i++ {
			x := v.Start + float64(i)*v.Step
			if x > v.End+v.Step*1e-9 {
				break
			}
			out = append(out, format(v, x))
		}
		return out
	case StyleLogspace:
		base := v.Base
		if base == 0 {
			base = 10
		}
		out := make([]string, v.Count)
		for i := range out {
			exp := v.Start
			if v.Count > 1 {
				exp += (v.End - v.Start) * float64(i) / float64(v.Count-1)
			}
			out[i] = format(v, math.Pow(base, exp))
		}
		return out
	case StyleRandom:
		out := make([]string, v.Count)
		for i := range out {
			out[i] = format(v, draw(v, rng))
		}
		return out
	}
	return nil
}

// draw returns one number of the random variant v's distribution: uniform and loguniform
// between Min and Max; normal with mean (Min+Max)/2 and standard deviation (Max-Min)/4,
// kept between Min and Max.
func draw(v Variant, rng *rand.Rand) float64 {
	switch v.Distribution {
	case "loguniform":
		lo, hi := math.Log(v.Min), math.Log(v.Max)
		return math.Exp(lo + rng.Float64()*(hi-lo))
	case "normal":
		x := (v.Min+v.Max)/2 + rng.NormFloat64()*(v.Max-v.Min)/4
		return min(max(x, v.Min), v.Max)
	}
	return v.Min + rng.Float64()*(v.Max-v.Min)
}

func format(v Variant, x float64) string {
	if v.Integerify {
		return strconv.FormatInt(int64(math.Round(x)), 10)
	}
	return strconv.FormatFloat(x, 'g', 12, 64) // 12 digits: 0.1 steps read 0.3, not 0.30000000000000004
}
