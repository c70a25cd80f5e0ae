package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// datasetVersion is the API's DatasetVersion.
type datasetVersion struct {
	Dataset  string    `json:"dataset"`
	Name     string    `json:"name"`
	Base     *string   `json:"base"`
	Files    []string  `json:"files"`
	Added    []string  `json:"added"`
	Excluded []string  `json:"excluded"`
	Actor    *string   `json:"actor"`
	At       time.Time `json:"at"`
	From     uint64    `json:"from"`
}

// datasetAlias is the API's DatasetAlias.
type datasetAlias struct {
	Alias    string    `json:"alias"`
	Version  string    `json:"version"`
	Previous *string   `json:"previous"`
	At       time.Time `json:"at"`
	From     uint64    `json:"from"`
	To       *uint64   `json:"to"`
}

// dataset is the API's Dataset.
type dataset struct {
	ID       string           `json:"id"`
	Project  string           `json:"project"`
	Name     string           `json:"name"`
	At       time.Time        `json:"at"`
	From     uint64           `json:"from"`
	Versions []datasetVersion `json:"versions"`
	Aliases  []datasetAlias   `json:"aliases"`
}

const (
	datasetVersionFields = `dataset name base files added excluded actor at from`
	datasetFields        = `id project name at from versions { ` + datasetVersionFields + ` } aliases { alias version previous at from to }`
)

// latest returns the newest version's name, or "-".
func (d dataset) latest() string {
	if len(d.Versions) == 0 {
		return "-"
	}
	return d.Versions[len(d.Versions)-1].Name
}

// aliasesOf returns the aliases pointing at version, sorted as the API lists them.
func (d dataset) aliasesOf(version string) []string {
	var out []string
	for _, a := range d.Aliases {
		if a.Version == version {
			out = append(out, a.Alias)
		}
	}
	return out
}

func newCmdDataset(f *factory) *cobra.Command {
	a := &apiFlags{}
	c := &cobra.Command{
		Use:   "dataset",
		Short: "Create, version, list and alias datasets (named, versioned sets of datums)",
		Long: `A dataset is a named collection of datums with immutable versions; an execution reads
every file of a version through the input dataset://NAME/VERSION, or through a
dataset alias: dataset://NAME/ALIAS (latest always means the newest version).

A dataset comes into being with its first version ('dataset create'); later versions
start from scratch or from an earlier version or alias, adding and excluding datums.`,
	}
	a.register(c, true)
	c.AddCommand(newCmdDatasetLs(f, a), newCmdDatasetCreate(f, a), newCmdDatasetVersion(f, a), newCmdDatasetAlias(f, a))
	return c
}

func newCmdDatasetLs(f *factory, a *apiFlags) *cobra.Command {
	var at string
	c := &cobra.Command{
		Use:     "ls --project P [--as-of T]",
		Aliases: []string{"list"},
		Short:   "List a project's datasets with their latest version, oldest first",
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			as, err := asOf(at)
			if err != nil {
				return err
			}
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			var res struct {
				Datasets []dataset `json:"datasets"`
			}
			if err := cl.do(c.Context(), `query($p: ID!, $as: AsOf) { datasets(project: $p, asOf: $as) { `+datasetFields+` } }`,
				map[string]any{"p": pid, "as": as}, &res); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(res.Datasets)
			}
			if len(res.Datasets) == 0 {
				_, err := fmt.Fprintln(f.Out, "no datasets yet: create one with 'strata dataset create NAME --file DATUM...'")
				return err
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tVERSIONS\tLATEST\tFILES\tALIASES\tCREATED")
			for _, d := range res.Datasets {
				files := 0
				if n := len(d.Versions); n > 0 {
					files = len(d.Versions[n-1].Files)
				}
				aliases := make([]string, 0, len(d.Aliases))
				for _, x := range d.Aliases {
					aliases = append(aliases, x.Alias+"→"+x.Version)
				}
				fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%s\t%s\n", d.Name, len(d.Versions), d.latest(), files, orDash(strings.Join(aliases, ", ")), d.At.Local().Format(time.DateTime))
			}
			return w.Flush()
		},
	}
	asOfVar(c, &at)
	return c
}

// versionFlags are the flags that build a dataset version.
type versionFlags struct {
	from         string
	add, exclude []string
	aliases      []string
}

func (v *versionFlags) register(c *cobra.Command, withFrom bool) {
	c.Flags().StringSliceVar(&v.add, "file", nil, "a datum to include: its ID or datum://ALIAS (repeat, or separate with commas)")
	c.Flags().StringSliceVar(&v.aliases, "alias", nil, "a dataset alias to point at the new version (repeat for more)")
	if withFrom {
		c.Flags().StringVar(&v.from, "from", "", "start from this version or alias (latest: the newest); without it the version holds only --file")
		c.Flags().StringSliceVar(&v.exclude, "exclude", nil, "a datum of the --from version to leave out: its ID or datum://ALIAS (repeat)")
	}
}

// createVersion creates version of dataset name from v and prints the result.
func (f *factory) createVersion(ctx context.Context, cl *apiClient, a *apiFlags, name, version string, v *versionFlags) error {
	if strings.TrimSpace(version) == "" {
		return &usageError{errors.New("the version name is empty: name it, such as v1 or 2025-01-31")}
	}
	if v.from == "" && len(v.exclude) > 0 {
		return &usageError{errors.New("--exclude needs --from: it leaves out datums of the version you start from")}
	}
	pid, err := cl.project(ctx, a)
	if err != nil {
		return err
	}
	resolve := func(flag string, refs []string) ([]string, error) {
		ids := make([]string, 0, len(refs))
		for _, r := range refs {
			id, err := resolveDatum(ctx, cl, a, r, nil)
			if err != nil {
				return nil, fmt.Errorf("--%s %s: %w", flag, r, err)
			}
			ids = append(ids, id)
		}
		return ids, nil
	}
	add, err := resolve("file", v.add)
	if err != nil {
		return err
	}
	exclude, err := resolve("exclude", v.exclude)
	if err != nil {
		return err
	}
	in := map[string]any{"project": pid, "dataset": name, "version": version, "add": add, "exclude": exclude, "aliases": v.aliases}
	if v.from != "" {
		in["from"] = v.from
	}
	var res struct {
		CreateDatasetVersion struct {
			Dataset  string `json:"dataset"`
			Version  string `json:"version"`
			Position uint64 `json:"position"`
		} `json:"createDatasetVersion"`
	}
	if err := cl.do(ctx, `mutation($in: CreateDatasetVersionInput!) { createDatasetVersion(input: $in) { dataset version position } }`,
		map[string]any{"in": in}, &res); err != nil {
		return err
	}
	// Read the version back: the count of its files is what the user checks.
	var got struct {
		DatasetVersion datasetVersion `json:"datasetVersion"`
	}
	if err := cl.do(ctx, `query($p: ID!, $d: String!, $v: String!) { datasetVersion(project: $p, dataset: $d, ref: $v) { `+datasetVersionFields+` } }`,
		map[string]any{"p": pid, "d": name, "v": version}, &got); err != nil {
		return err
	}
	if f.JSON {
		return f.printJSON(map[string]any{"dataset": name, "datasetId": res.CreateDatasetVersion.Dataset, "version": got.DatasetVersion,
			"aliases": v.aliases, "position": res.CreateDatasetVersion.Position})
	}
	fmt.Fprintf(f.Out, "created dataset version dataset://%s/%s with %d file(s)", name, version, len(got.DatasetVersion.Files))
	if len(v.aliases) > 0 {
		fmt.Fprintf(f.Out, "; aliases %s point at it", strings.Join(v.aliases, ", "))
	}
	_, err = fmt.Fprintf(f.Out, "\nuse it as an input: dataset://%s/%s\n", name, version)
	return err
}

func newCmdDatasetCreate(f *factory, a *apiFlags) *cobra.Command {
	var (
		version string
		v       versionFlags
	)
	c := &cobra.Command{
		Use:   "create NAME --project P --file DATUM... [--version V] [--alias A...]",
		Short: "Create a dataset with its first version",
		Long: `Creates the dataset NAME with its first version (--version, default v1) holding the
datums --file names. Add later versions with 'strata dataset version create'.`,
		Args: exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			var res struct {
				Dataset dataset `json:"dataset"`
			}
			err = cl.do(c.Context(), `query($p: ID!, $n: String!) { dataset(project: $p, name: $n) { id name versions { name } } }`,
				map[string]any{"p": pid, "n": args[0]}, &res)
			var ae *apiError
			switch {
			case err == nil:
				return fmt.Errorf("dataset %s already exists with %d version(s), the latest %s: add one with 'strata dataset version create %s VERSION --from latest --file DATUM...'",
					args[0], len(res.Dataset.Versions), res.Dataset.latest(), args[0])
			case !errors.As(err, &ae) || ae.Code != "NOT_FOUND":
				return err
			}
			return f.createVersion(c.Context(), cl, a, args[0], version, &v)
		},
	}
	c.Flags().StringVar(&version, "version", "v1", "the first version's name")
	v.register(c, false)
	return c
}

func newCmdDatasetVersion(f *factory, a *apiFlags) *cobra.Command {
	c := &cobra.Command{
		Use:   "version",
		Short: "Create, list and inspect dataset versions",
	}
	c.AddCommand(newCmdDatasetVersionCreate(f, a), newCmdDatasetVersionLs(f, a), newCmdDatasetVersionInfo(f, a))
	return c
}

func newCmdDatasetVersionCreate(f *factory, a *apiFlags) *cobra.Command {
	var v versionFlags
	c := &cobra.Command{
		Use:   "create NAME VERSION --project P [--from REF] [--file DATUM...] [--exclude DATUM...] [--alias A...]",
		Short: "Create a version of a dataset (and the dataset, if it is new)",
		Long: `Creates version VERSION of dataset NAME. With --from it starts from that version or
alias (latest: the newest), leaves out the --exclude datums and adds the --file ones;
without --from it holds exactly the --file datums. --alias points dataset aliases at
the new version in the same step.`,
		Example: `  strata dataset version create images v2 --from latest --file datum://new-batch --alias production -p vision`,
		Args:    exactArgs(2, "NAME and VERSION"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			return f.createVersion(c.Context(), cl, a, args[0], args[1], &v)
		},
	}
	v.register(c, true)
	return c
}

func newCmdDatasetVersionLs(f *factory, a *apiFlags) *cobra.Command {
	var at string
	c := &cobra.Command{
		Use:     "ls NAME --project P [--as-of T]",
		Aliases: []string{"list"},
		Short:   "List a dataset's versions, oldest first, with their aliases",
		Args:    exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			as, err := asOf(at)
			if err != nil {
				return err
			}
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			var res struct {
				Dataset dataset `json:"dataset"`
			}
			if err := cl.do(c.Context(), `query($p: ID!, $n: String!, $as: AsOf) { dataset(project: $p, name: $n, asOf: $as) { `+datasetFields+` } }`,
				map[string]any{"p": pid, "n": args[0], "as": as}, &res); err != nil {
				return err
			}
			d := res.Dataset
			if f.JSON {
				return f.printJSON(d)
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tFILES\tFROM\tADDED\tEXCLUDED\tALIASES\tCREATED\tBY")
			for _, x := range d.Versions {
				fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%d\t%s\t%s\t%s\n", x.Name, len(x.Files), deref(x.Base), len(x.Added), len(x.Excluded),
					orDash(strings.Join(d.aliasesOf(x.Name), ", ")), x.At.Local().Format(time.DateTime), deref(x.Actor))
			}
			return w.Flush()
		},
	}
	asOfVar(c, &at)
	return c
}

func newCmdDatasetVersionInfo(f *factory, a *apiFlags) *cobra.Command {
	var at string
	c := &cobra.Command{
		Use:   "info NAME [VERSION|ALIAS] --project P [--as-of T]",
		Short: "Show a dataset version and its files (default: the latest version)",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return &usageError{fmt.Errorf("%s needs NAME and optionally a VERSION or ALIAS, got %d argument(s): usage: %s", c.CommandPath(), len(args), c.UseLine())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			as, err := asOf(at)
			if err != nil {
				return err
			}
			ref := "latest"
			if len(args) == 2 {
				ref = args[1]
			}
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			var res struct {
				DatasetVersion datasetVersion `json:"datasetVersion"`
			}
			if err := cl.do(c.Context(), `query($p: ID!, $d: String!, $r: String!, $as: AsOf) { datasetVersion(project: $p, dataset: $d, ref: $r, asOf: $as) { `+datasetVersionFields+` } }`,
				map[string]any{"p": pid, "d": args[0], "r": ref, "as": as}, &res); err != nil {
				return err
			}
			v := res.DatasetVersion
			files, err := fetchEach[datum](c.Context(), cl, "datum", "ID!", datumFields, v.Files)
			if err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(map[string]any{"version": v, "files": files})
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "version:\tdataset://%s/%s\n", args[0], v.Name)
			fmt.Fprintf(w, "from:\t%s\n", deref(v.Base))
			fmt.Fprintf(w, "created:\t%s by %s (position %d)\n", v.At.Local().Format(time.DateTime), deref(v.Actor), v.From)
			fmt.Fprintf(w, "files:\t%d (%d added, %d excluded)\n", len(v.Files), len(v.Added), len(v.Excluded))
			if err := w.Flush(); err != nil {
				return err
			}
			if len(files) == 0 {
				return nil
			}
			fmt.Fprintln(f.Out)
			w = tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "DATUM\tNAME\tSIZE")
			for _, d := range files {
				fmt.Fprintf(w, "%s\t%s\t%s\n", d.ID, d.Name, humanBytes(d.Size))
			}
			return w.Flush()
		},
	}
	asOfVar(c, &at)
	return c
}

// fetchEach reads field(id: ...) { fields } for each of ids, in order, a batch of them
// per request; idType is the type of field's id argument ("ID" or "ID!").
func fetchEach[T any](ctx context.Context, cl *apiClient, field, idType, fields string, ids []string) ([]T, error) {
	const batch = 200 // within the API's complexity limit for a dozen fields each
	out := make([]T, 0, len(ids))
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		var q, body strings.Builder
		vars := map[string]any{}
		q.WriteString("query(")
		for i, id := range part {
			fmt.Fprintf(&q, "$v%d: %s, ", i, idType)
			fmt.Fprintf(&body, " n%d: %s(id: $v%d) { %s }", i, field, i, fields)
			vars["v"+strconv.Itoa(i)] = id
		}
		var res map[string]T
		if err := cl.do(ctx, q.String()+") {"+body.String()+" }", vars, &res); err != nil {
			return nil, fmt.Errorf("read the %ss: %w", field, err)
		}
		for i := range part {
			out = append(out, res["n"+strconv.Itoa(i)])
		}
	}
	return out, nil
}

func newCmdDatasetAlias(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "alias NAME ALIAS VERSION --project P",
		Short: "Point a dataset alias (such as production) at a version",
		Long: `Creates or moves the alias ALIAS of dataset NAME to VERSION; executions then read it
as dataset://NAME/ALIAS. The move is recorded ('dataset version ls' shows the aliases).`,
		Args: exactArgs(3, "NAME, ALIAS and VERSION"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			var res struct {
				MoveDatasetAlias struct {
					Position uint64 `json:"position"`
				} `json:"moveDatasetAlias"`
			}
			if err := cl.do(c.Context(), `mutation($p: ID!, $d: String!, $a: String!, $v: String!) { moveDatasetAlias(project: $p, dataset: $d, alias: $a, version: $v) { position } }`,
				map[string]any{"p": pid, "d": args[0], "a": args[1], "v": args[2]}, &res); err != nil {
				return err
			}
			pos := res.MoveDatasetAlias.Position
			if f.JSON {
				return f.printJSON(map[string]any{"dataset": args[0], "alias": args[1], "version": args[2], "position": pos})
			}
			if pos == 0 {
				_, err = fmt.Fprintf(f.Out, "alias %s of dataset %s already points at %s: nothing changed\n", args[1], args[0], args[2])
				return err
			}
			_, err = fmt.Fprintf(f.Out, "alias %s of dataset %s now points at %s (use it as an input: dataset://%s/%s)\n", args[1], args[0], args[2], args[0], args[1])
			return err
		},
	}
}
