package runner

import "strings"

// JoinCommand joins a step's built commands into one script with joiner, skipping
// blank commands; the runner joins with "\n" and runs the script as
// `/bin/sh -e -c Script` (Spec.Script), so the first failing command ends the run.
// A shebang ("#!...") starting the first command stays on a line of its own at the
// top. With joiner " && " it is valohai-yaml's join_command.
func JoinCommand(commands []string, joiner string) string {
	var parts []string
	for _, c := range commands {
		if strings.TrimSpace(c) != "" {
			parts = append(parts, c)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	if !strings.HasPrefix(parts[0], "#!") {
		return strings.Join(parts, joiner)
	}
	shebang, rest, _ := strings.Cut(parts[0], "\n")
	if strings.TrimSpace(rest) == "" {
		parts = parts[1:]
	} else {
		parts[0] = rest
	}
	if len(parts) == 0 {
		return shebang
	}
	return shebang + "\n" + strings.Join(parts, joiner)
}
