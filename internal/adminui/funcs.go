package adminui

import (
	"encoding/hex"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"time"

	"esign/internal/esign"
	"esign/internal/operators"
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
		"has":  func(list []string, s string) bool { return slices.Contains(list, s) },
		"lastOf": func(list []string) string {
			if len(list) == 0 {
				return ""
			}
			return list[len(list)-1]
		},
		"deliveryClass": func(s esign.DeliveryStatus) string {
			switch s {
			case esign.DeliverySent:
				return "badge-ok"
			case esign.DeliveryFailed, esign.DeliveryExpired, esign.DeliveryRateLimited:
				return "badge-err"
			case esign.DeliveryRetrying:
				return "badge-warn"
			}
			return ""
		},
		"jobClass": func(s string) string {
			switch s {
			case "completed":
				return "badge-ok"
			case "discarded", "cancelled":
				return "badge-err"
			case "retryable":
				return "badge-warn"
			}
			return ""
		},
		"eventClass": func(s string) string {
			switch s {
			case "delivered":
				return "badge-ok"
			case "failed":
				return "badge-err"
			}
			return "badge-warn"
		},
		"redactURL": redactURL,
		"urlKey":    operators.URLKey,
		"short": func(s string) string {
			if len(s) > 16 {
				return s[:16] + "…"
			}
			return s
		},
	}
}

// redactURL hides a password in a URL's user information (a callback
// URL may carry Basic credentials).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
