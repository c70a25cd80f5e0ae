package graphql

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	gql "github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/graphql/generated"
	"github.com/stratahq/strata/projections"
	"github.com/stratahq/strata/runner"
)

// Resolver resolves the schema's root fields; one serves every request.
type Resolver struct {
	app     *app.Service
	log     events.Store
	reads   *projections.Reads
	engine  *projections.Engine
	now     func() time.Time
	written *written
	gapless bool
	logs    LogFollower
	code    runner.CodeFetcher
}

// wrote records that the caller's token wrote position p and returns p for the result.
func (r *Resolver) wrote(ctx context.Context, p events.Position) uint64 {
	if pr, ok := app.PrincipalFrom(ctx); ok {
		r.written.note(pr.Token, p)
	}
	return uint64(p)
}

func (r *Resolver) result(ctx context.Context, p events.Position, err error) (*generated.WriteResult, error) {
	if err != nil {
		return nil, err
	}
	return &generated.WriteResult{Position: r.wrote(ctx, p)}, nil
}

// access resolves a project ID or slug and checks the caller's role in it.
func (r *Resolver) access(ctx context.Context, raw string, need project.Role) (project.State, error) {
	id, err := r.app.ProjectID(ctx, raw)
	if err != nil {
		return project.State{}, err
	}
	return r.app.Access(ctx, id, need)
}

// requireAdmin checks that the caller authenticated with a server-admin token.
func requireAdmin(ctx context.Context) error {
	if p, ok := app.PrincipalFrom(ctx); !ok || !p.Admin {
		return app.ErrNotAdmin
	}
	return nil
}

func toAsOf(a *generated.AsOf) projections.AsOf {
	if a == nil {
		return projections.AsOf{}
	}
	var out projections.AsOf
	if a.Position != nil {
		out.Position = events.Position(*a.Position)
	}
	if a.Time != nil {
		out.Time = *a.Time
	}
	return out
}

func str[T ~string](s T) *string {
	if s == "" {
		return nil
	}
	v := string(s)
	return &v
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func posPtr(p events.Position) *uint64 {
	if p == 0 {
		return nil
	}
	v := uint64(p)
	return &v
}

func ids[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

func roleOf(r project.Role) generated.Role { return generated.Role(strings.ToUpper(string(r))) }

func projectOf(st project.State, viewer domain.UserID) generated.Project {
	p := generated.Project{
		ID: string(st.ID()), Slug: st.Slug(), Name: st.Name(), CreatedAt: st.CreatedAt(),
		Repository: str(st.Repository()), DefaultStore: str(st.DefaultStore()), Environments: ids(st.Environments()),
		ExecutionCount: st.Last(project.CounterExecution),
	}
	members := st.Members()
	users := make([]domain.UserID, 0, len(members))
	for u := range members {
		users = append(users, u)
	}
	slices.Sort(users)
	for _, u := range users {
		p.Members = append(p.Members, generated.Member{User: string(u), Role: roleOf(members[u])})
	}
	p.Role = roleOf(members[viewer])
	overrides := st.StoreOverrides()
	p.StoreOverrides = make([]generated.StoreOverride, 0, len(overrides))
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		p.StoreOverrides = append(p.StoreOverrides, generated.StoreOverride{Name: name, Store: overrides[name]})
	}
	return p
}

func statusOf(s domain.ExecutionStatus) generated.ExecutionStatus {
	for _, g := range generated.AllExecutionStatus {
		if strings.EqualFold(string(g), string(s)) {
			return g
		}
	}
	return generated.ExecutionStatus(strings.ToUpper(string(s)))
}

func (r *Resolver) executionOf(x projections.Execution) *generated.Execution {
	out := &generated.Execution{}
	r.fillExecution(out, &x, r.now())
	return out
}

// fillExecution sets *out to x measured at now: a page fills its nodes in place.
func (r *Resolver) fillExecution(out *generated.Execution, x *projections.Execution, now time.Time) {
	*out = generated.Execution{
		ID: string(x.ID), Project: string(x.Project), Number: x.Number, Counter: project.CounterExecution.Format(x.Number),
		Step: x.Step, Title: str(x.Title), Repository: str(x.Code.Repository), Commit: str(x.Code.Commit), Adhoc: str(x.Code.Adhoc),
		Image: x.Image, ImageDigest: str(x.ImageDigest), Commands: nonNil(x.Commands), Environment: string(x.Environment),
		Host: str(x.Host), Creator: string(x.Creator), Task: str(x.Task), Tags: nonNil(x.Tags), Status: statusOf(x.Status),
		Reason: str(x.Reason), StopRequestedBy: str(x.StopRequestedBy), CreatedAt: x.CreatedAt, QueuedAt: timePtr(x.QueuedAt),
		StartedAt: timePtr(x.StartedAt), EndedAt: timePtr(x.EndedAt), Duration: x.Duration(now).Seconds(),
		Cost: x.Cost(now).String(), MetadataPoints: x.MetadataPoints, Position: uint64(x.Position), Updated: uint64(x.Updated),
		Parameters: make([]generated.Parameter, 0, len(x.Parameters)), Inputs: make([]generated.ExecutionInput, 0, len(x.Inputs)),
		InputFiles: make([]generated.InputFile, 0, len(x.InputFiles)), Outputs: make([]generated.Output, 0, len(x.Outputs)),
		Warnings: make([]generated.InputWarning, 0, len(x.Warnings)),
	}
	if !x.EndedAt.IsZero() && x.Status != domain.StatusStopped && x.Status != domain.StatusCrashed {
		code := x.ExitCode
		out.ExitCode = &code
	}
	for _, p := range x.Parameters {
		out.Parameters = append(out.Parameters, generated.Parameter{Name: p.Name, Type: string(p.Type), Values: nonNil(p.Values)})
	}
	for _, in := range x.Inputs {
		gi := generated.ExecutionInput{Name: in.Name, Uris: []generated.ResolvedURI{}}
		for _, u := range in.URIs {
			gi.Uris = append(gi.Uris, generated.ResolvedURI{URI: u.URI, Datums: ids(u.Datums)})
		}
		out.Inputs = append(out.Inputs, gi)
	}
	for _, f := range x.InputFiles {
		out.InputFiles = append(out.InputFiles, generated.InputFile{Input: f.Input, URI: f.URI, Datum: str(f.Datum), FileName: f.FileName, Size: int(f.Size)})
	}
	for _, o := range x.Outputs {
		out.Outputs = append(out.Outputs, generated.Output{Datum: string(o.Datum), Path: o.Path, At: o.At})
	}
	if len(x.Metadata) > 0 {
		out.Metadata = metadataJSON(x.Metadata)
	}
	for _, w := range x.Warnings {
		gw := generated.InputWarning{Input: w.Input, URI: w.URI, FileName: w.FileName, Earlier: string(w.Earlier),
			EarlierNumber: w.EarlierNumber, Message: w.Message(), Changed: []generated.DigestChange{}}
		for _, c := range w.Changed {
			gw.Changed = append(gw.Changed, generated.DigestChange{Algorithm: c.Algorithm, Before: c.Before, After: c.After})
		}
		out.Warnings = append(out.Warnings, gw)
	}
}

// metadataJSON is json.Marshal(m) for less: the JSON scalar's marshaller encodes a map by
// reflection and sorts its keys, which cost a page of the table more than all its other
// fields but one. Keys that need no escaping (all of them, in practice) are written as
// they are; the marshaller still compacts and HTML-escapes the values, as it did.
func metadataJSON(m map[string]json.RawMessage) json.RawMessage {
	keys := slices.Sorted(maps.Keys(m))
	n := 2
	for _, k := range keys {
		n += len(k) + len(m[k]) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		if plainKey(k) {
			b = append(append(append(b, '"'), k...), '"')
		} else {
			q, _ := json.Marshal(k) // a string always encodes
			b = append(b, q...)
		}
		b = append(append(b, ':'), m[k]...)
	}
	return append(b, '}')
}

// plainKey reports whether encoding/json writes k as it is between quotes: printable
// ASCII without quotes, backslashes or what it escapes for HTML.
func plainKey(k string) bool {
	for i := range len(k) {
		if c := k[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func aliasOf(f projections.AliasFact) generated.AliasFact {
	return generated.AliasFact{Project: string(f.Project), Alias: f.Alias, Target: str(f.Target), Previous: str(f.Previous),
		Deleted: f.Deleted, Actor: str(f.Actor), At: f.At, From: uint64(f.From), To: posPtr(f.To)}
}

func datumOf(d app.Datum) *generated.Datum {
	out := &generated.Datum{ID: string(d.ID), Project: string(d.Project), Name: d.Name, Size: int(d.Size),
		Md5: hex.EncodeToString(d.Digests.MD5[:]), Sha1: hex.EncodeToString(d.Digests.SHA1[:]),
		Sha256: hex.EncodeToString(d.Digests.SHA256[:]), Blake3: d.Digests.BLAKE3.String(), Store: str(d.Store),
		Execution: str(d.Execution), Uploader: str(d.Uploader), CreatedAt: d.CreatedAt, Purged: d.Purged, Tags: nonNil(d.Tags)}
	if len(d.Properties) > 0 {
		out.Properties = d.Properties
	}
	return out
}

func eventOf(e projections.AuditEntry) generated.Event {
	return generated.Event{Position: uint64(e.Position), Stream: string(e.Stream), Version: int(e.Version), ID: e.ID.String(),
		Type: e.Type, Schema: e.Schema, RecordedAt: e.RecordedAt, Actor: str(e.Actor), CorrelationID: str(e.CorrelationID),
		CausationID: str(e.CausationID), Data: json.RawMessage(e.Data)}
}

func envelopeEvent(e events.Envelope) *generated.Event {
	return &generated.Event{Position: uint64(e.Position), Stream: string(e.Stream), Version: int(e.Version), ID: e.ID.String(),
		Type: e.Type, Schema: e.Schema, RecordedAt: e.RecordedAt, Actor: str(e.Actor), CorrelationID: str(e.CorrelationID),
		CausationID: str(e.CausationID), Data: json.RawMessage(e.Data)}
}

// lineageProject returns the project the lineage read model records for the node id:
// one read of a projection, where the log's own stream of the execution or datum takes
// a scan of the event store. Empty if it records none (the caller asks the log).
func (r *Resolver) lineageProject(ctx context.Context, id string) (domain.ProjectID, error) {
	n, err := r.reads.LineageNode(ctx, id, projections.AsOf{})
	if errors.Is(err, projections.ErrNotFound) {
		return "", nil
	}
	return n.Project, err
}

// lineageNode returns the lineage node node names, as the lineage read model keys it
// (a datum alias given as alias:<project>/<name> becomes projections.AliasNode's
// alias:datum://<project>/<name>), and the project it belongs to, for the access check.
func (r *Resolver) lineageNode(ctx context.Context, node string) (string, domain.ProjectID, error) {
	kind, rest, _ := strings.Cut(node, ":")
	switch kind {
	case projections.KindExecution:
		id, err := domain.ParseExecutionID(rest)
		if err != nil {
			return "", "", err
		}
		if p, err := r.lineageProject(ctx, projections.ExecutionNode(id)); err != nil || p != "" {
			return projections.ExecutionNode(id), p, err
		}
		x, err := r.reads.Execution(ctx, id, projections.AsOf{})
		if err != nil {
			return "", "", err
		}
		return projections.ExecutionNode(id), x.Project, nil
	case projections.KindDatum:
		id, err := domain.ParseDatumID(rest)
		if err != nil {
			return "", "", err
		}
		if p, err := r.lineageProject(ctx, projections.DatumNode(id)); err != nil || p != "" {
			return projections.DatumNode(id), p, err
		}
		d, err := r.app.GetDatum(ctx, id)
		if err != nil {
			return "", "", err
		}
		return projections.DatumNode(id), d.Project, nil
	case projections.KindAlias:
		p, name, err := projections.ParseAliasNode(node)
		if err != nil {
			return "", "", fmt.Errorf("lineage node: %w", err)
		}
		return projections.AliasNode(p, name), p, nil
	}
	return "", "", fmt.Errorf("lineage node %.80q: start from an execution:, datum: or alias: node: %w", node, domain.ErrInvalid)
}

// selected returns the fields the request selects at path (field names, under any alias)
// below the field being resolved, so a resolver reads only what is asked for; nil if it
// selects nothing there.
func selected(ctx context.Context, path ...string) []gql.CollectedField {
	oc := gql.GetOperationContext(ctx)
	fields := gql.CollectFieldsCtx(ctx, nil)
	for _, name := range path {
		var sel ast.SelectionSet
		for _, f := range fields {
			if f.Name == name {
				sel = append(sel, f.Selections...)
			}
		}
		if len(sel) == 0 {
			return nil
		}
		fields = gql.CollectFields(oc, sel, nil)
	}
	return fields
}

// inSummary reports whether the Execution field name is answered by an execution's
// summary (projections.ExecutionQuery.Summary).
func inSummary(name string) bool {
	switch name {
	case "__typename", "id", "project", "number", "counter", "step", "environment", "creator", "task", "tags",
		"status", "createdAt", "startedAt", "endedAt", "duration", "cost", "metadata":
		return true
	}
	return false
}
