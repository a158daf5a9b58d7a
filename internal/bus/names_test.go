package bus_test

import (
	"strings"
	"testing"

	"esign/internal/bus"
	"esign/internal/esign"
)

func TestNamespace(t *testing.T) {
	tests := []struct {
		name, ns string
		ok       bool
		queue    string // bus.QueueApp on the broker
	}{
		{"empty", "", true, "esign:rpc-app"},
		{"simple", "bank-a", true, "bank-a:esign:rpc-app"},
		{"digits_underscore", "0staging_2", true, "0staging_2:esign:rpc-app"},
		{"longest", strings.Repeat("a", bus.MaxNamespace), true, strings.Repeat("a", bus.MaxNamespace) + ":esign:rpc-app"},
		{"too_long", strings.Repeat("a", bus.MaxNamespace+1), false, ""},
		{"upper_case", "Bank", false, ""},
		{"space", "bank a", false, ""},
		{"colon", "a:b", false, ""},
		{"dot", "amq.x", false, ""},
		{"leading_dash", "-a", false, ""},
		{"leading_underscore", "_a", false, ""},
		{"non_ascii", "bankä", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := bus.CheckNamespace(tt.ns)
			if tt.ok != (err == nil) {
				t.Fatalf("CheckNamespace(%q) = %v, want ok %v", tt.ns, err, tt.ok)
			}
			if err != nil {
				if !esign.IsKind(err, esign.Invalid) {
					t.Errorf("kind of %v, want Invalid", err)
				}
				return
			}
			if got := bus.Qualify(tt.ns, bus.QueueApp); got != tt.queue {
				t.Errorf("Qualify(%q, %q) = %q, want %q", tt.ns, bus.QueueApp, got, tt.queue)
			}
			if err := bus.CheckName("queue", bus.Qualify(tt.ns, bus.QueueApp)); err != nil {
				t.Errorf("the qualified name is not a valid name: %v", err)
			}
		})
	}
}
