package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratahq/strata/adapters/badger"
)

// factory carries what every command needs: the I/O streams and the global flags.
type factory struct {
	In       io.Reader
	Out, Err io.Writer
	// DataDir is where the embedded default keeps everything (--data-dir, STRATA_DATA_DIR).
	DataDir string
	// JSON makes commands print machine-readable JSON instead of tables (--json).
	JSON bool
}

func newCmdRoot(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "strata",
		Short: "Event-sourced data versioning and lineage for machine-learning teams",
		Long: `Strata records every run, file, alias and dataset version as an immutable,
hash-chained event, and answers what produced a model and what relies on it.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Executions run in their own directories: every path under the data directory is
	// handed to them, so it must not depend on the working directory.
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		dir, err := filepath.Abs(f.DataDir)
		if err != nil {
			return fmt.Errorf("--data-dir %s: %w", f.DataDir, err)
		}
		f.DataDir = dir
		return nil
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.PersistentFlags().StringVar(&f.DataDir, "data-dir", envOr("STRATA_DATA_DIR", ".strata"), "where the embedded engine keeps its data (env STRATA_DATA_DIR)")
	root.PersistentFlags().BoolVar(&f.JSON, "json", false, "print JSON instead of text")
	root.AddCommand(
		newCmdServe(f),
		newCmdWorker(f),
		newCmdEvents(f),
		newCmdProjections(f),
		newCmdLint(f),
		newCmdData(f),
		newCmdAlias(f),
		newCmdDataset(f),
		newCmdTask(f),
		newCmdEnv(f),
		newCmdToken(f),
		newCmdCompletion(f),
		newCmdExec(f),
		newCmdLogin(f), newCmdLogout(f), newCmdProject(f),
		newCmdVersion(f),
		newCmdImage(f),
	)
	return root
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func newCmdVersion(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			if f.JSON {
				return f.printJSON(map[string]string{"version": version})
			}
			_, err := fmt.Fprintln(f.Out, "strata", version)
			return err
		},
	}
}

func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{fmt.Errorf("%s takes no arguments, got %q", c.CommandPath(), strings.Join(args, " "))}
	}
	return nil
}

func (f *factory) printJSON(v any) error {
	enc := json.NewEncoder(f.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// The embedded default's layout under DataDir.
func (f *factory) eventsDir() string      { return filepath.Join(f.DataDir, "events") }
func (f *factory) projectionsDir() string { return filepath.Join(f.DataDir, "projections") }

// openLog opens the embedded event log, explaining the usual reasons it cannot be.
func (f *factory) openLog(create bool) (*badger.Store, error) {
	dir := f.eventsDir()
	if !create {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no event log in %s: start the engine once with 'strata serve --data-dir %s', or pass the right --data-dir", dir, f.DataDir)
		}
	}
	s, err := badger.Open(badger.Config{Dir: dir})
	if err != nil {
		if errors.Is(err, badger.ErrLocked) {
			return nil, fmt.Errorf("the event log in %s is in use by another process (a running 'strata serve'?): stop it first", dir)
		}
		return nil, err
	}
	return s, nil
}
