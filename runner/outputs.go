package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
)

// Sidecar file names: per file <file>.metadata.json; for many files one JSON-lines file
// in the outputs root, each line {"file": "<relative path>", "metadata": {...}}.
const (
	SidecarSuffix = ".metadata.json"
	BulkSidecar   = "valohai.metadata.jsonl"
	BulkSidecar2  = "outputs.metadata.jsonl"
)

// outputSet is what has been uploaded (or refused) of one run's outputs.
type outputSet struct {
	seen    map[string]bool
	datums  []domain.DatumID
	refused []string
}

func (o *outputSet) mark(rel string) bool {
	if o.seen == nil {
		o.seen = map[string]bool{}
	}
	if o.seen[rel] {
		return false
	}
	o.seen[rel] = true
	return true
}

// uploadOutputs uploads the files under the run's outputs directory: with live set only
// the files made read-only (which are then removed), otherwise all that are left.
// Symlinks that leave the outputs directory are refused and reported, never followed.
func (r *Runner) uploadOutputs(ctx context.Context, a *active, set *outputSet, live bool) {
	id := a.st.ID()
	root := filepath.Join(a.dir, "outputs")
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		if !live {
			r.status(id, "outputs: %v", err)
		}
		return
	}
	bulk := map[string]map[string]json.RawMessage{}
	if !live {
		for _, name := range []string{BulkSidecar, BulkSidecar2} {
			r.readBulk(id, filepath.Join(root, name), bulk)
		}
	}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || strings.HasPrefix(rel, "..") {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if rel == BulkSidecar || rel == BulkSidecar2 || strings.HasSuffix(rel, SidecarSuffix) || set.seen[rel] {
			return nil
		}
		src := p
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil || !within(realRoot, target) {
				if !live && set.mark(rel) {
					msg := rel + ": symlink leaves the outputs directory: not uploaded"
					set.refused = append(set.refused, msg)
					r.status(id, "%s", msg)
				}
				return nil
			}
			src = target
		}
		fi, err := os.Stat(src)
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		if live && fi.Mode().Perm()&0o222 != 0 {
			return nil // still writable: not handed over yet
		}
		props := bulk[rel]
		if side, err := os.ReadFile(p + SidecarSuffix); err == nil {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(side, &m); err != nil {
				r.status(id, "%s%s: not a JSON object: ignored", rel, SidecarSuffix)
			} else {
				props = merge(props, m)
			}
		}
		set.mark(rel)
		dt, err := r.uploadOutput(ctx, a, src, rel, props)
		if err != nil {
			r.status(id, "upload output %s: %v", rel, err)
			r.logger.Error("runner: upload output", "execution", id, "path", rel, "err", err)
			return nil
		}
		set.datums = append(set.datums, dt)
		if live {
			if err := os.Remove(p); err != nil {
				r.status(id, "remove live-uploaded %s: %v", rel, err)
			}
		}
		return nil
	})
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

func merge(a, b map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func (r *Runner) readBulk(id domain.ExecutionID, path string, into map[string]map[string]json.RawMessage) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close() //nolint:errcheck // read only
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var e struct {
			File     string                     `json:"file"`
			Metadata map[string]json.RawMessage `json:"metadata"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.File == "" {
			r.status(id, "%s:%d: want {\"file\": ..., \"metadata\": {...}}: ignored", filepath.Base(path), n)
			continue
		}
		into[filepath.ToSlash(filepath.Clean(e.File))] = merge(into[e.File], e.Metadata)
	}
}

// uploadOutput hands the file at path to the app, which stores it as a new datum produced
// by the run, records it as an output and applies its sidecar properties, tags and alias
// as follow-up commands caused by the output event.
func (r *Runner) uploadOutput(ctx context.Context, a *active, path, rel string, props map[string]json.RawMessage) (domain.DatumID, error) {
	id := a.st.ID()
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	res, err := r.outputs.UploadOutput(r.actorCtx(ctx, id), app.Output{Execution: id, Path: rel, Content: f, Properties: props})
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", rel, cerr)
	}
	if res.Sidecar.Alias != "" && res.Datum != "" {
		r.status(id, "datum://%s now points at %s (%s)", res.Sidecar.Alias, res.Datum, rel)
	}
	return res.Datum, err
}

// createVersions creates the dataset versions the run's outputs asked for.
func (r *Runner) createVersions(ctx context.Context, id domain.ExecutionID) {
	vs, err := r.outputs.CreateOutputVersions(r.actorCtx(ctx, id), id)
	for _, v := range vs {
		if v.Created {
			r.status(id, "Created dataset version '%s' with %d files", v.URI, len(v.Files))
		}
	}
	if err != nil {
		r.status(id, "%v", err)
	}
}

// actorCtx is ctx acting as this runner for execution id.
func (r *Runner) actorCtx(ctx context.Context, id domain.ExecutionID) context.Context {
	return app.WithCorrelationID(app.WithActor(ctx, domain.UserID("runner:"+r.cfg.Host)), string(id))
}
