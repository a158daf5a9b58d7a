package esign

import "time"

// AppStatus is the state of a mobile app installation.
type AppStatus string

// The app states.
const (
	AppRegistered AppStatus = "registered" // registered, not yet associated with a customer
	AppAssociated AppStatus = "associated" // associated with a customer by SMS token
	AppRemoved    AppStatus = "removed"    // account removed from the device
)

// App is one installation of the mobile app. It has at most one Device and
// at most one FcmInfo.
type App struct {
	ID               string
	CustomerID       string // empty until associated
	SessionTokenHash string // hash of the bearer session token; unique
	Status           AppStatus
	Platform         string // "android", "ios"
	AppVersion       string
	LastSeenAt       time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Validate checks the app before it is stored.
func (a *App) Validate() error {
	v := newChecker("esign.App.Validate")
	v.id("customer id", a.CustomerID, false)
	v.text("session token hash", a.SessionTokenHash, true, 128)
	oneOf(v, "status", a.Status, AppRegistered, AppAssociated, AppRemoved)
	v.that(a.Status != AppAssociated || a.CustomerID != "", "an associated app needs a customer")
	v.text("platform", a.Platform, false, 32)
	v.text("app version", a.AppVersion, false, 32)
	return v.err()
}

// AppFilter selects apps.
type AppFilter struct {
	CustomerID       string
	SessionTokenHash string
	Status           AppStatus
	Page
}

// AppUpdate changes the non-nil fields of an app.
type AppUpdate struct {
	CustomerID       *string
	SessionTokenHash *string
	Status           *AppStatus
	AppVersion       *string
	LastSeenAt       *time.Time
}

// Device describes the hardware an App runs on.
type Device struct {
	ID           string
	AppID        string // unique
	IMEI         string
	OS           string
	OSVersion    string
	Model        string
	Manufacturer string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Validate checks the device before it is stored.
func (d *Device) Validate() error {
	v := newChecker("esign.Device.Validate")
	v.id("app id", d.AppID, true)
	v.text("imei", d.IMEI, false, 64)
	v.text("os", d.OS, true, 32)
	v.text("os version", d.OSVersion, false, 32)
	v.text("model", d.Model, false, 128)
	v.text("manufacturer", d.Manufacturer, false, 128)
	return v.err()
}

// DeviceUpdate changes the non-nil fields of a device.
type DeviceUpdate struct {
	OSVersion *string
	Model     *string
}

// FcmInfo holds the Firebase Cloud Messaging registration token of an App.
type FcmInfo struct {
	ID        string
	AppID     string // unique
	Token     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the FCM info before it is stored.
func (f *FcmInfo) Validate() error {
	v := newChecker("esign.FcmInfo.Validate")
	v.id("app id", f.AppID, true)
	v.text("token", f.Token, true, 4096)
	return v.err()
}
