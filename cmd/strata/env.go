package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stratahq/strata/domain"
)

// environmentInfo is the API's Environment.
type environmentInfo struct {
	ID           string  `json:"id"`
	Slug         string  `json:"slug"`
	Name         string  `json:"name"`
	CPUs         float64 `json:"cpus"`
	MemoryBytes  int64   `json:"memoryBytes"`
	GPUs         int     `json:"gpus"`
	GPUModel     *string `json:"gpuModel"`
	PricePerHour string  `json:"pricePerHour"`
	MaxScale     int     `json:"maxScale"`
	PerUserQuota int     `json:"perUserQuota"`
}

const environmentFields = `id slug name cpus memoryBytes gpus gpuModel pricePerHour maxScale perUserQuota`

func newCmdEnv(f *factory) *cobra.Command {
	a := &apiFlags{}
	c := &cobra.Command{
		Use:     "env",
		Aliases: []string{"environment"},
		Short:   "List, create and enable environments (the machine types executions run on)",
		Long: `An environment is a machine type: CPUs, memory, GPUs and a price per hour, which an
execution's cost is reckoned from. Server admins create them; a project can use those
enabled for it ('strata env enable').`,
	}
	a.register(c, true)
	c.AddCommand(newCmdEnvList(f, a), newCmdEnvCreate(f, a), newCmdEnvEnable(f, a))
	return c
}

func listEnvironments(ctx context.Context, cl *apiClient) ([]environmentInfo, error) {
	var res struct {
		Environments []environmentInfo `json:"environments"`
	}
	err := cl.do(ctx, `{ environments { `+environmentFields+` } }`, nil, &res)
	return res.Environments, err
}

func newCmdEnvList(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the server's environments, oldest first",
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			envs, err := listEnvironments(c.Context(), cl)
			if err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(envs)
			}
			if len(envs) == 0 {
				_, err := fmt.Fprintln(f.Out, "no environments yet: a server admin creates one with 'strata env create SLUG --cpus N --memory SIZE --price USD'")
				return err
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SLUG\tNAME\tCPUS\tMEMORY\tGPUS\tUSD/HOUR\tMAX SCALE\tPER USER\tID")
			for _, e := range envs {
				gpus := strconv.Itoa(e.GPUs)
				if e.GPUModel != nil && e.GPUs > 0 {
					gpus += " × " + *e.GPUModel
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Slug, e.Name, strconv.FormatFloat(e.CPUs, 'f', -1, 64), humanBytes(e.MemoryBytes), gpus,
					e.PricePerHour, unlimited(e.MaxScale), unlimited(e.PerUserQuota), e.ID)
			}
			return w.Flush()
		},
	}
}

// unlimited renders a limit, where 0 means none.
func unlimited(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func newCmdEnvCreate(f *factory, a *apiFlags) *cobra.Command {
	var (
		name, memory, price, gpuModel string
		cpus                          float64
		gpus, maxScale, perUser       int
	)
	c := &cobra.Command{
		Use:   "create SLUG --cpus N --memory SIZE --price USD [--name NAME] [--gpus N --gpu-model M] [--max-scale N] [--per-user-quota N]",
		Short: "Create an environment (server admins)",
		Example: `  strata env create cpu-small --cpus 2 --memory 4GiB --price 0.1
  strata env create a100 --name "A100 80GB" --cpus 12 --memory 85GiB --gpus 1 --gpu-model A100 --price 3.67`,
		Args: exactArgs(1, "SLUG"),
		RunE: func(c *cobra.Command, args []string) error {
			var problems []error
			if cpus <= 0 {
				problems = append(problems, fmt.Errorf("--cpus %g: want more than 0 (fractions allowed, such as 0.5)", cpus))
			}
			mem, err := parseBytes(memory)
			if err != nil {
				problems = append(problems, fmt.Errorf("--memory: %w", err))
			}
			if strings.TrimSpace(price) == "" {
				problems = append(problems, errors.New("--price is required: the price per hour in USD, such as 0.9"))
			} else if _, err := domain.ParseMoney(price); err != nil {
				problems = append(problems, fmt.Errorf("--price %q: want a decimal number of USD per hour, such as 0.9: %w", price, err))
			}
			for _, n := range []struct {
				flag string
				v    int
			}{{"--gpus", gpus}, {"--max-scale", maxScale}, {"--per-user-quota", perUser}} {
				if n.v < 0 {
					problems = append(problems, fmt.Errorf("%s %d: want 0 or more", n.flag, n.v))
				}
			}
			if gpuModel != "" && gpus == 0 {
				problems = append(problems, errors.New("--gpu-model needs --gpus: how many GPUs of that model"))
			}
			if err := errors.Join(problems...); err != nil {
				return &usageError{err}
			}
			if name == "" {
				name = args[0]
			}
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			in := map[string]any{"slug": args[0], "name": name, "cpus": cpus, "memoryBytes": mem, "gpus": gpus,
				"pricePerHour": strings.TrimSpace(price), "maxScale": maxScale, "perUserQuota": perUser}
			if gpuModel != "" {
				in["gpuModel"] = gpuModel
			}
			var res struct {
				CreateEnvironment struct {
					ID       string `json:"id"`
					Position uint64 `json:"position"`
				} `json:"createEnvironment"`
			}
			if err := cl.do(c.Context(), `mutation($in: EnvironmentInput!) { createEnvironment(input: $in) { id position } }`,
				map[string]any{"in": in}, &res); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(map[string]any{"id": res.CreateEnvironment.ID, "slug": args[0], "position": res.CreateEnvironment.Position})
			}
			_, err = fmt.Fprintf(f.Out, "created environment %s (%s)\nlet a project use it: strata env enable %s -p PROJECT\n", args[0], res.CreateEnvironment.ID, args[0])
			return err
		},
	}
	c.Flags().StringVar(&name, "name", "", "a readable name (default: the slug)")
	c.Flags().Float64Var(&cpus, "cpus", 0, "CPUs (required; fractions allowed)")
	c.Flags().StringVar(&memory, "memory", "", "memory, such as 512MiB, 16GiB or 16GB (required)")
	c.Flags().IntVar(&gpus, "gpus", 0, "GPUs")
	c.Flags().StringVar(&gpuModel, "gpu-model", "", "the GPU model, such as A100")
	c.Flags().StringVar(&price, "price", "", "USD per hour, such as 0.9 (required)")
	c.Flags().IntVar(&maxScale, "max-scale", 0, "machines at once (0: no limit)")
	c.Flags().IntVar(&perUser, "per-user-quota", 0, "running executions per user (0: no limit)")
	return c
}

// byteUnits are the memory units parseBytes accepts: binary (KiB, Ki) and decimal (KB).
var byteUnits = map[string]float64{
	"": 1, "B": 1,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
}

// parseBytes reads a size such as 16GiB, 512MiB, 16GB or 1073741824 (bytes).
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("missing: give a size such as 16GiB")
	}
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	num, unit := s[:i], strings.TrimSpace(s[i:])
	v, err := strconv.ParseFloat(num, 64)
	mult, ok := byteUnits[unit]
	if err != nil || !ok || v <= 0 {
		return 0, fmt.Errorf("%q: want a positive size such as 512MiB, 16GiB, 16GB or a number of bytes", s)
	}
	b := v * mult
	if b < 1 || b > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q: out of range", s)
	}
	return int64(b), nil
}

func newCmdEnvEnable(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "enable ENV --project P",
		Short: "Let a project run executions in an environment (by slug or ID)",
		Args:  exactArgs(1, "ENV (a slug or an ID)"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			envs, err := listEnvironments(c.Context(), cl)
			if err != nil {
				return err
			}
			var env *environmentInfo
			slugs := make([]string, 0, len(envs))
			for i, e := range envs {
				if e.Slug == args[0] || e.ID == args[0] {
					env = &envs[i]
				}
				slugs = append(slugs, e.Slug)
			}
			if env == nil {
				return fmt.Errorf("no environment %q: choose from %s ('strata env list')", args[0], orDash(strings.Join(slugs, ", ")))
			}
			pid, err := cl.project(c.Context(), a)
			if err != nil {
				return err
			}
			var res struct {
				EnableEnvironment struct {
					Position uint64 `json:"position"`
				} `json:"enableEnvironment"`
			}
			if err := cl.do(c.Context(), `mutation($p: ID!, $e: ID!) { enableEnvironment(project: $p, environment: $e) { position } }`,
				map[string]any{"p": pid, "e": env.ID}, &res); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(map[string]any{"project": pid, "environment": env.ID, "slug": env.Slug, "position": res.EnableEnvironment.Position})
			}
			_, err = fmt.Fprintf(f.Out, "the project can now run executions in %s (%s)\n", env.Slug, env.ID)
			return err
		},
	}
}
