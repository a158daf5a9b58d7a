package customers

import (
	"context"
	"encoding/json"

	"esign/internal/esign"
	"esign/internal/sqlstore"
)

// Block blocks the customer (an operator's decision, userID): the
// customer can no longer sign in, and every session of every app of the
// customer — the mobile apps and the web app — ends at once. Errors:
// NotFound, Conflict (already_blocked, deleted).
func (s *Service) Block(ctx context.Context, customerID, userID string) (*esign.Customer, error) {
	const op = "customers.Block"
	out, err := s.setBlocked(ctx, op, customerID, userID, true)
	if err != nil {
		return nil, err
	}
	apps, err := s.db.ListApps(ctx, esign.AppFilter{CustomerID: customerID, Page: esign.Page{Limit: 1000}})
	if err != nil {
		return nil, esign.E(op, err)
	}
	for _, a := range apps {
		if err := s.sessions.RevokeAppSessions(ctx, a.ID); err != nil {
			return nil, esign.E(op, err)
		}
	}
	return out, nil
}

// Unblock lifts a block: the customer is active again, or pending when an
// operator never approved the registration. Errors: NotFound, Conflict
// (not_blocked).
func (s *Service) Unblock(ctx context.Context, customerID, userID string) (*esign.Customer, error) {
	return s.setBlocked(ctx, "customers.Unblock", customerID, userID, false)
}

func (s *Service) setBlocked(ctx context.Context, op, customerID, userID string, block bool) (*esign.Customer, error) {
	var out *esign.Customer
	err := s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		c, err := tx.GetCustomer(ctx, customerID)
		if err != nil {
			return err
		}
		st, kind := esign.CustomerBlocked, "customer.blocked"
		switch {
		case c.Status == esign.CustomerDeleted:
			return esign.WithCode(op, esign.Conflict, "deleted", "the customer is deleted")
		case block && c.Status == esign.CustomerBlocked:
			return esign.WithCode(op, esign.Conflict, "already_blocked", "the customer is already blocked")
		case !block && c.Status != esign.CustomerBlocked:
			return esign.WithCode(op, esign.Conflict, "not_blocked", "the customer is not blocked")
		case !block && c.ApprovedAt.IsZero():
			st, kind = esign.CustomerPending, "customer.unblocked"
		case !block:
			st, kind = esign.CustomerActive, "customer.unblocked"
		}
		if out, err = tx.UpdateCustomer(ctx, c.ID, esign.CustomerUpdate{Status: &st}); err != nil {
			return err
		}
		detail, err := json.Marshal(map[string]string{"user_id": userID})
		if err != nil {
			return err
		}
		return tx.CreateActivity(ctx, activity(c.ID, "", kind, string(detail), Meta{}))
	})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return out, nil
}

// CustomerSessions lists the open sessions of every app of the customer,
// for the operators' customer page.
func (s *Service) CustomerSessions(ctx context.Context, customerID string) ([]Session, error) {
	const op = "customers.CustomerSessions"
	apps, err := s.db.ListApps(ctx, esign.AppFilter{CustomerID: customerID, Page: esign.Page{Limit: 1000}})
	if err != nil {
		return nil, esign.E(op, err)
	}
	var out []Session
	for _, a := range apps {
		ss, err := s.sessions.ListAppSessions(ctx, a.ID, s.now())
		if err != nil {
			return nil, esign.E(op, err)
		}
		out = append(out, ss...)
	}
	return out, nil
}
