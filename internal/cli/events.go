package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"esign/internal/esign"
	"esign/internal/sqlstore"
)

// runEvents: esign events [--status pending|delivered|failed] [--type T]
// [--limit N] lists the deliveries of events to the bank's callback URLs,
// newest first: the operators' view of events out until the admin UI shows
// them.
func runEvents(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "events")
	status := fs.String("status", "", "only deliveries in this state: pending, delivered or failed")
	typ := fs.String("type", "", "only events of this type, e.g. offer.revoked")
	limit := fs.Int("limit", 50, "at most this many deliveries")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch *status {
	case "", "pending", "delivered", "failed":
	default:
		return usagef("--status %q: want pending, delivered or failed", *status)
	}
	if fs.NArg() > 0 || *limit < 1 || *limit > 1000 {
		return usagef("usage: esign events [--status pending|delivered|failed] [--type TYPE] [--limit 1..1000]")
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	db, err := openCurrentDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	ds, err := db.ListEventDeliveries(ctx, sqlstore.EventDeliveryFilter{Status: *status, Type: *typ, Page: esign.Page{Limit: *limit}})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tTYPE\tSUBJECT\tURL\tSTATUS\tATTEMPTS\tLAST\tCREATED")
	for _, d := range ds {
		last := d.LastError
		if d.LastStatus != 0 {
			last = fmt.Sprintf("HTTP %d %s", d.LastStatus, d.LastError)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.EventID, d.EventType, d.SubjectID, d.URL, d.Status, d.Attempts, last, d.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}
