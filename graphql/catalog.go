package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/deployment"
	"github.com/stratahq/strata/domain/environment"
	prj "github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/domain/task"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/graphql/generated"
	"github.com/stratahq/strata/projections"
)

// auditAll calls fn with every audit entry f selects, page by page, in position order,
// until fn returns false or the entries end.
func (r *Resolver) auditAll(ctx context.Context, f projections.AuditFilter, fn func(projections.AuditEntry) (bool, error)) error {
	// The callers read each entry's aggregate from the log as it is now (or as of
	// f.Through): the index must have caught up with that much of the log first, or a
	// thing written just before (by a worker, or while the server was down) is missing.
	head, err := r.log.Head(ctx)
	if err != nil {
		return err
	}
	through := head
	if f.Through != 0 {
		through = min(f.Through, head)
	}
	if err := r.engine.WaitForProjection(ctx, projections.Audit{}.Name(), through); err != nil {
		return fmt.Errorf("the audit index is behind the log: %w", err)
	}
	f.Limit = 1000
	for {
		var page []projections.AuditEntry
		err := r.engine.View(ctx, projections.Audit{}.Name(), func(rd projections.Reader) error {
			var err error
			page, err = projections.Audit{}.List(rd, f)
			return err
		})
		if err != nil {
			return err
		}
		for _, e := range page {
			if more, err := fn(e); err != nil || !more {
				return err
			}
		}
		if len(page) < f.Limit {
			return nil
		}
		f.After = page[len(page)-1].Position
	}
}

// auditThrough returns f limited to the entries up to position p (projections.Now: all).
func auditThrough(f projections.AuditFilter, p events.Position) projections.AuditFilter {
	if p != projections.Now {
		f.Through = p
	}
	return f
}

// streamID returns the ID part of an aggregate stream "<kind>-<id>".
func streamID(s events.StreamID, kind string) string {
	return strings.TrimPrefix(string(s), kind+"-")
}

// metadataOf returns an execution's metadata points and the latest value of every key.
func metadataOf(id domain.ExecutionID, points []projections.MetadataPoint) *generated.Metadata {
	out := &generated.Metadata{Execution: string(id), Points: make([]generated.MetadataPoint, 0, len(points)), Keys: []string{}}
	latest := map[string]json.RawMessage{}
	for _, p := range points {
		out.Points = append(out.Points, pointOf(p))
		for k, v := range p.Values {
			if _, seen := latest[k]; !seen {
				out.Keys = append(out.Keys, k)
			}
			latest[k] = v
		}
	}
	slices.Sort(out.Keys)
	out.Latest = latest
	return out
}

func pointOf(p projections.MetadataPoint) generated.MetadataPoint {
	values := p.Values
	if values == nil {
		values = map[string]json.RawMessage{}
	}
	return generated.MetadataPoint{Time: p.Time, Values: values}
}

// viewableExecution returns the current state of execution raw after checking that the
// caller may view its project.
func (r *Resolver) viewableExecution(ctx context.Context, raw string) (projections.Execution, error) {
	id, err := domain.ParseExecutionID(raw)
	if err != nil {
		return projections.Execution{}, err
	}
	x, err := r.reads.Execution(ctx, id, projections.AsOf{})
	if err != nil {
		return projections.Execution{}, err
	}
	if _, err := r.app.Access(ctx, x.Project, prj.RoleViewer); err != nil {
		return projections.Execution{}, err
	}
	return x, nil
}

// metadata reads an execution's points from the executions read model, after checking
// that the caller may view its project.
func (r *Resolver) metadata(ctx context.Context, raw string) (domain.ExecutionID, []projections.MetadataPoint, error) {
	x, err := r.viewableExecution(ctx, raw)
	if err != nil {
		return "", nil, err
	}
	id := x.ID
	var points []projections.MetadataPoint
	err = r.engine.View(ctx, projections.Executions{}.Name(), func(rd projections.Reader) error {
		var err error
		points, err = projections.Executions{}.Metadata(rd, id)
		return err
	})
	return id, points, err
}

func versionOf(v projections.DatasetVersion) generated.DatasetVersion {
	return generated.DatasetVersion{Dataset: string(v.Dataset), Name: v.Name, Base: str(v.Base), Files: ids(v.Files),
		Added: ids(v.Added), Excluded: ids(v.Excluded), Actor: str(v.Actor), At: v.At, From: uint64(v.From)}
}

// dataset reads one dataset with its versions and live aliases as of p.
func datasetOf(rd projections.Reader, project domain.ProjectID, name string, p events.Position) (generated.Dataset, error) {
	d, err := projections.Datasets{}.Get(rd, project, name, p)
	if err != nil {
		return generated.Dataset{}, err
	}
	vs, err := projections.Datasets{}.Versions(rd, d.ID, p)
	if err != nil {
		return generated.Dataset{}, err
	}
	as, err := projections.Datasets{}.Aliases(rd, d.ID, p)
	if err != nil {
		return generated.Dataset{}, err
	}
	out := generated.Dataset{ID: string(d.ID), Project: string(d.Project), Name: d.Name, At: d.At, From: uint64(d.From),
		Versions: make([]generated.DatasetVersion, 0, len(vs)), Aliases: make([]generated.DatasetAlias, 0, len(as))}
	if len(d.Properties) > 0 {
		out.Properties = d.Properties
	}
	for _, v := range vs {
		out.Versions = append(out.Versions, versionOf(v))
	}
	for _, a := range as {
		out.Aliases = append(out.Aliases, generated.DatasetAlias{Alias: a.Alias, Version: a.Version, Previous: str(a.Previous),
			At: a.At, From: uint64(a.From), To: posPtr(a.To)})
	}
	return out, nil
}

func nodesOf(ns []projections.Node) []generated.LineageNode {
	out := make([]generated.LineageNode, 0, len(ns))
	for _, n := range ns {
		out = append(out, generated.LineageNode{ID: n.ID, Kind: n.Kind, Label: str(n.Label), From: uint64(n.From)})
	}
	return out
}

func impactOf(im projections.Impact) *generated.Impact {
	return &generated.Impact{Executions: nodesOf(im.Executions), Datums: nodesOf(im.Datums),
		DatasetVersions: nodesOf(im.DatasetVersions), Aliases: nodesOf(im.Aliases), DeploymentVersions: nodesOf(im.DeploymentVersions)}
}

func taskOf(st task.State) generated.Task {
	sp, sum := st.Spec(), st.Summary()
	out := generated.Task{ID: string(st.ID()), Project: string(st.Project()), Number: st.Number(),
		Counter: prj.CounterTask.Format(st.Number()), Step: sp.Step, Type: string(sp.Type), ExecutionCount: sp.ExecutionCount,
		BatchSize: sp.BatchSize, Planned: sp.Planned, Creator: string(sp.Creator), CreatedAt: sp.At, Status: string(st.Status()),
		StopRequested: st.StopRequested(), Executions: ids(st.Executions()),
		Summary: &generated.TaskSummary{Count: sum.Count, Created: sum.Created, Queued: sum.Queued, Started: sum.Started,
			Stopping: sum.Stopping, Stopped: sum.Stopped, Complete: sum.Complete, Error: sum.Error, Crashed: sum.Crashed}}
	if len(sp.Variants) > 0 {
		out.Variants = sp.Variants
	}
	if len(sp.ParameterSets) > 0 {
		out.ParameterSets = sp.ParameterSets
	}
	return out
}

func environmentOf(st environment.State) generated.Environment {
	sp := st.Spec()
	return generated.Environment{ID: string(st.ID()), Slug: st.Slug(), Name: sp.Name, Cpus: sp.CPUs, MemoryBytes: int(sp.MemoryBytes),
		Gpus: sp.GPUs, GpuModel: str(sp.GPUModel), PricePerHour: sp.PricePerHour.String(), MaxScale: sp.MaxScale, PerUserQuota: sp.PerUserQuota}
}

func specOf(in generated.EnvironmentInput) (environment.Spec, error) {
	price, err := domain.ParseMoney(in.PricePerHour)
	if err != nil {
		return environment.Spec{}, err
	}
	sp := environment.Spec{Name: in.Name, CPUs: in.Cpus, MemoryBytes: int64(in.MemoryBytes), PricePerHour: price}
	if in.Gpus != nil {
		sp.GPUs = *in.Gpus
	}
	if in.GpuModel != nil {
		sp.GPUModel = *in.GpuModel
	}
	if in.MaxScale != nil {
		sp.MaxScale = *in.MaxScale
	}
	if in.PerUserQuota != nil {
		sp.PerUserQuota = *in.PerUserQuota
	}
	return sp, nil
}

func deploymentOf(st deployment.State) *generated.Deployment {
	out := &generated.Deployment{ID: string(st.ID()), Project: string(st.Project()), Name: st.Name(), Versions: []generated.DeploymentVersion{}}
	for _, v := range st.Versions() {
		files, _ := st.Files(v)
		gv := generated.DeploymentVersion{Version: v, Files: make([]generated.DeploymentFile, 0, len(files))}
		for _, f := range files {
			gv.Files = append(gv.Files, generated.DeploymentFile{Endpoint: f.Endpoint, Name: f.Name, Datum: string(f.Datum)})
		}
		out.Versions = append(out.Versions, gv)
	}
	return out
}

// skipGone reports whether err means an entity listed in the audit log cannot be shown
// to the caller (gone from view or not theirs), so a list leaves it out.
func skipGone(err error) bool {
	return errors.Is(err, domain.ErrNotFound) || errors.Is(err, app.ErrForbidden)
}
