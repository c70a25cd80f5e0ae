package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stratahq/strata/adapters/valohaiyaml"
)

// exitExecutionFailed: 'exec run --watch' saw the execution end other than complete.
const exitExecutionFailed = 4

// runFlags are the fixed flags of 'exec run'; the step's parameters and inputs become
// flags too, once the step is known.
type runFlags struct {
	adhoc, watch, network, help bool
	commit, environment, title  string
	tags                        []string
}

func (r *runFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&r.adhoc, "adhoc", false, "run the working directory as it is (uncommitted changes included; .gitignore honoured), uploaded as a code archive")
	fs.StringVar(&r.commit, "commit", "", "run this commit of the repository (default: HEAD, which must have no uncommitted changes)")
	fs.StringVar(&r.environment, "environment", "", "environment ID or slug (default: the step's, else the project's first enabled one)")
	fs.StringArrayVar(&r.tags, "tag", nil, "tag the execution (repeatable)")
	fs.StringVar(&r.title, "title", "", "the execution's title")
	fs.BoolVar(&r.network, "network", false, "give the execution network access")
	fs.BoolVar(&r.watch, "watch", false, "follow the log until the execution ends; exit 4 unless it completes")
	fs.BoolVarP(&r.help, "help", "h", false, "help for run (with STEP: its parameters and inputs)")
}

// stepFlags are the flags of one step: a parameter or input name → its values.
type stepFlags struct {
	params, inputs map[string]*[]string
	bools          map[string]*bool // flag parameters
}

func newCmdExecRun(f *factory, a *apiFlags) *cobra.Command {
	c := &cobra.Command{
		Use:   "run STEP [--PARAMETER=VALUE ...] [--INPUT=URL ...] [--adhoc | --commit SHA] [--watch]",
		Short: "Run a step of valohai.yaml",
		Long: `Creates an execution of STEP of the valohai.yaml at the top of the git working tree
(or the current directory). The step's parameters and inputs are flags:
--NAME=VALUE (repeat a multiple parameter's flag for several values; a flag parameter
is --NAME or --NAME=false) and --INPUT=URL (repeat for several URLs); underscores in
names may be written as dashes. 'strata exec run STEP --help' lists them.

The code is the HEAD commit of the project's repository ('strata project link'), which
the server fetches: commit (and push) your changes first. A working tree with
uncommitted changes to tracked files is refused; --commit SHA runs another commit;
--adhoc uploads the working directory as it is (the files git would commit: tracked
and untracked ones, minus what .gitignore excludes; outside git every file but .git
and .strata) and runs that.

With --watch it follows the log like 'exec logs -f' and exits 4 when the execution
does not complete.`,
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			return execRun(c, f, a, args)
		},
	}
	return c
}

func execRun(c *cobra.Command, f *factory, a *apiFlags, args []string) error {
	ctx := c.Context()
	var rf runFlags
	fixed := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fixed.SetOutput(io.Discard)
	rf.register(fixed)
	fixed.AddFlagSet(c.InheritedFlags())
	// First pass: find STEP among the arguments, whatever the step's flags are.
	fixed.ParseErrorsAllowlist.UnknownFlags = true
	if err := fixed.Parse(args); err != nil {
		return &usageError{fmt.Errorf("%w (see 'strata exec run --help')", err)}
	}
	if fixed.NArg() == 0 {
		if rf.help {
			return c.Help()
		}
		return &usageError{errors.New("exec run needs STEP: usage: strata exec run STEP [--PARAMETER=VALUE ...] (see --help)")}
	}
	if fixed.NArg() > 1 {
		return &usageError{fmt.Errorf("exec run takes one STEP, got %q: give parameters and inputs as --NAME=VALUE", strings.Join(fixed.Args(), " "))}
	}
	name := fixed.Arg(0)
	if rf.adhoc && rf.commit != "" {
		return &usageError{errors.New("--adhoc runs the working directory, --commit a commit: pass one of them")}
	}
	root, inGit := gitTopLevel(ctx)
	if !inGit {
		if rf.commit != "" || !rf.adhoc && !rf.help {
			return &usageError{errors.New("the current directory is not in a git working tree: run in one (its commits are the code), or use --adhoc to upload this directory")}
		}
		var err error
		if root, err = os.Getwd(); err != nil {
			return err
		}
	}
	commit := ""
	var yml []byte
	var err error
	if rf.adhoc || rf.help && rf.commit == "" {
		yml, err = os.ReadFile(filepath.Join(root, configFileName))
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no %s in %s: write one (see 'strata lint'), or run where it is", configFileName, root)
		}
	} else {
		if commit, err = resolveCommit(ctx, root, rf.commit); err != nil {
			return err
		}
		yml, err = gitShowFile(ctx, root, commit, configFileName)
	}
	if err != nil {
		return err
	}
	cfg, _, err := valohaiyaml.Parse(configFileName, yml)
	if err != nil {
		return fmt.Errorf("%w (run 'strata lint %s' for every problem)", err, configFileName)
	}
	step := cfg.Step(name)
	if step == nil {
		names := make([]string, 0, len(cfg.Steps))
		for _, s := range cfg.Steps {
			names = append(names, s.Name)
		}
		return &usageError{fmt.Errorf("no step %q in %s; its steps: %s", name, filepath.Join(root, configFileName), noneIfEmpty(names))}
	}
	// Second pass: the step's parameters and inputs are flags now.
	full := pflag.NewFlagSet("run", pflag.ContinueOnError)
	full.SetOutput(io.Discard)
	rf = runFlags{}
	rf.register(full)
	full.AddFlagSet(c.InheritedFlags())
	sf := addStepFlags(full, step)
	if err := full.Parse(args); err != nil {
		return &usageError{fmt.Errorf("%w\n%s", err, stepHelp(step))}
	}
	if rf.help {
		_, err := fmt.Fprintf(f.Out, "%s\n\nUsage:\n  strata exec run %s [flags]\n\n%s\nFlags:\n%s", c.Long, step.Name, stepHelp(step), full.FlagUsages())
		return err
	}

	cl, err := f.client(a)
	if err != nil {
		return err
	}
	pid, err := cl.project(ctx, a)
	if err != nil {
		return err
	}
	in := map[string]any{"project": pid, "step": step.Name, "tags": rf.tags, "network": rf.network}
	if rf.environment != "" {
		in["environment"] = rf.environment
	}
	if rf.title != "" {
		in["title"] = rf.title
	}
	var params, inputs []map[string]any
	for _, p := range step.Parameters {
		if v := sf.params[p.Name]; v != nil && len(*v) > 0 {
			params = append(params, map[string]any{"name": p.Name, "values": *v})
		}
		if b, ok := sf.bools[p.Name]; ok && (full.Changed(p.Name) || dashed(p.Name) != "" && full.Changed(dashed(p.Name))) {
			params = append(params, map[string]any{"name": p.Name, "values": []string{strconv.FormatBool(*b)}})
		}
	}
	for _, i := range step.Inputs {
		if v := sf.inputs[i.Name]; len(*v) > 0 {
			inputs = append(inputs, map[string]any{"name": i.Name, "uris": *v})
		}
	}
	in["parameters"], in["inputs"] = params, inputs
	code := "commit " + commit
	if rf.adhoc {
		id, err := uploadAdhoc(ctx, f, cl, pid, root, inGit)
		if err != nil {
			return err
		}
		in["adhoc"], code = id, "ad-hoc code datum "+id
	} else {
		if err := checkClean(ctx, root, rf.commit); err != nil {
			return err
		}
		in["commit"] = commit
	}
	var res struct {
		RunStep struct {
			ID       string `json:"id"`
			Number   int    `json:"number"`
			Position uint64 `json:"position"`
		} `json:"runStep"`
	}
	if err := cl.do(ctx, `mutation($in: RunStepInput!) { runStep(input: $in) { id number position } }`, map[string]any{"in": in}, &res); err != nil {
		if rf.commit == "" && !rf.adhoc && strings.Contains(err.Error(), "commit not found") {
			return fmt.Errorf("%w: push commit %s to the project's repository first, or use --adhoc", err, commit)
		}
		return err
	}
	x := res.RunStep
	if !rf.watch {
		if f.JSON {
			return f.printJSON(map[string]any{"id": x.ID, "number": x.Number, "position": x.Position, "step": step.Name, "code": code})
		}
		_, err := fmt.Fprintf(f.Out, "Created execution #%d (%s) of step %s from %s\nfollow its log: strata exec logs #%d -f\n", x.Number, x.ID, step.Name, code, x.Number)
		return err
	}
	if !f.JSON {
		fmt.Fprintf(f.Err, "Created execution #%d (%s) of step %s from %s; following its log\n", x.Number, x.ID, step.Name, code)
	}
	if err := followLog(ctx, cl, x.ID, func(l logLine) error { return printLogLine(f, l) }); err != nil {
		return err
	}
	end, err := waitEnded(ctx, cl, x.ID)
	if err != nil {
		return err
	}
	if f.JSON {
		if err := f.printJSON(end); err != nil {
			return err
		}
	}
	if end.Status != "COMPLETE" {
		msg := fmt.Sprintf("execution #%d ended %s", x.Number, strings.ToLower(end.Status))
		if end.ExitCode != nil {
			msg += fmt.Sprintf(" (exit code %d)", *end.ExitCode)
		}
		if end.Reason != nil {
			msg += ": " + *end.Reason
		}
		return &codeError{code: exitExecutionFailed, err: fmt.Errorf("%s ('strata exec info #%d' shows it)", msg, x.Number)}
	}
	if !f.JSON {
		fmt.Fprintf(f.Err, "execution #%d complete in %s\n", x.Number, fmtDuration(end.Duration))
	}
	return nil
}

// configFileName is the valohai.yaml at the top of the working tree.
const configFileName = "valohai.yaml"

// printLogLine prints a log line as 'exec logs' does.
func printLogLine(f *factory, l logLine) error {
	if f.JSON {
		return f.printJSONLine(l)
	}
	w := f.Out
	if l.Stream == "status" {
		w = f.Err
	}
	_, err := fmt.Fprintln(w, l.Message)
	return err
}

// waitEnded reads execution id until it has ended (followLog returns once it has, so this
// is normally one read).
func waitEnded(ctx context.Context, cl *apiClient, id string) (execInfo, error) {
	for {
		var res struct {
			Execution execInfo `json:"execution"`
		}
		if err := cl.do(ctx, `query($id: ID) { execution(id: $id) { `+execFields+` } }`, map[string]any{"id": id}, &res); err != nil {
			return execInfo{}, err
		}
		if terminal(res.Execution.Status) {
			return res.Execution, nil
		}
		select {
		case <-ctx.Done():
			return execInfo{}, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// dashed is the flag spelling of a parameter or input name with dashes for underscores,
// or "" when it has none.
func dashed(name string) string {
	if !strings.Contains(name, "_") {
		return ""
	}
	return strings.ReplaceAll(name, "_", "-")
}

// addStepFlags adds a flag per parameter and input of step to fs (and its dashed
// spelling); a name the fixed flags already use is skipped.
func addStepFlags(fs *pflag.FlagSet, step *valohaiyaml.Step) stepFlags {
	sf := stepFlags{params: map[string]*[]string{}, inputs: map[string]*[]string{}, bools: map[string]*bool{}}
	add := func(name, usage string, v pflag.Value, noOpt string) {
		for i, n := range []string{name, dashed(name)} {
			if n != "" && fs.Lookup(n) == nil {
				fl := fs.VarPF(v, n, "", usage)
				fl.NoOptDefVal, fl.Hidden = noOpt, i == 1 // the dashed spelling is an alias
			}
		}
	}
	for _, p := range step.Parameters {
		usage := fmt.Sprintf("parameter (%s)", parameterType(p))
		if p.Description != "" {
			usage += ": " + p.Description
		}
		if p.Type == valohaiyaml.TypeFlag {
			b := new(bool)
			sf.bools[p.Name] = b
			add(p.Name, usage, newBoolValue(b), "true")
			continue
		}
		vals := new([]string)
		sf.params[p.Name] = vals
		add(p.Name, usage, newStringsValue(vals), "")
	}
	for _, i := range step.Inputs {
		usage := "input URL"
		if i.Description != "" {
			usage += ": " + i.Description
		}
		vals := new([]string)
		sf.inputs[i.Name] = vals
		add(i.Name, usage, newStringsValue(vals), "")
	}
	return sf
}

func parameterType(p *valohaiyaml.Parameter) string {
	t := string(p.Type)
	if t == "" {
		t = "string"
	}
	if p.Multiple != valohaiyaml.MultipleNone {
		t += ", multiple"
	}
	if p.Default != nil {
		t += fmt.Sprintf(", default %v", p.Default)
	}
	return t
}

// stepHelp lists step's parameters and inputs as flags.
func stepHelp(step *valohaiyaml.Step) string {
	var b strings.Builder
	if len(step.Parameters) == 0 && len(step.Inputs) == 0 {
		fmt.Fprintf(&b, "step %s takes no parameters or inputs\n", step.Name)
		return b.String()
	}
	fmt.Fprintf(&b, "step %s takes:\n", step.Name)
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, p := range step.Parameters {
		fmt.Fprintf(w, "  --%s\tparameter (%s)\n", p.Name, parameterType(p))
	}
	for _, i := range step.Inputs {
		req := "optional"
		if i.Required() {
			req = "required"
		} else if len(i.Default) > 0 {
			req = "default " + strings.Join(i.Default, ", ")
		}
		fmt.Fprintf(w, "  --%s\tinput URL (%s)\n", i.Name, req)
	}
	_ = w.Flush() // into a strings.Builder
	return b.String()
}

// stringsValue is a pflag.Value collecting every value given.
type stringsValue struct{ v *[]string }

func newStringsValue(v *[]string) *stringsValue { return &stringsValue{v: v} }

func (s *stringsValue) Set(x string) error { *s.v = append(*s.v, x); return nil }
func (s *stringsValue) String() string     { return strings.Join(*s.v, ",") }
func (s *stringsValue) Type() string       { return "value" }

// boolValue is a pflag.Value for a flag parameter: --NAME, --NAME=true or --NAME=false.
type boolValue struct{ v *bool }

func newBoolValue(v *bool) *boolValue { return &boolValue{v: v} }

func (b *boolValue) Set(x string) error {
	v, err := strconv.ParseBool(x)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", x)
	}
	*b.v = v
	return nil
}
func (b *boolValue) String() string   { return strconv.FormatBool(*b.v) }
func (b *boolValue) Type() string     { return "bool" }
func (b *boolValue) IsBoolFlag() bool { return true }

func noneIfEmpty(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// resolveCommit returns the full SHA of rev (default HEAD) in the working tree at root.
func resolveCommit(ctx context.Context, root, rev string) (string, error) {
	if rev == "" {
		rev = "HEAD"
	}
	sha, err := gitIn(ctx, root, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil || sha == "" {
		if rev == "HEAD" {
			return "", errors.New("the repository has no commit yet: commit your code, or use --adhoc")
		}
		return "", &usageError{fmt.Errorf("--commit %s: no such commit in %s", rev, root)}
	}
	return sha, nil
}

// checkClean refuses a working tree with uncommitted changes to tracked files, when the
// code is HEAD (commitFlag empty).
func checkClean(ctx context.Context, root, commitFlag string) error {
	if commitFlag != "" {
		return nil
	}
	out, err := gitIn(ctx, root, "diff", "--name-only", "HEAD")
	if err != nil {
		return err
	}
	if out == "" {
		return nil
	}
	files := strings.Split(out, "\n")
	more := ""
	if len(files) > 5 {
		files, more = files[:5], fmt.Sprintf(" and %d more", len(files)-5)
	}
	return fmt.Errorf("the working tree has uncommitted changes (%s%s): commit them, or use --adhoc to run the working directory as it is", strings.Join(files, ", "), more)
}

// gitShowFile returns file at the top of commit, byte for byte.
func gitShowFile(ctx context.Context, root, commit, file string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", "show", commit+":"+file)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("commit %.12s has no %s at the top of the repository: commit one (see 'strata lint')", commit, file)
	}
	return out, nil
}

// codeFiles lists the files of the working directory root that --adhoc uploads,
// relative to root and sorted: in git, the tracked and untracked files .gitignore does
// not exclude; outside git, every file but those under .git and .strata.
func codeFiles(ctx context.Context, root string, inGit bool) ([]string, error) {
	var files []string
	if inGit {
		out, err := gitIn(ctx, root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
		if err != nil {
			return nil, err
		}
		for _, p := range strings.Split(out, "\x00") {
			if p != "" {
				files = append(files, filepath.FromSlash(p))
			}
		}
	} else {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == ".git" || d.Name() == ".strata") && path != root {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				rel, err := filepath.Rel(root, path)
				if err != nil {
					return err
				}
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list the files of %s: %w", root, err)
		}
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

// packCode writes files of root as a gzip-compressed tar to w (regular files and
// symbolic links; a listed file since deleted is skipped) and returns how many it packed.
func packCode(root string, files []string, w io.Writer) (int, error) {
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	n := 0
	for _, rel := range files {
		path := filepath.Join(root, rel)
		st, err := os.Lstat(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return n, err
		}
		link := ""
		switch {
		case st.Mode().IsRegular():
		case st.Mode()&fs.ModeSymlink != 0:
			if link, err = os.Readlink(path); err != nil {
				return n, err
			}
		default:
			continue
		}
		h, err := tar.FileInfoHeader(st, link)
		if err != nil {
			return n, err
		}
		h.Name = filepath.ToSlash(rel)
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(h); err != nil {
			return n, err
		}
		if st.Mode().IsRegular() {
			if err := copyFile(tw, path); err != nil {
				return n, err
			}
		}
		n++
	}
	if err := tw.Close(); err != nil {
		return n, err
	}
	return n, zw.Close()
}

func copyFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // read-only
	_, err = io.Copy(w, f)
	return err
}

// uploadAdhoc packs the working directory root and uploads it as a datum of project pid;
// it returns the datum's ID.
func uploadAdhoc(ctx context.Context, f *factory, cl *apiClient, pid, root string, inGit bool) (string, error) {
	files, err := codeFiles(ctx, root, inGit)
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp("", "strata-adhoc-*.tar.gz")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.Remove(tmp.Name()); _ = tmp.Close() }() // scratch
	n, err := packCode(root, files, tmp)
	if err != nil {
		return "", fmt.Errorf("pack %s: %w", root, err)
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return "", err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	name := "adhoc-" + filepath.Base(root) + ".tar.gz"
	p := newByteProgress(f.Err, "uploading "+name, size)
	var res struct {
		UploadDatum struct {
			Datum struct {
				ID string `json:"id"`
			} `json:"datum"`
		} `json:"uploadDatum"`
	}
	err = cl.upload(ctx, `mutation($p: ID!, $file: Upload!, $name: String, $reuse: Boolean) {
  uploadDatum(project: $p, file: $file, name: $name, reuseExisting: $reuse) { datum { id } } }`,
		map[string]any{"p": pid, "name": name, "reuse": true}, "file", name, &countingReader{r: tmp, fn: p.update}, &res)
	p.done()
	if err != nil {
		return "", fmt.Errorf("upload the ad-hoc code: %w", err)
	}
	if !f.JSON {
		fmt.Fprintf(f.Err, "uploaded %d files of %s (%s) as ad-hoc code datum %s\n", n, root, humanBytes(size), res.UploadDatum.Datum.ID)
	}
	return res.UploadDatum.Datum.ID, nil
}
