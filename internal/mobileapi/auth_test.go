package mobileapi

import "testing"

// TestCachedSessionRoutes: only the reading requests (and the idempotent
// acknowledgement and the time-stamp) may authenticate from the session
// cache; whatever signs, checks a secret or changes the session reads it
// every time (docs/mobile-api.md, "Revocation bound across replicas").
func TestCachedSessionRoutes(t *testing.T) {
	cached := map[string]bool{
		"GET /api/offers": true, "GET /api/offer/{id}": true, "GET /api/contracts": true, "GET /api/contract/{id}": true,
		"GET /api/contract/{id}/acknowledge": true, "POST /api/contract/{id}/acknowledge": true,
		"GET /api/document/{id}": true, "POST /api/document/{id}/mark-as-read": true,
		"GET /api/signature/{id}/status": true, "POST /api/timestamp": true,
	}
	fresh := []string{"POST /api/signature/m1", "POST /api/signature/m2", "POST /api/customer/2f-auth",
		"POST /api/customer/logout", "POST /api/offer/{id}/refuse"}
	seen := map[string]bool{}
	for _, rt := range Routes() {
		k := rt.Method + " " + rt.Path
		seen[k] = true
		isCached := rt.auth == authSessionCached || rt.auth == authAnyCached
		if isCached != cached[k] {
			t.Errorf("%s: cached session %v, want %v", k, isCached, cached[k])
		}
	}
	for _, k := range fresh {
		if !seen[k] {
			t.Errorf("%s is not a route any more: update this test", k)
		}
	}
}
