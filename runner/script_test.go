package runner_test

import (
	"testing"

	"github.com/stratahq/strata/runner"
)

func TestJoinCommand(t *testing.T) {
	tests := []struct {
		name   string
		cmds   []string
		joiner string
		want   string
	}{
		{"empty", nil, " && ", ""},
		{"skips blanks", []string{"a", "", "  ", "b"}, " && ", "a && b"},
		{"shebang alone", []string{"#!/bin/sh", "a"}, " && ", "#!/bin/sh\na"},
		{"shebang only", []string{"#!/bin/sh"}, " && ", "#!/bin/sh"},
		{"shebang with a body", []string{"#!/bin/bash\necho a", "echo b"}, " && ", "#!/bin/bash\necho a && echo b"},
		{"no shebang in later commands", []string{"a", "#!/bin/sh"}, " && ", "a && #!/bin/sh"},
		{"runner script: one command per line", []string{"a", " ", "b"}, "\n", "a\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runner.JoinCommand(tt.cmds, tt.joiner); got != tt.want {
				t.Errorf("JoinCommand() = %q, want %q", got, tt.want)
			}
		})
	}
}
