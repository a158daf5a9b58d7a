package customers

import "time"

// SetSessionCacheClock replaces the clock of the service's session cache,
// so that tests move it instead of sleeping.
func SetSessionCacheClock(s *Service, now func() time.Time) { s.cache.now = now }
