package sqlstore

import (
	"context"
	"database/sql"

	"esign/internal/esign"
)

var apps = newTable("app", "app",
	[]string{"id", "customer_id", "session_token_hash", "status", "platform", "app_version", "last_seen_at",
		"created_at", "updated_at"},
	func(a *esign.App) []any {
		return []any{&a.ID, nstr(&a.CustomerID), &a.SessionTokenHash, &a.Status, &a.Platform, &a.AppVersion,
			tm(&a.LastSeenAt), tm(&a.CreatedAt), tm(&a.UpdatedAt)}
	})

// CreateApp registers an app installation; an empty Status becomes
// registered. Errors: Invalid (validation, unknown customer), Conflict
// (session token hash used).
func (s *store) CreateApp(ctx context.Context, a *esign.App) error {
	const op = "sqlstore.CreateApp"
	if a.Status == "" {
		a.Status = esign.AppRegistered
	}
	return createRow(ctx, s, op, apps, a, &a.ID, &a.CreatedAt, &a.UpdatedAt)
}

// GetApp returns the app with the id. Errors: NotFound.
func (s *store) GetApp(ctx context.Context, id string) (*esign.App, error) {
	return getByID(ctx, s, "sqlstore.GetApp", apps, id)
}

// ListApps lists apps oldest first.
func (s *store) ListApps(ctx context.Context, f esign.AppFilter) ([]*esign.App, error) {
	var w where
	eq(&w, "customer_id", f.CustomerID)
	eq(&w, "session_token_hash", f.SessionTokenHash)
	eq(&w, "status", f.Status)
	return listRows(ctx, s, "sqlstore.ListApps", apps, &w, "created_at, id", f.Page)
}

// UpdateApp applies upd. Errors: NotFound, Invalid (unknown customer, or
// associated without a customer), Conflict (session token hash used).
func (s *store) UpdateApp(ctx context.Context, id string, upd esign.AppUpdate) (*esign.App, error) {
	var u setter
	setNullIf(&u, "customer_id", upd.CustomerID)
	setIf(&u, "session_token_hash", upd.SessionTokenHash)
	setIf(&u, "status", upd.Status)
	setIf(&u, "app_version", upd.AppVersion)
	setIf(&u, "last_seen_at", upd.LastSeenAt)
	return updateRow(ctx, s, "sqlstore.UpdateApp", apps, id, &u)
}

// DeleteApp deletes an app with its device and FCM info. Errors: NotFound.
func (s *store) DeleteApp(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteApp", apps, id)
}

var devices = newTable("device", "device",
	[]string{"id", "app_id", "imei", "os", "os_version", "model", "manufacturer", "created_at", "updated_at"},
	func(d *esign.Device) []any {
		return []any{&d.ID, &d.AppID, &d.IMEI, &d.OS, &d.OSVersion, &d.Model, &d.Manufacturer,
			tm(&d.CreatedAt), tm(&d.UpdatedAt)}
	})

// CreateDevice stores the device of an app. Errors: Invalid (validation,
// unknown app), Conflict (the app has a device).
func (s *store) CreateDevice(ctx context.Context, d *esign.Device) error {
	const op = "sqlstore.CreateDevice"
	return createRow(ctx, s, op, devices, d, &d.ID, &d.CreatedAt, &d.UpdatedAt)
}

// GetAppDevice returns the device of the app. Errors: NotFound.
func (s *store) GetAppDevice(ctx context.Context, appID string) (*esign.Device, error) {
	const op = "sqlstore.GetAppDevice"
	if !esign.ValidID(appID) {
		return nil, devices.notFound(op)
	}
	return getRow(ctx, s, op, devices, "app_id = ?", appID)
}

// UpdateDevice applies upd to the device with the id. Errors: NotFound.
func (s *store) UpdateDevice(ctx context.Context, id string, upd esign.DeviceUpdate) (*esign.Device, error) {
	var u setter
	setIf(&u, "os_version", upd.OSVersion)
	setIf(&u, "model", upd.Model)
	return updateRow(ctx, s, "sqlstore.UpdateDevice", devices, id, &u)
}

// DeleteDevice deletes the device with the id. Errors: NotFound.
func (s *store) DeleteDevice(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteDevice", devices, id)
}

var fcmInfos = newTable("fcm_info", "FCM info",
	[]string{"id", "app_id", "token", "created_at", "updated_at"},
	func(f *esign.FcmInfo) []any {
		return []any{&f.ID, &f.AppID, &f.Token, tm(&f.CreatedAt), tm(&f.UpdatedAt)}
	})

// CreateFcmInfo stores the FCM token of an app. Errors: Invalid
// (validation, unknown app), Conflict (the app has one: use UpdateFcmToken).
func (s *store) CreateFcmInfo(ctx context.Context, f *esign.FcmInfo) error {
	const op = "sqlstore.CreateFcmInfo"
	return createRow(ctx, s, op, fcmInfos, f, &f.ID, &f.CreatedAt, &f.UpdatedAt)
}

// GetAppFcmInfo returns the FCM info of the app. Errors: NotFound.
func (s *store) GetAppFcmInfo(ctx context.Context, appID string) (*esign.FcmInfo, error) {
	const op = "sqlstore.GetAppFcmInfo"
	if !esign.ValidID(appID) {
		return nil, fcmInfos.notFound(op)
	}
	return getRow(ctx, s, op, fcmInfos, "app_id = ?", appID)
}

// UpdateFcmToken sets the token of the FCM info with the id. Errors:
// NotFound, Invalid (empty token).
func (s *store) UpdateFcmToken(ctx context.Context, id, token string) (*esign.FcmInfo, error) {
	const op = "sqlstore.UpdateFcmToken"
	if token == "" {
		return nil, esign.E(op, esign.Invalid, "token is required")
	}
	var u setter
	u.set("token", token)
	return updateRow(ctx, s, op, fcmInfos, id, &u)
}

// DeleteFcmInfo deletes the FCM info with the id. Errors: NotFound.
func (s *store) DeleteFcmInfo(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteFcmInfo", fcmInfos, id)
}

// GetAppWithCustomer reads an app installation and its associated
// customer in one statement (every authenticated mobile request needs
// both). Errors: NotFound (no such app, or it has no customer).
func (s *store) GetAppWithCustomer(ctx context.Context, appID string) (*esign.App, *esign.Customer, error) {
	const op = "sqlstore.GetAppWithCustomer"
	if !esign.ValidID(appID) {
		return nil, nil, apps.notFound(op)
	}
	a, c := new(esign.App), new(esign.Customer)
	err := s.queryRow(ctx, "SELECT "+apps.qualified("a")+", "+customers.qualified("c")+
		" FROM app a JOIN customer c ON c.id = a.customer_id WHERE a.id = ?", appID).
		Scan(append(apps.fields(a), customers.fields(c)...)...)
	if err == sql.ErrNoRows {
		return nil, nil, apps.notFound(op)
	}
	if err != nil {
		return nil, nil, s.wrap(op, err)
	}
	return a, c, nil
}
