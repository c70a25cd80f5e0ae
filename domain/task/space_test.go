package task_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/task"
)

func TestParameterSets(t *testing.T) {
	grid := func(vs ...task.Variant) task.Create {
		return with(create(), func(c *task.Create) { c.Variants = vs })
	}
	tests := []struct {
		name    string
		when    task.Create
		want    []map[string]string
		wantErr error
	}{
		{"grid: every combination, the last variant fastest", grid(
			task.Variant{Name: "opt", Style: task.StyleMultiple, Items: []string{"adam", "sgd"}},
			task.Variant{Name: "epochs", Style: task.StyleLinear, Start: 5, End: 15, Step: 5},
			task.Variant{Name: "seed", Style: task.StyleSingle, Value: "42"},
		), []map[string]string{
			{"opt": "adam", "epochs": "5", "seed": "42"}, {"opt": "adam", "epochs": "10", "seed": "42"}, {"opt": "adam", "epochs": "15", "seed": "42"},
			{"opt": "sgd", "epochs": "5", "seed": "42"}, {"opt": "sgd", "epochs": "10", "seed": "42"}, {"opt": "sgd", "epochs": "15", "seed": "42"},
		}, nil},
		{"linear steps of 0.1 reach the end and read as decimals", grid(task.Variant{Name: "p", Style: task.StyleLinear, Start: 0, End: 0.3, Step: 0.1}),
			[]map[string]string{{"p": "0"}, {"p": "0.1"}, {"p": "0.2"}, {"p": "0.3"}}, nil},
		{"logspace", grid(task.Variant{Name: "lr", Style: task.StyleLogspace, Start: -3, End: -1, Count: 3}),
			[]map[string]string{{"lr": "0.001"}, {"lr": "0.01"}, {"lr": "0.1"}}, nil},
		{"logspace base 2, integerified", grid(task.Variant{Name: "batch", Style: task.StyleLogspace, Start: 4, End: 6, Count: 3, Base: 2, Integerify: true}),
			[]map[string]string{{"batch": "16"}, {"batch": "32"}, {"batch": "64"}}, nil},
		{"manual: the sets as given", with(create(), func(c *task.Create) {
			c.Type, c.Variants, c.ParameterSets = task.ManualSearch, nil, []map[string]string{{"lr": "0.1"}, {"lr": "0.2", "opt": "sgd"}}
		}), []map[string]string{{"lr": "0.1"}, {"lr": "0.2", "opt": "sgd"}}, nil},
		{"a grid above its execution count", with(grid(task.Variant{Name: "a", Style: task.StyleMultiple, Items: []string{"1", "2", "3"}}), func(c *task.Create) {
			c.ExecutionCount, c.BatchSize = 2, 1
		}), nil, domain.ErrInvalid},
		{"a grid above the limit", grid(
			task.Variant{Name: "a", Style: task.StyleLinear, Start: 0, End: 999, Step: 1},
			task.Variant{Name: "b", Style: task.StyleLinear, Start: 0, End: 999, Step: 1},
		), nil, domain.ErrInvalid},
		{"bayesian cannot be listed", with(create(), func(c *task.Create) { c.Type, c.ExecutionCount = task.BayesianTPE, 10 }), nil, domain.ErrInvalid},
		{"a create Decide refuses", with(create(), func(c *task.Create) { c.Variants = nil }), nil, domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := task.ParameterSets(tt.when)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParameterSets() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParameterSets() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParameterSets_RandomSearch(t *testing.T) {
	c := with(create(), func(c *task.Create) {
		c.Type, c.ExecutionCount, c.BatchSize = task.RandomSearch, 50, 0
		c.Variants = []task.Variant{
			{Name: "dropout", Style: task.StyleRandom, Min: 0.1, Max: 0.5, Count: 1, Seed: 7},
			{Name: "lr", Style: task.StyleRandom, Min: 1e-4, Max: 1e-1, Count: 1, Distribution: "loguniform", Seed: 8},
			{Name: "opt", Style: task.StyleMultiple, Items: []string{"adam", "sgd"}},
		}
	})
	first, err := task.ParameterSets(c)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := task.ParameterSets(c)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("the same seeds gave other sets (-first +again):\n%s", diff)
	}
	if len(first) != 50 {
		t.Fatalf("%d sets, want the execution count 50", len(first))
	}
	seen := map[string]bool{}
	for _, set := range first {
		d, err1 := strconv.ParseFloat(set["dropout"], 64)
		lr, err2 := strconv.ParseFloat(set["lr"], 64)
		if err1 != nil || err2 != nil || d < 0.1 || d > 0.5 || lr < 1e-4 || lr > 1e-1 || (set["opt"] != "adam" && set["opt"] != "sgd") {
			t.Fatalf("set %v outside its variants", set)
		}
		seen[set["dropout"]] = true
	}
	if len(seen) < 40 {
		t.Errorf("%d distinct dropouts in 50 draws: not drawn per execution", len(seen))
	}
}
