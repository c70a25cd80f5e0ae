package runnertest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/stratahq/strata/adapters/valohaiyaml"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/domain/environment"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/graphql"
	"github.com/stratahq/strata/runner"
)

// Features are what differs between launchers.
type Features struct {
	// Image is the image steps run in (busybox in it); launchers without images ignore it.
	Image string
	// ImageDigest: the launcher reports image digests.
	ImageDigest bool
	// InputsWriteProtected: even root cannot write the inputs (a read-only mount).
	InputsWriteProtected bool
}

// Env is the stores a test runs against; each call must give empty, isolated ones.
type Env struct {
	Log   events.Store
	Blobs blob.Store
	// Logs, if set, is where the runner keeps logs; otherwise in memory.
	Logs *runner.Logs
	// Code, if set, fetches commits (adapters/git); otherwise the repository directory of
	// an execution of a commit stays empty. Ad-hoc code is always unpacked.
	Code runner.CodeFetcher
}

// Harness is a runner over the app service, with one project, one environment and a
// user, alice, who may do everything.
type Harness struct {
	T       testing.TB
	App     *app.Service
	Runner  *runner.Runner
	Log     events.Store
	Codec   *events.Codec
	Blobs   blob.Store
	Project domain.ProjectID
	Env     domain.EnvironmentID
	Image   string
}

// NoopYAML has one step, noop, that writes one output and exits.
const NoopYAML = `
- step:
    name: noop
    image: IMAGE
    command: echo done > "$VH_OUTPUTS_DIR/done.txt"
`

// Alice is the harness's user.
const Alice domain.UserID = "alice"

// NewHarness returns a harness whose runner uses l and cfg (WorkDir and Host are set when
// empty; short periods are the default).
func NewHarness(t testing.TB, f Features, l runner.Launcher, e Env, cfg runner.Config) *Harness {
	t.Helper()
	codec, err := events.NewCodec(app.Events())
	if err != nil {
		t.Fatalf("NewCodec() error = %v", err)
	}
	svc, err := app.New(app.Config{Stores: storecfg.Config{Stores: []storecfg.Store{{Name: "local", Kind: storecfg.KindFS, Bucket: t.TempDir()}}, Default: "local"}},
		app.Deps{Log: e.Log, Codec: codec, Blobs: map[string]blob.Store{"local": e.Blobs}})
	if err != nil {
		t.Fatalf("app.New() error = %v", err)
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = t.TempDir()
	}
	if cfg.Host == "" {
		cfg.Host = "test-host"
	}
	if cfg.SampleEvery == 0 {
		cfg.SampleEvery = 100 * time.Millisecond
	}
	if cfg.PollEvery == 0 {
		cfg.PollEvery = 50 * time.Millisecond
	}
	if cfg.MetadataEvery == 0 {
		cfg.MetadataEvery = 100 * time.Millisecond
	}
	if cfg.Grace == 0 {
		cfg.Grace = time.Second
	}
	r, err := runner.New(cfg, runner.Deps{Log: e.Log, Codec: codec, Outputs: svc, Launcher: l, Inputs: svc, Logs: e.Logs,
		Code: e.Code, Adhoc: svc})
	if err != nil {
		t.Fatalf("runner.New() error = %v", err)
	}
	if f.Image == "" {
		f.Image = "busybox" // recorded, not used
	}
	h := &Harness{T: t, App: svc, Runner: r, Log: e.Log, Codec: codec, Blobs: e.Blobs, Image: f.Image,
		Project: domain.ProjectID(uuid.NewString()), Env: domain.EnvironmentID(uuid.NewString())}
	at := time.Now().UTC()
	mustExec(t, h, app.ProjectStream(h.Project), project.Decide, project.Evolve, project.Command(project.Create{Project: h.Project, Slug: "vision", Name: "Vision", Owner: Alice, At: at}))
	mustExec(t, h, app.EnvironmentStream(h.Env), environment.Decide, environment.Evolve, environment.Command(environment.Create{
		Environment: h.Env, Slug: "cpu", Spec: environment.Spec{Name: "CPU", CPUs: 1, MemoryBytes: 1 << 30, PricePerHour: 1000}, At: at}))
	mustExec(t, h, app.ProjectStream(h.Project), project.Decide, project.Evolve, project.Command(project.EnableEnvironment{Environment: h.Env, At: at}))
	return h
}

func mustExec[S any, C any, E events.Event](t testing.TB, h *Harness, stream events.StreamID, decide func(S, C) ([]E, error), evolve func(S, E) S, cmd C) {
	t.Helper()
	if _, err := events.Execute(t.Context(), h.Log, h.Codec, stream, events.Decider[S, C, E]{Decide: decide, Evolve: evolve}, cmd, events.Meta{Actor: string(Alice)}); err != nil {
		t.Fatalf("execute %T: %v", cmd, err)
	}
}

// AddMember makes user an editor of the project.
func (h *Harness) AddMember(user domain.UserID) {
	h.T.Helper()
	mustExec(h.T, h, app.ProjectStream(h.Project), project.Decide, project.Evolve, project.Command(project.SetMember{User: user, Role: project.RoleEditor, At: time.Now().UTC()}))
}

// AddEnvironment creates an environment of spec and enables it for the project.
func (h *Harness) AddEnvironment(spec environment.Spec) domain.EnvironmentID {
	h.T.Helper()
	id, at := domain.EnvironmentID(uuid.NewString()), time.Now().UTC()
	mustExec(h.T, h, app.EnvironmentStream(id), environment.Decide, environment.Evolve, environment.Command(environment.Create{
		Environment: id, Slug: "env-" + string(id[:8]), Spec: spec, At: at}))
	mustExec(h.T, h, app.ProjectStream(h.Project), project.Decide, project.Evolve, project.Command(project.EnableEnvironment{Environment: id, At: at}))
	return id
}

// Ctx is a context acting as Alice.
func (h *Harness) Ctx() context.Context { return app.WithActor(h.T.Context(), Alice) }

// Create creates an execution of step name of the valohai.yaml yml ("IMAGE" in it is
// replaced by the harness's image); edit, if set, changes the request first.
func (h *Harness) Create(yml, name string, params map[string]any, inputs map[string][]string, edit func(*app.CreateExecution)) domain.ExecutionID {
	h.T.Helper()
	return h.CreateAs(Alice, yml, name, params, inputs, edit)
}

// CreateAs is Create on behalf of user, who must be an editor of the project (see
// AddMember).
func (h *Harness) CreateAs(user domain.UserID, yml, name string, params map[string]any, inputs map[string][]string, edit func(*app.CreateExecution)) domain.ExecutionID {
	t := h.T
	t.Helper()
	cfg, problems, err := valohaiyaml.Parse("valohai.yaml", []byte(quoteCommands(strings.ReplaceAll(yml, "IMAGE", h.Image))))
	if err != nil || valohaiyaml.HasErrors(problems) {
		t.Fatalf("Parse() = %v, %v", problems, err)
	}
	step := cfg.Step(name)
	if step == nil {
		t.Fatalf("no step %s", name)
	}
	c, err := graphql.FromStep(step, params, inputs)
	if err != nil {
		t.Fatalf("FromStep() error = %v", err)
	}
	c.Project, c.Environment = h.Project, h.Env
	c.Code = execution.Code{Repository: "https://example.com/vision.git", Commit: strings.Repeat("ab", 20)}
	if edit != nil {
		edit(&c)
	}
	res, err := h.App.CreateExecution(app.WithActor(h.T.Context(), user), c)
	if err != nil {
		t.Fatalf("CreateExecution() error = %v", err)
	}
	return res.ID
}

// quoteCommands quotes the items of each command list of yml, so they may be written
// plainly in the suite.
func quoteCommands(yml string) string {
	lines := strings.Split(yml, "\n")
	in := false
	for i, l := range lines {
		switch {
		case strings.TrimSpace(l) == "command:":
			in = true
		case in && strings.HasPrefix(l, "      - "):
			q, _ := json.Marshal(strings.TrimPrefix(l, "      - "))
			lines[i] = "      - " + string(q)
		default:
			in = false
		}
	}
	return strings.Join(lines, "\n")
}

// MustStart records that execution id was queued and started on the runner's host, as a
// worker that then died would have.
func (h *Harness) MustStart(id domain.ExecutionID) {
	h.T.Helper()
	for _, c := range []execution.Command{execution.Queue{At: time.Now().UTC()}, execution.Start{Host: "test-host", At: time.Now().UTC()}} {
		if _, err := events.Execute(h.T.Context(), h.Log, h.Codec, app.ExecutionStream(id), executionDecider, c, events.Meta{Actor: "runner:test-host"}); err != nil {
			h.T.Fatalf("execute %T: %v", c, err)
		}
	}
}

var executionDecider = events.Decider[execution.State, execution.Command, execution.Event]{Decide: execution.Decide, Evolve: execution.Evolve}

// Upload uploads content as a datum called name.
func (h *Harness) Upload(name, content string) domain.DatumID {
	h.T.Helper()
	res, err := h.App.Upload(h.Ctx(), app.Upload{Project: h.Project, Name: name, Content: strings.NewReader(content)})
	if err != nil {
		h.T.Fatalf("Upload() error = %v", err)
	}
	return res.Datum.ID
}

// Events returns the events of execution id.
func (h *Harness) Events(id domain.ExecutionID) []execution.Event {
	h.T.Helper()
	envs, err := h.Log.Load(context.Background(), app.ExecutionStream(id), 0)
	if err != nil {
		h.T.Fatalf("Load() error = %v", err)
	}
	var out []execution.Event
	for _, env := range envs {
		ev, err := h.Codec.Decode(env)
		if err != nil {
			h.T.Fatalf("Decode() error = %v", err)
		}
		out = append(out, ev.(execution.Event))
	}
	return out
}

// Datum returns the state of datum id and its content.
func (h *Harness) Datum(id domain.DatumID) (datum.State, string) {
	h.T.Helper()
	st, _, err := events.Fold(context.Background(), h.Log, h.Codec, app.DatumStream(id), datum.State{}, datum.Evolve)
	if err != nil || !st.Exists() {
		h.T.Fatalf("load datum %s: %v", id, err)
	}
	rc, err := h.Blobs.Open(context.Background(), st.Digests().BLAKE3)
	if err != nil {
		h.T.Fatalf("open datum %s: %v", id, err)
	}
	defer rc.Close() //nolint:errcheck // read only
	b, err := io.ReadAll(rc)
	if err != nil {
		h.T.Fatalf("read datum %s: %v", id, err)
	}
	return st, string(b)
}

// Log returns the log of id as text, one "stream: message" per line.
func (h *Harness) LogText(id domain.ExecutionID) string {
	var b strings.Builder
	for _, l := range h.Runner.Logs().Lines(id) {
		b.WriteString(string(l.Stream) + ": " + l.Message + "\n")
	}
	return b.String()
}

// Outputs returns the output datums of id by path.
func (h *Harness) Outputs(id domain.ExecutionID) map[string]execution.OutputRecorded {
	out := map[string]execution.OutputRecorded{}
	for _, e := range h.Events(id) {
		if o, ok := e.(execution.OutputRecorded); ok {
			out[o.Path] = o
		}
	}
	return out
}

// Run runs the suite against the launchers newLauncher returns.
func Run(t *testing.T, f Features, newLauncher func(t *testing.T) runner.Launcher, newEnv func(t testing.TB) Env) {
	t.Run("EndToEnd", func(t *testing.T) {
		t.Parallel()
		testEndToEnd(t, NewHarness(t, f, newLauncher(t), newEnv(t), runner.Config{}), f)
	})
	t.Run("FailingCommand", func(t *testing.T) {
		t.Parallel()
		testFailing(t, NewHarness(t, f, newLauncher(t), newEnv(t), runner.Config{}))
	})
	t.Run("Stop", func(t *testing.T) {
		t.Parallel()
		testStop(t, NewHarness(t, f, newLauncher(t), newEnv(t), runner.Config{}), false)
	})
	t.Run("StopIgnoringSIGTERM", func(t *testing.T) {
		t.Parallel()
		testStop(t, NewHarness(t, f, newLauncher(t), newEnv(t), runner.Config{Grace: 300 * time.Millisecond}), true)
	})
	t.Run("TimeLimit", func(t *testing.T) {
		t.Parallel()
		testTimeout(t, NewHarness(t, f, newLauncher(t), newEnv(t), runner.Config{Grace: 300 * time.Millisecond}), false)
	})
	t.Run("NoOutputTimeout", func(t *testing.T) {
		t.Parallel()
		testTimeout(t, NewHarness(t, f, newLauncher(t), newEnv(t), runner.Config{Grace: 300 * time.Millisecond}), true)
	})
	t.Run("Secrets", func(t *testing.T) {
		t.Parallel()
		testSecrets(t, NewHarness(t, f, newLauncher(t), newEnv(t), runner.Config{Secrets: runner.StaticSecrets{"API_TOKEN": "tok-123-secret"}}))
	})
	t.Run("AliasChain", func(t *testing.T) {
		t.Parallel()
		testAliasChain(t, NewHarness(t, f, newLauncher(t), newEnv(t), runner.Config{}))
	})
	t.Run("InputPlacement", func(t *testing.T) {
		t.Parallel()
		testInputPlacement(t, NewHarness(t, f, newLauncher(t), newEnv(t), runner.Config{}))
	})
}

const trainYAML = `
- step:
    name: train
    image: IMAGE
    command:
      - stat -c 'mode=%a' "$VH_INPUTS_DIR/data/data.csv"
      - if touch "$VH_INPUTS_DIR/data/new" 2>/dev/null; then echo input-writable; else echo input-protected; fi
      - cat "$VH_INPUTS_DIR/data/data.csv" > "$VH_OUTPUTS_DIR/copy.csv"
      - p=$(sed -n 's/.*"path": "\([^"]*\)".*/\1/p' "$VH_CONFIG_DIR/inputs.json"); if [ "$p" = "$VH_INPUTS_DIR/data/data.csv" ] && [ -r "$p" ]; then echo inputs-json-ok; else echo "inputs-json-path=$p"; fi
      - echo '{"epoch": 1, "loss": 0.5}'
      - echo 'not json {'
      - e={parameter-value:epochs}; echo "{\"epoch\": $e, \"loss\": 0.25}"
      - mkdir -p "$VH_OUTPUTS_DIR/sub" && echo model > "$VH_OUTPUTS_DIR/sub/model.bin"
      - echo '{"valohai.alias":"best-model","valohai.tags":["validated"],"accuracy":0.95,"valohai.dataset-versions":[{"uri":"dataset://models/v1","targeting_aliases":["prod"]}]}' > "$VH_OUTPUTS_DIR/sub/model.bin.metadata.json"
      - echo '{"file":"copy.csv","metadata":{"kind":"copy","valohai.dataset-versions":["dataset://models/v1"]}}' > "$VH_OUTPUTS_DIR/valohai.metadata.jsonl"
      - ln -s /etc/passwd "$VH_OUTPUTS_DIR/leak"
      - echo live > "$VH_OUTPUTS_DIR/live.txt" && chmod 444 "$VH_OUTPUTS_DIR/live.txt"
      - i=0; while [ -e "$VH_OUTPUTS_DIR/live.txt" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; echo "live-gone=$i"
      - cat "$VH_CONFIG_DIR/parameters.json"; echo
      - echo "job=$VH_JOB_ID wd=$(pwd)"
      - echo oops >&2
    parameters:
      - name: epochs
        type: integer
        default: 3
    inputs:
      - name: data
- step:
    name: secret
    image: IMAGE
    command:
      - if [ "${API_TOKEN#tok-123}" = "-secret" ]; then echo secret-ok; else echo secret-missing; fi
      - echo "plain=$PLAIN"
- step:
    name: fail
    image: IMAGE
    command:
      - echo partial > "$VH_OUTPUTS_DIR/partial.txt"
      - echo before
      - exit 7
      - echo never
- step:
    name: loop
    image: IMAGE
    command:
      - echo partial > "$VH_OUTPUTS_DIR/partial.txt"
      - if [ {parameter-value:ignore} = 1 ]; then trap '' TERM; else trap 'echo got-TERM; exit 0' TERM; fi
      - echo started
      - while true; do sleep 0.05; done
    parameters:
      - name: ignore
        type: integer
        default: 0
- step:
    name: quiet
    image: IMAGE
    command:
      - echo partial > "$VH_OUTPUTS_DIR/partial.txt"
      - echo started
      - sleep 30
- step:
    name: produce
    image: IMAGE
    command:
      - echo "weights of $(cat "$VH_INPUTS_DIR/raw/raw.txt")" > "$VH_OUTPUTS_DIR/model.txt"
      - echo '{"valohai.alias":"latest-model"}' > "$VH_OUTPUTS_DIR/model.txt.metadata.json"
    inputs:
      - name: raw
- step:
    name: consume
    image: IMAGE
    command:
      - cat "$VH_INPUTS_DIR/model/model.txt"
      - cat "$VH_INPUTS_DIR/model/model.txt" | tr a-z A-Z > "$VH_OUTPUTS_DIR/report.txt"
    inputs:
      - name: model
        default: datum://latest-model
`

func run(t *testing.T, h *Harness, id domain.ExecutionID) runner.Result {
	t.Helper()
	res, err := h.Runner.Run(h.Ctx(), id)
	if err != nil {
		t.Fatalf("Run() error = %v\nlog:\n%s", err, h.LogText(id))
	}
	return res
}

func eventTypes(evs []execution.Event) []string {
	var out []string
	for _, e := range evs {
		if n := e.EventType(); len(out) == 0 || out[len(out)-1] != n {
			out = append(out, n)
		}
	}
	return out
}

func testEndToEnd(t *testing.T, h *Harness, f Features) {
	input := "a,b\n1,2\n"
	data := h.Upload("data.csv", input)
	id := h.Create(trainYAML, "train", map[string]any{"epochs": int64(5)}, map[string][]string{"data": {"datum://" + string(data)}}, nil)
	res := run(t, h, id)
	log := h.LogText(id)
	if res.Status != domain.StatusComplete || res.ExitCode != 0 {
		t.Fatalf("Run() = %+v, want complete with exit code 0\nlog:\n%s", res, log)
	}
	evs := h.Events(id)
	types := eventTypes(evs)
	wantOrder := []string{"execution.Created", "execution.Queued", "execution.Started", "execution.InputHashed"}
	if !slices.Equal(types[:4], wantOrder) || types[len(types)-1] != "execution.Finished" {
		t.Errorf("event types = %v, want %v ... execution.Finished", types, wantOrder)
	}
	for _, want := range []string{"mode=444", "inputs-json-ok", "live-gone=", `"epochs": 5`, "job=exec-" + string(id), "stderr: oops", "status: started on test-host"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "live-gone=100") {
		t.Errorf("read-only output was not uploaded live:\n%s", log)
	}
	if f.InputsWriteProtected && !strings.Contains(log, "input-protected") {
		t.Errorf("inputs are writable:\n%s", log)
	}
	var points []execution.MetadataPoint
	var hashed []execution.InputHashed
	for _, e := range evs {
		switch e := e.(type) {
		case execution.MetadataRecorded:
			points = append(points, e.Points...)
		case execution.InputHashed:
			hashed = append(hashed, e)
		case execution.Started:
			if e.Host != "test-host" {
				t.Errorf("Started.Host = %q", e.Host)
			}
			if f.ImageDigest && !strings.HasPrefix(e.ImageDigest, "sha256:") {
				t.Errorf("Started.ImageDigest = %q, want sha256:...", e.ImageDigest)
			}
		case execution.Created, execution.Queued, execution.ResourcesSampled, execution.OutputRecorded, execution.Finished,
			execution.StopRequested, execution.Stopped, execution.Crashed, execution.TagsAdded, execution.TagsRemoved:
		}
	}
	if len(points) != 2 || string(points[0].Values["loss"]) != "0.5" || string(points[1].Values["epoch"]) != "5" || points[0].Time.IsZero() {
		t.Errorf("metadata points = %+v, want epoch 1 loss 0.5, epoch 5 loss 0.25, with _time", points)
	}
	b3 := blob.DigestBytes([]byte(input))
	if len(hashed) != 1 || hashed[0].Datum != data || hashed[0].BLAKE3 != b3.BLAKE3 || hashed[0].Size != int64(len(input)) {
		t.Errorf("inputs hashed = %+v, want data.csv with blake3 %s", hashed, b3.BLAKE3)
	}
	outs := h.Outputs(id)
	var paths []string
	for p := range outs {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	if want := []string{"copy.csv", "live.txt", "sub/model.bin"}; !slices.Equal(paths, want) {
		t.Fatalf("outputs = %v, want %v (sidecars and the leaving symlink are not outputs)", paths, want)
	}
	if len(res.Refused) != 1 || !strings.Contains(res.Refused[0], "leak") {
		t.Errorf("Refused = %v, want the symlink leak", res.Refused)
	}
	if st, content := h.Datum(outs["copy.csv"].Datum); content != input || st.Producer() != id || string(st.Properties()["kind"]) != `"copy"` {
		t.Errorf("copy.csv datum = %q produced by %s props %v", content, st.Producer(), st.Properties())
	}
	model, content := h.Datum(outs["sub/model.bin"].Datum)
	if content != "model\n" || !slices.Contains(model.Tags(), "validated") || string(model.Properties()["accuracy"]) != "0.95" {
		t.Errorf("model datum = %q tags %v props %v", content, model.Tags(), model.Properties())
	}
	al, _, err := events.Fold(context.Background(), h.Log, h.Codec, app.AliasStream(h.Project, "best-model"), alias.State{}, alias.Evolve)
	if target, ok := al.Target(); err != nil || !ok || target != model.ID() {
		t.Errorf("alias best-model -> %v, %v, want %s", target, err, model.ID())
	}
	ds, _, err := events.Fold(context.Background(), h.Log, h.Codec, app.DatasetStream(h.Project, "models"), dataset.State{}, dataset.Evolve)
	if _, files, rerr := ds.Resolve("prod"); err != nil || rerr != nil || len(files) != 2 || !slices.Contains(files, model.ID()) || !slices.Contains(files, outs["copy.csv"].Datum) {
		t.Errorf("dataset://models/prod = %v, %v, %v, want model.bin and copy.csv", files, err, rerr)
	}
	if !strings.Contains(log, "Created dataset version 'dataset://models/v1' with 2 files") {
		t.Errorf("log lacks the dataset version:\n%s", log)
	}
	if res.Resources.Samples == 0 {
		// The run is short; a sample is likely but not certain.
		t.Logf("no resource samples taken")
	}
}

// testSecrets: a secret variable's value reaches the commands from the runner's secret
// source and is in no event; one the source lacks crashes the run, naming the variable.
func testSecrets(t *testing.T, h *Harness) {
	vars := func(c *app.CreateExecution) {
		c.Variables = []execution.EnvironmentVariable{{Name: "API_TOKEN", Secret: true}, {Name: "PLAIN", Value: "visible"}}
	}
	id := h.Create(trainYAML, "secret", nil, nil, vars)
	res := run(t, h, id)
	if log := h.LogText(id); res.Status != domain.StatusComplete || !strings.Contains(log, "secret-ok") || !strings.Contains(log, "plain=visible") {
		t.Errorf("Run() = %+v\nlog:\n%s", res, log)
	}
	envs, err := h.Log.ReadAll(context.Background(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		if strings.Contains(string(env.Data), "tok-123-secret") {
			t.Errorf("event %s holds the secret value", env.Type)
		}
	}
	missing := h.Create(trainYAML, "secret", nil, nil, func(c *app.CreateExecution) {
		c.Variables = []execution.EnvironmentVariable{{Name: "OTHER_TOKEN", Secret: true}}
	})
	res, err = h.Runner.Run(h.Ctx(), missing)
	if !errors.Is(err, runner.ErrNoSecret) || res.Status != domain.StatusCrashed || !strings.Contains(res.Reason, "OTHER_TOKEN") {
		t.Errorf("Run() without the secret = %+v, %v, want crashed naming OTHER_TOKEN", res, err)
	}
}

func testFailing(t *testing.T, h *Harness) {
	id := h.Create(trainYAML, "fail", nil, nil, nil)
	res := run(t, h, id)
	if res.Status != domain.StatusError || res.ExitCode != 7 || res.Reason != "exit code 7" {
		t.Fatalf("Run() = %+v, want error with exit code 7", res)
	}
	if log := h.LogText(id); !strings.Contains(log, "before") || strings.Contains(log, "never") {
		t.Errorf("log:\n%s", log)
	}
	if _, ok := h.Outputs(id)["partial.txt"]; !ok {
		t.Errorf("outputs after an error = %v, want partial.txt", h.Outputs(id))
	}
	evs := h.Events(id)
	if fin, ok := evs[len(evs)-1].(execution.Finished); !ok || fin.ExitCode != 7 || fin.Status != domain.StatusError {
		t.Errorf("last event = %+v, want Finished with exit code 7", evs[len(evs)-1])
	}
}

// waitLog waits until the log of id holds s.
func waitLog(t *testing.T, h *Harness, id domain.ExecutionID, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(h.LogText(id), s) {
		if time.Now().After(deadline) {
			t.Errorf("log never showed %q:\n%s", s, h.LogText(id))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testStop(t *testing.T, h *Harness, ignoreTERM bool) {
	params := map[string]any{}
	if ignoreTERM {
		params["ignore"] = int64(1)
	}
	id := h.Create(trainYAML, "loop", params, nil, nil)
	done := make(chan runner.Result, 1)
	go func() {
		res, err := h.Runner.Run(h.Ctx(), id)
		if err != nil {
			t.Errorf("Run() error = %v", err)
		}
		done <- res
	}()
	waitLog(t, h, id, "stdout: started")
	start := time.Now()
	if err := h.Runner.Stop(h.Ctx(), id, Alice); err != nil {
		t.Fatalf("Stop() error = %v", err)
	}
	var res runner.Result
	select {
	case res = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Run() did not return after Stop")
	}
	log := h.LogText(id)
	if res.Status != domain.StatusStopped {
		t.Fatalf("Run() = %+v, want stopped\nlog:\n%s", res, log)
	}
	if ignoreTERM && !strings.Contains(log, "SIGKILL") {
		t.Errorf("no SIGKILL after the grace period:\n%s", log)
	}
	if !ignoreTERM && time.Since(start) > 20*time.Second {
		t.Errorf("stop took %s", time.Since(start))
	}
	if _, ok := h.Outputs(id)["partial.txt"]; !ok {
		t.Errorf("outputs after a stop = %v, want partial.txt", h.Outputs(id))
	}
	types := eventTypes(h.Events(id))
	if n := len(types); n < 2 || types[n-2] != "execution.OutputRecorded" && types[n-2] != "execution.StopRequested" || types[n-1] != "execution.Stopped" {
		t.Errorf("events = %v, want ... StopRequested ... OutputRecorded, Stopped", types)
	}
	if err := h.Runner.Stop(h.Ctx(), id, Alice); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("Stop() of a stopped execution error = %v, want ErrConflict", err)
	}
}

func testTimeout(t *testing.T, h *Harness, noOutput bool) {
	id := h.Create(trainYAML, "quiet", nil, nil, func(c *app.CreateExecution) {
		if noOutput {
			c.NoOutput = 300 * time.Millisecond
		} else {
			c.TimeLimit = 500 * time.Millisecond
		}
	})
	start := time.Now()
	res := run(t, h, id)
	want := "time limit of 500ms exceeded"
	if noOutput {
		want = "no output for 300ms (no-output timeout)"
	}
	if res.Status != domain.StatusError || res.Reason != want || res.ExitCode == 0 {
		t.Fatalf("Run() = %+v, want error %q\nlog:\n%s", res, want, h.LogText(id))
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Run() took %s", d)
	}
	if _, ok := h.Outputs(id)["partial.txt"]; !ok {
		t.Errorf("outputs after a time-out = %v, want partial.txt", h.Outputs(id))
	}
	// The run lasts several sample periods: the completion event has the summary.
	evs := h.Events(id)
	fin, ok := evs[len(evs)-1].(execution.Finished)
	if !ok || fin.Resources == nil || fin.Resources.Samples != res.Resources.Samples || fin.Resources.PeakMemoryBytes != res.Resources.PeakMemoryBytes {
		t.Errorf("last event = %+v, want Finished with the resource summary %+v", evs[len(evs)-1], res.Resources)
	}
}

// testAliasChain: the second step reads the first step's output through the alias its
// sidecar set, and the lineage leads from the final output back to the first input.
func testAliasChain(t *testing.T, h *Harness) {
	raw := h.Upload("raw.txt", "cats")
	first := h.Create(trainYAML, "produce", nil, map[string][]string{"raw": {"datum://" + string(raw)}}, nil)
	if res := run(t, h, first); res.Status != domain.StatusComplete {
		t.Fatalf("produce = %+v\n%s", res, h.LogText(first))
	}
	second := h.Create(trainYAML, "consume", nil, nil, nil)
	res := run(t, h, second)
	if res.Status != domain.StatusComplete {
		t.Fatalf("consume = %+v\n%s", res, h.LogText(second))
	}
	report, content := h.Datum(h.Outputs(second)["report.txt"].Datum)
	if content != "WEIGHTS OF CATS\n" {
		t.Errorf("report = %q", content)
	}
	// Lineage: report <- consume <- model.txt <- produce <- raw.txt.
	var chain []string
	d := report
	for range 4 {
		chain = append(chain, d.Name())
		producer := d.Producer()
		if producer == "" {
			break
		}
		var in domain.DatumID
		for _, e := range h.Events(producer) {
			if ih, ok := e.(execution.InputHashed); ok {
				in = ih.Datum
			}
		}
		if in == "" {
			break
		}
		d, _ = h.Datum(in)
	}
	if want := []string{"report.txt", "model.txt", "raw.txt"}; !slices.Equal(chain, want) {
		t.Errorf("lineage = %v, want %v", chain, want)
	}
	if d.ID() != raw {
		t.Errorf("lineage ends at %s, want %s", d.ID(), raw)
	}
}

const placementYAML = `
- step:
    name: place
    image: IMAGE
    command:
      - cd "$VH_INPUTS_DIR" && find . -type f | sort | sed 's/^/file: /'
      - grep -o '"path": "[^"]*' "$VH_CONFIG_DIR/inputs.json" | cut -d'"' -f4 | sed "s|^$VH_INPUTS_DIR/|path: |"
    inputs:
      - name: flat
        optional: true
      - name: tree
        keep-directories: suffix
      - name: full
        keep-directories: full
      - name: model
        filename: weights.bin
      - name: many
        filename: ignored.txt
        optional: true
`

// testInputPlacement: keep-directories none/suffix/full and filename place input files as
// valohai.yaml says, in the inputs directory and in config/inputs.json; files that would
// land on one path crash the run before it starts, naming both.
func testInputPlacement(t *testing.T, h *Harness) {
	train, test, labels := h.Upload("train/a.csv", "1"), h.Upload("test/a.csv", "2"), h.Upload("labels.txt", "3")
	model := h.Upload("models/m.pb", "4")
	ds := domain.DatasetID(uuid.NewString())
	mustExec(t, h, app.DatasetStream(h.Project, "iris"), dataset.Decide, dataset.Evolve, dataset.Command(dataset.Create{Dataset: ds, Project: h.Project, Name: "iris", At: time.Now().UTC()}))
	mustExec(t, h, app.DatasetStream(h.Project, "iris"), dataset.Decide, dataset.Evolve, dataset.Command(dataset.CreateVersion{Version: "v1", Add: []domain.DatumID{train, test, labels}, At: time.Now().UTC()}))
	id := h.Create(placementYAML, "place", nil, map[string][]string{
		"tree": {"dataset://iris/v1"}, "full": {"datum://" + string(model)}, "model": {"datum://" + string(model)},
		"many": {"datum://" + string(labels), "datum://" + string(train)},
	}, nil)
	res := run(t, h, id)
	log := h.LogText(id)
	if res.Status != domain.StatusComplete {
		t.Fatalf("Run() = %+v, want complete\nlog:\n%s", res, log)
	}
	for _, want := range []string{
		"file: ./tree/train/a.csv", "file: ./tree/test/a.csv", "file: ./tree/labels.txt", "file: ./full/models/m.pb",
		"file: ./model/weights.bin", "file: ./many/labels.txt", "file: ./many/a.csv",
		"path: tree/train/a.csv", "path: full/models/m.pb", "path: model/weights.bin", "path: many/a.csv",
		"input many: filename ignored.txt has no effect: the input has 2 files",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}

	clash := h.Create(placementYAML, "place", nil, map[string][]string{
		"flat": {"dataset://iris/v1"}, "tree": {"dataset://iris/v1"}, "full": {"datum://" + string(model)}, "model": {"datum://" + string(model)},
	}, nil)
	res, err := h.Runner.Run(h.Ctx(), clash)
	if !errors.Is(err, app.ErrInputCollision) {
		t.Errorf("Run(colliding input) error = %v, want app.ErrInputCollision", err)
	}
	var reason string
	for _, e := range h.Events(clash) {
		if c, ok := e.(execution.Crashed); ok {
			reason = c.Reason
		}
	}
	if res.Status != domain.StatusCrashed || !strings.Contains(reason, "would both be written to a.csv") || !strings.Contains(reason, `prepare input "flat"`) {
		t.Errorf("Run(colliding input) = %+v, crash reason %q, want crashed naming both files", res, reason)
	}
}
