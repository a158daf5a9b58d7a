package bus_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestDeps keeps the bus a leaf: its packages import the standard library,
// the AMQP client and, of esign's own packages, only esign (errors) and
// each other.
func TestDeps(t *testing.T) {
	allowed := map[string]bool{
		"esign/internal/esign":           true,
		"esign/internal/bus":             true,
		"github.com/rabbitmq/amqp091-go": true,
	}
	for _, dir := range []string{".", "inproc", "amqp", "bustest"} {
		t.Run(strings.ReplaceAll(dir, ".", "bus"), func(t *testing.T) {
			pkg, err := build.ImportDir(dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range pkg.Imports {
				std := !strings.Contains(strings.Split(imp, "/")[0], ".") && !strings.HasPrefix(imp, "esign/")
				if !std && !allowed[imp] {
					t.Errorf("%s imports %s", dir, imp)
				}
			}
		})
	}
}
