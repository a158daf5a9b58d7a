package sqlstore

import (
	"context"
	"database/sql"

	"esign/internal/esign"
)

// PushTarget is one device a push notification to a customer goes to.
type PushTarget struct {
	AppID string
	Token string // the FCM registration token
}

// CustomerPushTargets lists the FCM tokens of the customer's associated
// apps, oldest app first. Errors: Internal.
func (s *store) CustomerPushTargets(ctx context.Context, customerID string) ([]PushTarget, error) {
	const op = "sqlstore.CustomerPushTargets"
	if !esign.ValidID(customerID) {
		return nil, nil
	}
	rows, err := s.query(ctx, `SELECT a.id, f.token FROM app a JOIN fcm_info f ON f.app_id = a.id
		WHERE a.customer_id = ? AND a.status = ? ORDER BY a.created_at, a.id`, customerID, esign.AppAssociated)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []PushTarget
	for rows.Next() {
		var t PushTarget
		if err := rows.Scan(&t.AppID, &t.Token); err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

// CustomerByRefWithPushTargets returns the customer with the external
// reference and its push targets (as CustomerPushTargets) in one
// statement; nil when there is no such customer. Errors: Internal.
func (s *store) CustomerByRefWithPushTargets(ctx context.Context, ref string) (*esign.Customer, []PushTarget, error) {
	const op = "sqlstore.CustomerByRefWithPushTargets"
	rows, err := s.query(ctx, `SELECT `+customers.qualified("c")+`, a.id, f.token FROM customer c
		LEFT JOIN (app a JOIN fcm_info f ON f.app_id = a.id) ON a.customer_id = c.id AND a.status = ?
		WHERE c.external_ref = ? ORDER BY a.created_at, a.id`, esign.AppAssociated, ref)
	if err != nil {
		return nil, nil, s.wrap(op, err)
	}
	defer rows.Close()
	var (
		c   *esign.Customer
		out []PushTarget
	)
	for rows.Next() {
		var (
			row          esign.Customer
			appID, token sql.NullString
		)
		if err := rows.Scan(append(customers.fields(&row), &appID, &token)...); err != nil {
			return nil, nil, s.wrap(op, err)
		}
		if c == nil {
			c = &row
		}
		if appID.Valid {
			out = append(out, PushTarget{AppID: appID.String, Token: token.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, s.wrap(op, err)
	}
	return c, out, nil
}
