package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// datumsByID reads the datums ids in one request.
func datumsByID(ctx context.Context, cl *apiClient, ids []string) (map[string]datum, error) {
	out := map[string]datum{}
	if len(ids) == 0 {
		return out, nil
	}
	var q strings.Builder
	vars := map[string]any{}
	q.WriteString("query(")
	for i := range ids {
		fmt.Fprintf(&q, "$d%d: ID!,", i)
	}
	q.WriteString(") {")
	for i, id := range ids {
		fmt.Fprintf(&q, " d%d: datum(id: $d%d) { %s }", i, i, datumFields)
		vars[fmt.Sprintf("d%d", i)] = id
	}
	q.WriteString(" }")
	var res map[string]datum
	if err := cl.do(ctx, q.String(), vars, &res); err != nil {
		return nil, err
	}
	for _, d := range res {
		out[d.ID] = d
	}
	return out, nil
}

// outputRow is one output of an execution with its datum.
type outputRow struct {
	Path   string `json:"path"`
	Datum  string `json:"datum"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	File   string `json:"file,omitempty"` // where --download wrote it
}

func newCmdExecOutputs(f *factory, a *apiFlags) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "outputs REF [--download DIR]",
		Short: "List an execution's outputs; with --download, download them",
		Long: `Lists the files the execution wrote to its outputs directory: path, size and datum
(use one as an input with datum://<id>). With --download DIR each is downloaded to
DIR/<path>, checked against its SHA-256; an existing file is never overwritten.`,
		Args: exactArgs(1, "REF (#N, N, latest or an ID)"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, x, err := f.execClient(c.Context(), a, args[0], execFields)
			if err != nil {
				return err
			}
			ids := make([]string, len(x.Outputs))
			for i, o := range x.Outputs {
				ids[i] = o.Datum
			}
			ds, err := datumsByID(c.Context(), cl, ids)
			if err != nil {
				return err
			}
			rows := make([]outputRow, len(x.Outputs))
			for i, o := range x.Outputs {
				d := ds[o.Datum]
				rows[i] = outputRow{Path: o.Path, Datum: o.Datum, Size: d.Size, SHA256: d.SHA256}
			}
			if dir != "" {
				for i, o := range x.Outputs {
					if !filepath.IsLocal(o.Path) {
						return fmt.Errorf("output %q of execution #%d would land outside %s: not downloaded", o.Path, x.Number, dir)
					}
					file := filepath.Join(dir, filepath.FromSlash(o.Path))
					if err := downloadDatumTo(c.Context(), f, cl, ds[o.Datum], file); err != nil {
						return err
					}
					rows[i].File = file
				}
			}
			if f.JSON {
				return f.printJSON(rows)
			}
			if len(rows) == 0 {
				_, err := fmt.Fprintf(f.Out, "execution #%d has no outputs (yet: it is %s)\n", x.Number, strings.ToLower(x.Status))
				return err
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PATH\tSIZE\tDATUM")
			for _, r := range rows {
				fmt.Fprintf(w, "%s\t%s\t%s\n", r.Path, humanBytes(r.Size), r.Datum)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if dir != "" {
				fmt.Fprintf(f.Err, "downloaded %d outputs to %s (sha256 verified)\n", len(rows), dir)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "download", "", "download every output into this directory")
	return c
}

// downloadDatumTo downloads datum d to the new file path (its directories made), with a
// progress line, checking its size and SHA-256; the file appears only once verified.
func downloadDatumTo(ctx context.Context, f *factory, cl *apiClient, d datum, path string) error {
	if err := purgedError(d); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: download into another directory (download never overwrites)", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone after the link
	_, err = copyDatum(ctx, f, cl, d, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path) // fails rather than overwrite a file created meanwhile
	}
	if err != nil {
		return fmt.Errorf("download datum %s to %s: %w", d.ID, path, err)
	}
	return nil
}

// copyDatum writes datum d's content to w, with a progress line, and returns how many
// bytes it wrote; it fails unless they are d.Size bytes with d's SHA-256.
func copyDatum(ctx context.Context, f *factory, cl *apiClient, d datum, w io.Writer) (int64, error) {
	resp, err := cl.download(ctx, "/datums/"+d.ID+"/content")
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below
	p := newByteProgress(f.Err, "downloading "+d.Name, d.Size)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), &countingReader{r: resp.Body, fn: p.update})
	p.done()
	if err == nil && (n != d.Size || hex.EncodeToString(h.Sum(nil)) != d.SHA256) {
		err = fmt.Errorf("got %d bytes with sha256 %x, want %d bytes with sha256 %s: the transfer was cut or the content is corrupt; try again", n, h.Sum(nil), d.Size, d.SHA256)
	}
	return n, err
}

// purgedError says that datum d's content is gone, if it was purged.
func purgedError(d datum) error {
	if !d.Purged {
		return nil
	}
	return fmt.Errorf("datum %s (%s) was purged: its record and lineage remain, its content does not ('strata data info %s' shows its digests)", d.ID, d.Name, d.ID)
}

// metadataPoint is the API's MetadataPoint.
type metadataPoint struct {
	Time   time.Time      `json:"time"`
	Values map[string]any `json:"values"`
}

func newCmdExecMetadata(f *factory, a *apiFlags) *cobra.Command {
	var csv, latest bool
	c := &cobra.Command{
		Use:   "metadata REF [--latest] [--csv]",
		Short: "Print an execution's metadata: a row per point, or the latest value per key",
		Long: `Prints the metadata the execution logged (JSON lines on its standard output) as a
table with a row per point and a column per key; --latest prints the latest value of
each key instead. --csv and --json print the server's CSV and JSON downloads
(/executions/<id>/metadata.csv and .json) as they are.`,
		Args: exactArgs(1, "REF (#N, N, latest or an ID)"),
		RunE: func(c *cobra.Command, args []string) error {
			if csv && f.JSON {
				return &usageError{fmt.Errorf("--csv and --json: pick one")}
			}
			cl, x, err := f.execClient(c.Context(), a, args[0], execListFields)
			if err != nil {
				return err
			}
			if (csv || f.JSON) && !latest {
				ext := ".csv"
				if f.JSON {
					ext = ".json"
				}
				resp, err := cl.download(c.Context(), "/executions/"+x.ID+"/metadata"+ext)
				if err != nil {
					return err
				}
				defer func() { _ = resp.Body.Close() }() // read to the end below
				_, err = io.Copy(f.Out, resp.Body)
				return err
			}
			var res struct {
				Metadata struct {
					Points []metadataPoint `json:"points"`
					Keys   []string        `json:"keys"`
					Latest map[string]any  `json:"latest"`
				} `json:"metadata"`
			}
			if err := cl.do(c.Context(), `query($id: ID!) { metadata(execution: $id) { points { time values } keys latest } }`, map[string]any{"id": x.ID}, &res); err != nil {
				return err
			}
			m := res.Metadata
			if latest {
				if f.JSON {
					return f.printJSON(m.Latest)
				}
				keys := make([]string, 0, len(m.Latest))
				for k := range m.Latest {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				if csv {
					fmt.Fprintln(f.Out, "key,value")
					for _, k := range keys {
						fmt.Fprintf(f.Out, "%s,%s\n", k, metaText(m.Latest[k]))
					}
					return nil
				}
				w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "KEY\tLATEST")
				for _, k := range keys {
					fmt.Fprintf(w, "%s\t%s\n", k, metaText(m.Latest[k]))
				}
				return w.Flush()
			}
			if len(m.Points) == 0 {
				_, err := fmt.Fprintf(f.Out, "execution #%d has logged no metadata (print JSON objects on standard output to log some)\n", x.Number)
				return err
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TIME\t"+strings.Join(m.Keys, "\t"))
			for _, p := range m.Points {
				cells := make([]string, len(m.Keys))
				for i, k := range m.Keys {
					cells[i] = "-"
					if v, ok := p.Values[k]; ok {
						cells[i] = metaText(v)
					}
				}
				fmt.Fprintf(w, "%s\t%s\n", p.Time.Local().Format("15:04:05.000"), strings.Join(cells, "\t"))
			}
			return w.Flush()
		},
	}
	c.Flags().BoolVar(&csv, "csv", false, "print CSV")
	c.Flags().BoolVar(&latest, "latest", false, "the latest value of each key instead of every point")
	return c
}

// metaText renders a metadata value: strings bare, everything else as JSON.
func metaText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
