package domain_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stratahq/strata/domain"
)

func TestCheckName(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"train-images", ""},
		{"model.v2_final", ""},
		{"A1", ""},
		{"", "missing"},
		{"has space", "not allowed"},
		{"..", "must start with a letter or digit"},
		{"a/../b", "not allowed"},
		{"tab\there", "not allowed"},
		{"nul\x00", "not allowed"},
		{"-leading", "must start"},
		{"ünïcode", "must start"},
		{strings.Repeat("a", domain.MaxNameLen+1), "longer than"},
	}
	for _, tt := range tests {
		err := domain.CheckName("alias", tt.in)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (!errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckName(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestCheckSlug(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"my-project", ""},
		{"gpu-a100-x1", ""},
		{"x", ""},
		{"", "missing"},
		{"My-Project", "not allowed"},
		{"-lead", "not allowed"},
		{"trail-", "not allowed"},
		{"dou--ble", "not allowed"},
		{"sp ace", "not allowed"},
		{"a.b", "not allowed"},
		{strings.Repeat("a", domain.MaxSlugLen+1), "longer than"},
	}
	for _, tt := range tests {
		err := domain.CheckSlug("slug", tt.in)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (!errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckSlug(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestCheckText(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"Train the model (v2) — ünïcode fine", ""},
		{"", "missing"},
		{"   ", "missing"},
		{"line\nbreak", "control character"},
		{"bell\a", "control character"},
		{"\xff\xfe", "not valid UTF-8"},
		{strings.Repeat("x", 11), "longer than 10"},
	}
	for _, tt := range tests {
		err := domain.CheckText("title", tt.in, 10+len(tt.in)*boolInt(tt.wantErr == ""))
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (!errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckText(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestParseUserID(t *testing.T) {
	for _, ok := range []string{"alice", "alice@example.com", "runner:host-1"} {
		if _, err := domain.ParseUserID(ok); err != nil {
			t.Errorf("ParseUserID(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "al ice", "bob\x00", "\xff", strings.Repeat("u", domain.MaxUserLen+1)} {
		if _, err := domain.ParseUserID(bad); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("ParseUserID(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestNormalizeTags(t *testing.T) {
	got, err := domain.NormalizeTags([]string{"b", "a", "b", "needs review"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b", "a", "needs review"}, got); diff != "" {
		t.Errorf("NormalizeTags() (-want +got):\n%s", diff)
	}
	for _, bad := range [][]string{{""}, {" padded"}, {"x\ny"}, {strings.Repeat("t", domain.MaxTagLen+1)}} {
		if _, err := domain.NormalizeTags(bad); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("NormalizeTags(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestExecutionStatus(t *testing.T) {
	var terminal []domain.ExecutionStatus
	for _, s := range domain.ExecutionStatuses() {
		if !s.IsValid() {
			t.Errorf("%s.IsValid() = false", s)
		}
		if s.IsTerminal() {
			terminal = append(terminal, s)
		}
	}
	want := []domain.ExecutionStatus{domain.StatusStopped, domain.StatusComplete, domain.StatusError, domain.StatusCrashed}
	if diff := cmp.Diff(want, terminal); diff != "" {
		t.Errorf("terminal statuses (-want +got):\n%s", diff)
	}
	if domain.ExecutionStatus("running").IsValid() {
		t.Error(`"running".IsValid() = true`)
	}
}

func TestCheckPath(t *testing.T) {
	for _, ok := range []string{"model.pb", "checkpoints/epoch 3.pt", "a/b/c"} {
		if err := domain.CheckPath("path", ok); err != nil {
			t.Errorf("CheckPath(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "/etc/passwd", "a/../b", "..", "./a", "a//b", "a/", `a\b`, "a\x00", strings.Repeat("p", domain.MaxKeyLen+1)} {
		if err := domain.CheckPath("path", bad); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("CheckPath(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestChangedProperties(t *testing.T) {
	cur := map[string]json.RawMessage{"a": json.RawMessage(`1`), "b": json.RawMessage(`"x"`)}
	got, err := domain.ChangedProperties(cur, map[string]json.RawMessage{
		"a": json.RawMessage(` 1 `), "b": json.RawMessage(`null`), "c": json.RawMessage(`{ "k" : [1, 2] }`), "d": json.RawMessage(`null`),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]json.RawMessage{"b": json.RawMessage(`null`), "c": json.RawMessage(`{"k":[1,2]}`)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ChangedProperties() (-want +got):\n%s", diff)
	}
	applied := domain.ApplyProperties(cur, got)
	if diff := cmp.Diff(map[string]json.RawMessage{"a": json.RawMessage(`1`), "c": json.RawMessage(`{"k":[1,2]}`)}, applied); diff != "" {
		t.Errorf("ApplyProperties() (-want +got):\n%s", diff)
	}
	for _, bad := range []map[string]json.RawMessage{{"": json.RawMessage(`1`)}, {"k": json.RawMessage(`{`)}, {"k\n": json.RawMessage(`1`)}} {
		if _, err := domain.ChangedProperties(nil, bad); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("ChangedProperties(%v) = %v, want ErrInvalid", bad, err)
		}
	}
}
