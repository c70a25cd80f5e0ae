package domain_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports_StandardLibraryOnly keeps domain the stored schema: nothing below it may
// depend on anything but the standard library and itself.
func TestImports_StandardLibraryOnly(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ./...: %v\n%s", err, out)
	}
	var checked int
	for _, pkg := range strings.Fields(string(out)) {
		checked++
		if pkg != "github.com/stratahq/strata/domain" && !strings.HasPrefix(pkg, "github.com/stratahq/strata/domain/") {
			t.Errorf("domain depends on %s; only the standard library and domain itself are allowed", pkg)
		}
	}
	if checked == 0 {
		t.Fatal("go list listed no domain packages")
	}
}
