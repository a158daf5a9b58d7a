package adminui

import (
	"encoding/hex"
	"html/template"
	"net/url"
	"strconv"
	"time"

	"esign/internal/esign"
)

func urlQuery(s string) string { return url.QueryEscape(s) }

// funcs are the admin templates' helpers.
func funcs() template.FuncMap {
	return template.FuncMap{
		// when shows a time in UTC, to the minute; "—" for the zero time.
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		// whenSec shows a time to the second (evidence).
		"whenSec": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"isoDate": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02")
		},
		"stateClass": func(s esign.OfferState) string {
			switch s {
			case esign.OfferSigned:
				return "badge-ok"
			case esign.OfferRefused, esign.OfferRevoked, esign.OfferExpired:
				return "badge-err"
			case esign.OfferSigning:
				return "badge-warn"
			}
			return ""
		},
		"statusClass": func(s esign.CustomerStatus) string {
			switch s {
			case esign.CustomerActive:
				return "badge-ok"
			case esign.CustomerPending:
				return "badge-warn"
			case esign.CustomerBlocked, esign.CustomerDeleted:
				return "badge-err"
			}
			return ""
		},
		"kib": func(n int64) string {
			switch {
			case n >= 1<<20:
				return formatFloat(float64(n)/(1<<20)) + " MiB"
			case n >= 1<<10:
				return formatFloat(float64(n)/(1<<10)) + " KiB"
			}
			return formatInt(n) + " B"
		},
		// args passes several values to a template: (args $ x).
		"args": func(v ...any) []any { return v },
		"hex":  func(b []byte) string { return hex.EncodeToString(b) },
		"short": func(s string) string {
			if len(s) > 16 {
				return s[:16] + "…"
			}
			return s
		},
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
