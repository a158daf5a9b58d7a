package sqlstore

import (
	"context"

	"esign/internal/esign"
)

var customers = newTable("customer", "customer",
	[]string{"id", "external_ref", "name", "email", "phone", "username", "password_hash",
		"status", "locale", "approved_at", "approved_by", "created_at", "updated_at"},
	func(c *esign.Customer) []any {
		return []any{&c.ID, &c.ExternalRef, &c.Name, &c.Email, &c.Phone, nstr(&c.Username), &c.PasswordHash,
			&c.Status, &c.Locale, tm(&c.ApprovedAt), nstr(&c.ApprovedBy), tm(&c.CreatedAt), tm(&c.UpdatedAt)}
	})

// CreateCustomer stores a new customer; an empty Status becomes pending.
// On success c holds the stored row (ID, CreatedAt, UpdatedAt).
// Errors: Invalid (validation, unknown approving user), Conflict (external
// reference or username taken).
func (s *store) CreateCustomer(ctx context.Context, c *esign.Customer) error {
	const op = "sqlstore.CreateCustomer"
	if c.Status == "" {
		c.Status = esign.CustomerPending
	}
	return createRow(ctx, s, op, customers, c, &c.ID, &c.CreatedAt, &c.UpdatedAt)
}

// GetCustomer returns the customer with the id. Errors: NotFound.
func (s *store) GetCustomer(ctx context.Context, id string) (*esign.Customer, error) {
	return getByID(ctx, s, "sqlstore.GetCustomer", customers, id)
}

// ListCustomers lists the customers matching f, oldest first.
func (s *store) ListCustomers(ctx context.Context, f esign.CustomerFilter) ([]*esign.Customer, error) {
	var w where
	eq(&w, "id", f.ID)
	eq(&w, "external_ref", f.ExternalRef)
	eq(&w, "username", f.Username)
	eq(&w, "status", f.Status)
	return listRows(ctx, s, "sqlstore.ListCustomers", customers, &w, "created_at, id", f.Page)
}

// UpdateCustomer applies upd and returns the stored customer. Errors:
// NotFound, Invalid (a value not allowed), Conflict (username taken).
func (s *store) UpdateCustomer(ctx context.Context, id string, upd esign.CustomerUpdate) (*esign.Customer, error) {
	const op = "sqlstore.UpdateCustomer"
	var u setter
	setIf(&u, "name", upd.Name)
	setIf(&u, "email", upd.Email)
	setIf(&u, "phone", upd.Phone)
	setNullIf(&u, "username", upd.Username)
	setIf(&u, "password_hash", upd.PasswordHash)
	setIf(&u, "status", upd.Status)
	setIf(&u, "locale", upd.Locale)
	setIf(&u, "approved_at", upd.ApprovedAt)
	setNullIf(&u, "approved_by", upd.ApprovedBy)
	return updateRow(ctx, s, op, customers, id, &u)
}

// DeleteCustomer deletes a customer with its attributes, activities, apps
// and tokens. Errors: NotFound, Invalid (the customer still has offers,
// contracts, documents or signatures: set the status to deleted instead).
func (s *store) DeleteCustomer(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteCustomer", customers, id)
}

var customerData = newTable("customer_data", "customer attribute",
	[]string{"id", "customer_id", "key", "value", "created_at", "updated_at"},
	func(d *esign.CustomerData) []any {
		return []any{&d.ID, &d.CustomerID, &d.Key, &d.Value, tm(&d.CreatedAt), tm(&d.UpdatedAt)}
	})

// CreateCustomerData stores a new customer attribute. Errors: Invalid
// (validation, unknown customer), Conflict (the key exists for the customer).
func (s *store) CreateCustomerData(ctx context.Context, d *esign.CustomerData) error {
	const op = "sqlstore.CreateCustomerData"
	return createRow(ctx, s, op, customerData, d, &d.ID, &d.CreatedAt, &d.UpdatedAt)
}

// GetCustomerData returns the attribute with the id. Errors: NotFound.
func (s *store) GetCustomerData(ctx context.Context, id string) (*esign.CustomerData, error) {
	return getByID(ctx, s, "sqlstore.GetCustomerData", customerData, id)
}

// ListCustomerData lists attributes by key.
func (s *store) ListCustomerData(ctx context.Context, f esign.CustomerDataFilter) ([]*esign.CustomerData, error) {
	var w where
	eq(&w, "customer_id", f.CustomerID)
	eq(&w, "key", f.Key)
	return listRows(ctx, s, "sqlstore.ListCustomerData", customerData, &w, "customer_id, key", f.Page)
}

// UpdateCustomerData sets the value of an attribute. Errors: NotFound.
func (s *store) UpdateCustomerData(ctx context.Context, id, value string) (*esign.CustomerData, error) {
	var u setter
	u.set("value", value)
	return updateRow(ctx, s, "sqlstore.UpdateCustomerData", customerData, id, &u)
}

// DeleteCustomerData deletes an attribute. Errors: NotFound.
func (s *store) DeleteCustomerData(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteCustomerData", customerData, id)
}

var activities = newTable("activity", "activity",
	[]string{"id", "customer_id", "offer_id", "kind", "detail", "ip", "user_agent", "location", "created_at"},
	func(a *esign.Activity) []any {
		return []any{&a.ID, &a.CustomerID, nstr(&a.OfferID), &a.Kind, &a.Detail, &a.IP, &a.UserAgent, &a.Location, tm(&a.CreatedAt)}
	})

// CreateActivity records a customer activity. Errors: Invalid (validation,
// unknown customer or offer).
func (s *store) CreateActivity(ctx context.Context, a *esign.Activity) error {
	const op = "sqlstore.CreateActivity"
	return createRow(ctx, s, op, activities, a, &a.ID, &a.CreatedAt, nil)
}

// GetActivity returns the activity with the id. Errors: NotFound.
func (s *store) GetActivity(ctx context.Context, id string) (*esign.Activity, error) {
	return getByID(ctx, s, "sqlstore.GetActivity", activities, id)
}

// ListActivities lists activities newest first.
func (s *store) ListActivities(ctx context.Context, f esign.ActivityFilter) ([]*esign.Activity, error) {
	var w where
	eq(&w, "customer_id", f.CustomerID)
	eq(&w, "offer_id", f.OfferID)
	eq(&w, "kind", f.Kind)
	return listRows(ctx, s, "sqlstore.ListActivities", activities, &w, "created_at DESC, id DESC", f.Page)
}

// DeleteActivity deletes an activity. Errors: NotFound.
func (s *store) DeleteActivity(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteActivity", activities, id)
}

var verificationTokens = newTable("verification_token", "verification token",
	[]string{"id", "customer_id", "app_id", "signature_id", "purpose", "token_hash", "attempts",
		"expires_at", "used_at", "created_at"},
	func(t *esign.VerificationToken) []any {
		return []any{&t.ID, &t.CustomerID, nstr(&t.AppID), nstr(&t.SignatureID), &t.Purpose, &t.TokenHash,
			&t.Attempts, tm(&t.ExpiresAt), tm(&t.UsedAt), tm(&t.CreatedAt)}
	})

// CreateVerificationToken stores a new one-time code (its hash). Errors:
// Invalid (validation, unknown customer, app or signature).
func (s *store) CreateVerificationToken(ctx context.Context, t *esign.VerificationToken) error {
	const op = "sqlstore.CreateVerificationToken"
	return createRow(ctx, s, op, verificationTokens, t, &t.ID, &t.CreatedAt, nil)
}

// GetVerificationToken returns the token with the id. Errors: NotFound.
func (s *store) GetVerificationToken(ctx context.Context, id string) (*esign.VerificationToken, error) {
	return getByID(ctx, s, "sqlstore.GetVerificationToken", verificationTokens, id)
}

// ListVerificationTokens lists tokens newest first.
func (s *store) ListVerificationTokens(ctx context.Context, f esign.VerificationTokenFilter) ([]*esign.VerificationToken, error) {
	var w where
	eq(&w, "customer_id", f.CustomerID)
	eq(&w, "signature_id", f.SignatureID)
	eq(&w, "purpose", f.Purpose)
	eq(&w, "token_hash", f.TokenHash)
	if !f.UsableAt.IsZero() {
		w.add("used_at IS NULL AND expires_at > ?", f.UsableAt)
	}
	return listRows(ctx, s, "sqlstore.ListVerificationTokens", verificationTokens, &w, "created_at DESC, id DESC", f.Page)
}

// UpdateVerificationToken applies upd. Errors: NotFound, Invalid.
func (s *store) UpdateVerificationToken(ctx context.Context, id string, upd esign.VerificationTokenUpdate) (*esign.VerificationToken, error) {
	var u setter
	setIf(&u, "attempts", upd.Attempts)
	setIf(&u, "used_at", upd.UsedAt)
	return updateRow(ctx, s, "sqlstore.UpdateVerificationToken", verificationTokens, id, &u)
}

// DeleteVerificationToken deletes a token. Errors: NotFound.
func (s *store) DeleteVerificationToken(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteVerificationToken", verificationTokens, id)
}
