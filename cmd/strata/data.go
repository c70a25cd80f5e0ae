package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// datumFields are the fields of a Datum every data command reads.
const datumFields = `id project name size md5 sha1 sha256 blake3 store execution uploader createdAt purged`

// datum is the API's Datum.
type datum struct {
	ID        string    `json:"id"`
	Project   string    `json:"project"`
	Name      string    `json:"name"`
	Size      int64     `json:"size"`
	MD5       string    `json:"md5"`
	SHA1      string    `json:"sha1"`
	SHA256    string    `json:"sha256"`
	BLAKE3    string    `json:"blake3"`
	Store     *string   `json:"store"`
	Execution *string   `json:"execution"`
	Uploader  *string   `json:"uploader"`
	CreatedAt time.Time `json:"createdAt"`
	Purged    bool      `json:"purged"`
}

// source says where a datum came from: the execution that wrote it or its uploader.
func (d datum) source() string {
	switch {
	case d.Execution != nil:
		return "execution " + *d.Execution
	case d.Uploader != nil:
		return "upload by " + *d.Uploader
	}
	return "-"
}

func newCmdData(f *factory) *cobra.Command {
	a := &apiFlags{}
	c := &cobra.Command{
		Use:   "data",
		Short: "Upload, list, inspect, download and purge datums (versioned files)",
		Long: `Every file Strata keeps is a datum: an immutable, content-hashed version of a file,
uploaded by a user or written by an execution. Use one as an execution input with
datum://<id>, or through an alias (see 'strata alias').

These commands talk to a running 'strata serve' (--server) with the token in
STRATA_TOKEN, or else the admin token in <data-dir>/admin-token.`,
	}
	a.register(c, true)
	c.AddCommand(newCmdDataUpload(f, a), newCmdDataLs(f, a), newCmdDataInfo(f, a), newCmdDataDownload(f, a), newCmdDataPurge(f, a), newCmdDataTrace(f, a))
	return c
}

func newCmdDataUpload(f *factory, a *apiFlags) *cobra.Command {
	var (
		name  string
		reuse bool
	)
	c := &cobra.Command{
		Use:   "upload FILE --project P [--name N] [--reuse]",
		Short: "Upload a local file as a new datum",
		Long: `Streams FILE to the server, which stores it in the project's data store and records a
new datum named --name (default: the file's name). A progress bar with the rate and
the time left goes to standard error.

When the project already has datums with the same content, upload says so; with
--reuse it returns the oldest of them instead of creating a new datum.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			file, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer func() { _ = file.Close() }() // read-only
			st, err := file.Stat()
			if err != nil {
				return err
			}
			if st.IsDir() {
				return &usageError{fmt.Errorf("%s is a directory: upload one file at a time (or pack it first)", args[0])}
			}
			pid, err := cl.project(c.Context(), a)
			if err != nil {
				return err
			}
			if name == "" {
				name = filepath.Base(args[0])
			}
			p := newByteProgress(f.Err, "uploading "+name, st.Size())
			var res struct {
				UploadDatum struct {
					Datum      datum    `json:"datum"`
					Created    bool     `json:"created"`
					Duplicates []string `json:"duplicates"`
					Position   uint64   `json:"position"`
				} `json:"uploadDatum"`
			}
			err = cl.upload(c.Context(), `mutation($p: ID!, $file: Upload!, $name: String, $reuse: Boolean) {
  uploadDatum(project: $p, file: $file, name: $name, reuseExisting: $reuse) { datum { `+datumFields+` } created duplicates position } }`,
				map[string]any{"p": pid, "name": name, "reuse": reuse}, "file", name, &countingReader{r: file, fn: p.update}, &res)
			p.done()
			if err != nil {
				return err
			}
			u := res.UploadDatum
			if f.JSON {
				return f.printJSON(u)
			}
			d := u.Datum
			if !u.Created {
				_, err = fmt.Fprintf(f.Out, "the project already has this content: reused datum %s (%s, %s, created %s by %s); no new datum\nuse it as an input: datum://%s\n",
					d.ID, d.Name, humanBytes(d.Size), d.CreatedAt.Local().Format(time.DateTime), d.source(), d.ID)
				return err
			}
			fmt.Fprintf(f.Out, "uploaded %s as datum %s (%s, sha256 %s)\nuse it as an input: datum://%s\n", d.Name, d.ID, humanBytes(d.Size), d.SHA256, d.ID)
			if n := len(u.Duplicates); n > 0 {
				more := ""
				if n > 1 {
					more = fmt.Sprintf(" and %d more", n-1)
				}
				fmt.Fprintf(f.Out, "note: the project already had this content as datum %s%s; next time pass --reuse to get the existing datum instead of a new one\n", u.Duplicates[0], more)
			}
			return nil
		},
	}
	c.Flags().StringVar(&name, "name", "", "the datum's name (default: the file's name)")
	c.Flags().BoolVar(&reuse, "reuse", false, "return an existing datum with the same content instead of creating a new one")
	return c
}

func newCmdDataLs(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "ls --project P",
		Aliases: []string{"list"},
		Short:   "List a project's datums, oldest first",
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			all := []datum{}
			var after *uint64
			for {
				var res struct {
					Datums struct {
						Nodes []datum `json:"nodes"`
						Next  *uint64 `json:"next"`
					} `json:"datums"`
				}
				err := cl.do(c.Context(), `query($p: ID!, $after: Position) { datums(project: $p, first: 1000, after: $after) { nodes { `+datumFields+` } next } }`,
					map[string]any{"p": pid, "after": after}, &res)
				if err != nil {
					return err
				}
				all = append(all, res.Datums.Nodes...)
				if res.Datums.Next == nil {
					break
				}
				after = res.Datums.Next
			}
			if f.JSON {
				return f.printJSON(all)
			}
			if len(all) == 0 {
				_, err := fmt.Fprintln(f.Out, "no datums yet: upload one with 'strata data upload FILE --project", a.project+"'")
				return err
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tSIZE\tCREATED\tSOURCE\tSTATE")
			for _, d := range all {
				state := "live"
				if d.Purged {
					state = "purged"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Name, humanBytes(d.Size), d.CreatedAt.Local().Format(time.DateTime), d.source(), state)
			}
			return w.Flush()
		},
	}
}

// getDatum reads datum id.
func getDatum(c *cobra.Command, cl *apiClient, id string) (datum, error) {
	var res struct {
		Datum datum `json:"datum"`
	}
	err := cl.do(c.Context(), `query($id: ID!) { datum(id: $id) { `+datumFields+` } }`, map[string]any{"id": id}, &res)
	return res.Datum, err
}

func newCmdDataInfo(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "info ID",
		Short: "Show a datum: name, size, digests, where it came from",
		Args:  exactArgs(1, "ID"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			d, err := getDatum(c, cl, args[0])
			if err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(d)
			}
			store := "(built-in)"
			if d.Store != nil {
				store = *d.Store
			}
			state := "live"
			if d.Purged {
				state = "purged: the record and lineage remain, the content is gone"
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			for _, kv := range [][2]string{
				{"id", d.ID}, {"name", d.Name}, {"project", d.Project}, {"size", fmt.Sprintf("%s (%d bytes)", humanBytes(d.Size), d.Size)},
				{"created", d.CreatedAt.Local().Format(time.RFC3339)}, {"source", d.source()}, {"store", store}, {"state", state},
				{"md5", d.MD5}, {"sha1", d.SHA1}, {"sha256", d.SHA256}, {"blake3", d.BLAKE3}, {"input", "datum://" + d.ID},
			} {
				fmt.Fprintf(w, "%s:\t%s\n", kv[0], kv[1])
			}
			return w.Flush()
		},
	}
}

func newCmdDataDownload(f *factory, a *apiFlags) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "download ID [-o FILE]",
		Short: "Download a datum's content, verified against its digest",
		Long: `Writes the datum's content to -o FILE (default: the datum's file name in the current
directory; "-" for standard output), checking its SHA-256 as it arrives. The file
appears only once it is complete and verified; an existing file is not overwritten.`,
		Args: exactArgs(1, "ID"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			d, err := getDatum(c, cl, args[0])
			if err != nil {
				return err
			}
			if err := purgedError(d); err != nil {
				return err
			}
			if output == "" {
				output = filepath.Base(d.Name)
			}
			if output == "-" {
				if _, err := copyDatum(c.Context(), f, cl, d, f.Out); err != nil {
					return fmt.Errorf("download datum %s: %w", d.ID, err)
				}
				return nil
			}
			if _, err := os.Stat(output); err == nil {
				return fmt.Errorf("%s exists: choose another name with -o (download never overwrites)", output)
			}
			if err := downloadDatumTo(c.Context(), f, cl, d, output); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(map[string]any{"datum": d.ID, "file": output, "size": d.Size, "sha256": d.SHA256})
			}
			fmt.Fprintf(f.Err, "downloaded %s (%s, sha256 verified) to %s\n", d.Name, humanBytes(d.Size), output)
			return nil
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", `write to this new file ("-": standard output)`)
	return c
}

func newCmdDataPurge(f *factory, a *apiFlags) *cobra.Command {
	var reason string
	c := &cobra.Command{
		Use:   "purge ID --reason R",
		Short: "Delete a datum's content for good, keeping its record and lineage",
		Long: `Records that the datum is purged, for --reason, and deletes its content from the store
unless another live datum of the same store has the same content. Its record, digests
and lineage remain. Needs the admin role in the datum's project.`,
		Args: exactArgs(1, "ID"),
		RunE: func(c *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return &usageError{errors.New("--reason is required: say why the content is purged (it is kept in the audit log)")}
			}
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			var res struct {
				PurgeDatum struct {
					Position       uint64 `json:"position"`
					ContentDeleted bool   `json:"contentDeleted"`
					SharedBy       int    `json:"sharedBy"`
				} `json:"purgeDatum"`
			}
			if err := cl.do(c.Context(), `mutation($id: ID!, $r: String!) { purgeDatum(id: $id, reason: $r) { position contentDeleted sharedBy } }`,
				map[string]any{"id": args[0], "r": reason}, &res); err != nil {
				return err
			}
			r := res.PurgeDatum
			if f.JSON {
				return f.printJSON(map[string]any{"datum": args[0], "position": r.Position, "contentDeleted": r.ContentDeleted, "sharedBy": r.SharedBy})
			}
			switch {
			case r.ContentDeleted:
				_, err = fmt.Fprintf(f.Out, "purged datum %s: its content is deleted; its record and lineage remain\n", args[0])
			case r.SharedBy > 0:
				_, err = fmt.Fprintf(f.Out, "purged datum %s: the content stays in the store, shared by %d other live datum(s)\n", args[0], r.SharedBy)
			default:
				_, err = fmt.Fprintf(f.Out, "purged datum %s\n", args[0])
			}
			return err
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "why the content is purged (required; recorded)")
	return c
}

// countingReader calls fn with the bytes read so far.
type countingReader struct {
	r  io.Reader
	n  int64
	fn func(int64)
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	c.fn(c.n)
	return n, err
}

// humanBytes renders n as "512 B", "1.5 KiB", "12.3 MiB" …
func humanBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, unit := float64(n), 0
	for v >= 1024 && unit < 5 {
		v /= 1024
		unit++
	}
	return fmt.Sprintf("%.1f %ciB", v, "BKMGTP"[unit])
}
