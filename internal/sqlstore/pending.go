package sqlstore

import (
	"context"
	"fmt"

	"esign/internal/esign"
)

// CheckSchema returns Unavailable with an operator-facing message when
// migrations are pending, so that a process started before `esign migrate
// up` says so instead of failing later on a missing table.
func (db *DB) CheckSchema(ctx context.Context) error {
	const op = "sqlstore.CheckSchema"
	p, err := db.provider()
	if err != nil {
		return esign.E(op, err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return db.wrap(op, fmt.Errorf("check migrations: %w", err))
	}
	if pending {
		return esign.E(op, esign.Unavailable, "the database schema is not current: run 'esign migrate up' (or set database.auto_migrate)")
	}
	return nil
}
