package archtest

import "testing"

// TestCustomizeIsStandalone: package customize, which a bank's own main
// imports (docs/customization.md), imports only the standard library, and
// only cmd/esigncmd joins it to the CLI.
func TestCustomizeIsStandalone(t *testing.T) {
	deps := imports(t, "../../customize")
	if len(deps) == 0 {
		t.Fatal("found no customize package: wrong directory?")
	}
	for pkg, imps := range deps {
		for _, imp := range imps {
			t.Errorf("%s imports %s: customize imports only the standard library", pkg, imp)
		}
	}
	cmds := imports(t, "../../cmd")
	if imps := cmds["cmd/esigncmd"]; len(imps) != 2 {
		t.Errorf("cmd/esigncmd imports %v, want customize and internal/cli only", imps)
	}
}
