package sqlstore

import (
	"context"

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
