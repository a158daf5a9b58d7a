package config

// Geo configures the location recorded with each customer activity
// (docs/customer-ui.md, "Location").
type Geo struct {
	MMDBPath string `json:"mmdb_path" help:"Path of a MaxMind DB file (GeoLite2-City / GeoIP2-City format, read at start) that maps client addresses to country and city, recorded with each customer activity. Empty: the location is \"unknown\"."`
}
