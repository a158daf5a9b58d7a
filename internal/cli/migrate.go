package cli

import (
	"context"
	"fmt"
)

// runMigrate: esign migrate up|down|status. Production runs "up" before
// starting a new version; "down" rolls back one migration.
func runMigrate(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "migrate")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: esign migrate up|down|status")
	}
	action := fs.Arg(0)
	switch action {
	case "up", "down", "status":
	default:
		return usagef("unknown migrate action %q: want up, down or status", action)
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	db, err := openToolDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch action {
	case "up":
		if err := migrateAll(ctx, db); err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
	case "down":
		if err := db.MigrateDown(ctx); err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
	}
	return db.MigrateStatus(ctx, env.Stdout)
}
