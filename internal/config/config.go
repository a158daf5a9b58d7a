// Package config holds esign's typed configuration: the defaults that give the
// embedded deployment, a JSON config file and ESIGN_* environment variables on
// top, validation, and a dump with secrets masked.
//
// Every setting has a key, the dotted path of its JSON name ("database.url"),
// and an environment variable, ESIGN_ followed by the key in upper case with
// dots turned into underscores (ESIGN_DATABASE_URL). A secret can also be read
// from a file named by the variable with _FILE appended
// (ESIGN_DATABASE_URL_FILE=/run/secrets/db-url).
package config

import (
	"time"
)

// Config is the whole configuration of every esign process. Field tags:
// json is the key's last element, help documents it, and secret:"true" masks
// the value in dumps and logs.
type Config struct {
	DataDir string `json:"data_dir" help:"Directory for the SQLite database, documents, the development PKI and other state; created on start."`

	Log      Log      `json:"log"`
	Database Database `json:"database"`
	Listen   Listen   `json:"listen"`
	Public   Public   `json:"public"`
	Bus      Bus      `json:"bus"`
	Redis    Redis    `json:"redis"`
	TSA      TSA      `json:"tsa"`
	Seal     Seal     `json:"seal"`
	Archive  Archive  `json:"archive"`
	PKCS11   PKCS11   `json:"pkcs11"`
	Crypto   Crypto   `json:"crypto"`
	Notify   Notify   `json:"notify"`
	Branding Branding `json:"branding"`
	Cron     Cron     `json:"cron"`
	HTTP     HTTP     `json:"http"`
	Mobile   Mobile   `json:"mobile"`
	Webhook  Webhook  `json:"webhook"`
	Hooks    Hooks    `json:"hooks"`
	Geo      Geo      `json:"geo"`
	Tracing  Tracing  `json:"tracing"`

	Customize Customize `json:"customize"`
	CSC       CSC       `json:"csc"`
}

// Notify selects and configures the SMS, e-mail and push providers.
type Notify struct {
	SMS   string `json:"sms" help:"SMS provider: inbox (the development inbox) or smsapi (SmsApi.com)."`
	Email string `json:"email" help:"E-mail provider: inbox or smtp."`
	Push  string `json:"push" help:"Push provider: inbox or fcm (Firebase Cloud Messaging HTTP v1)."`

	SmsAPIToken    string `json:"smsapi_token" secret:"true" help:"SmsApi.com OAuth bearer token."`
	SmsAPIFrom     string `json:"smsapi_from" help:"Registered SmsApi.com sender name; empty: the account default."`
	SmsAPIEndpoint string `json:"smsapi_endpoint" help:"SmsApi.com send endpoint; empty: https://api.smsapi.com/sms.do."`

	SMTPHost     string `json:"smtp_host" help:"SMTP server host."`
	SMTPPort     int    `json:"smtp_port" help:"SMTP server port; 0: 587 for starttls, 465 for tls, 25 for none."`
	SMTPSecurity string `json:"smtp_security" help:"starttls (required STARTTLS), tls (implicit TLS) or none (loopback relays only)."`
	SMTPUsername string `json:"smtp_username" help:"SMTP AUTH user; empty: no AUTH."`
	SMTPPassword string `json:"smtp_password" secret:"true" help:"SMTP AUTH password."`
	EmailFrom    string `json:"email_from" help:"Sender address of e-mails."`

	FCMServiceAccountFile string `json:"fcm_service_account_file" help:"Path of the Firebase service-account JSON key file (read at start; keep it readable only by esign)."`
	FCMEndpoint           string `json:"fcm_endpoint" help:"FCM HTTP v1 send URL, {project} replaced by the service account's project id: change it to go through the bank's proxy or to a test server. https, or http to a loopback address only. (The OAuth token URL is the key file's token_uri.)"`

	SMSPerHour   int `json:"sms_per_hour" help:"At most this many SMS to one phone number per hour; 0: no limit."`
	EmailPerHour int `json:"email_per_hour" help:"At most this many e-mails to one address per hour; 0: no limit."`
	Workers      int `json:"workers" help:"Notifications sent concurrently by one process."`
}

// UsesInbox reports whether any channel goes to the development inbox.
func (n Notify) UsesInbox() bool { return n.SMS == "inbox" || n.Email == "inbox" || n.Push == "inbox" }

// DefaultFCMEndpoint is Google's FCM HTTP v1 send URL, the default of
// notify.fcm_endpoint.
const DefaultFCMEndpoint = "https://fcm.googleapis.com/v1/projects/{project}/messages:send"

// Branding is the bank's look on every screen, message and sealed contract
// (docs/customization.md, "Branding"). It may live in a directory of its own
// (dir), whose branding.json holds the keys of this section.
type Branding struct {
	Dir             string `json:"dir" help:"Directory holding branding.json (the keys of this section without branding., such as {\"bank_name\": \"Példa Bank\", \"logo\": \"logo.svg\"}) and the logo; its values win over this section's, ESIGN_BRANDING_* variables win over both. Empty: the branding is this section."`
	ProductName     string `json:"product_name" help:"Name of the service in page titles and messages."`
	BankName        string `json:"bank_name" help:"The bank's name in the web UIs' header, messages, the seal and as the e-mail sender name."`
	Logo            string `json:"logo" help:"Logo file, PNG (at most 256 KiB and 2048 pixels a side) or SVG (at most 64 KiB; refused when it holds a script, event handler, foreignObject, image, style element, DTD or a reference outside the file). A relative path is read from branding.dir (or the working directory). Shown by both web UIs (GET /branding/logo) and, a PNG, on the seal. Empty: the bank's name in text."`
	LogoURL         string `json:"logo_url" help:"Absolute URL of the logo in e-mails (e-mail clients do not show SVG: a PNG); empty: the bank's name in text."`
	ColorPrimary    string `json:"color_primary" help:"Primary colour, #rrggbb: the web UIs' top bar and buttons, the e-mails' header."`
	ColorOnPrimary  string `json:"color_on_primary" help:"Text on the primary colour, #rrggbb; its contrast with color_primary must be at least 4.5:1 (WCAG AA)."`
	ColorAccent     string `json:"color_accent" help:"Links and highlights, #rrggbb; at least 4.5:1 against color_background."`
	ColorText       string `json:"color_text" help:"Body text, #rrggbb; at least 4.5:1 against color_background."`
	ColorBackground string `json:"color_background" help:"Page background of the web UIs, #rrggbb."`
	SupportEmail    string `json:"support_email" help:"Support address shown in messages and the web UIs' footer."`
	SupportPhone    string `json:"support_phone" help:"Support phone number shown in messages and the web UIs' footer."`
	SupportURL      string `json:"support_url" help:"Support web page (https) linked from messages and the web UIs' footer."`
	LegalFooter     string `json:"legal_footer" help:"Legal text in the footer of the web UIs and e-mails (the bank's registered name, seat, supervisor), at most 500 characters."`
	SealLine        string `json:"seal_line" help:"Visible line on sealed contracts, Latin-1, at most 200 characters; {bank}, {product}, {verify_url} (the public verify page) and {contract_id} are replaced."`
	SMSSender       string `json:"sms_sender" help:"Alphanumeric SMS sender name (1-11 of A-Z, a-z, 0-9, space, . and -), used when notify.smsapi_from is empty; empty: the provider's default."`
	PushTitle       string `json:"push_title" help:"Title of every push notification, {title} standing for the message's own title (e.g. 'Példa Bank: {title}'); empty: the message's title."`
}

// Cron configures the scheduled jobs.
type Cron struct {
	OfferTimeout      string        `json:"offer_timeout" help:"Schedule (5-field cron or @every 1h, or off) of OfferTimeout, which expires offers past their deadline and notifies."`
	DeleteDocuments   string        `json:"delete_documents" help:"Schedule of DeleteDocuments, which deletes documents past their retention."`
	DeleteExpiredURL  string        `json:"delete_expired_url" help:"Schedule of DeleteExpiredURL, which removes short URLs expired more than 30 days ago."`
	AuditAnchor       string        `json:"audit_anchor" help:"Schedule of AuditAnchor, which time-stamps the head of the audit log's hash chain with the TSA (tsa.url); oss also does at shutdown. docs/evidence.md."`
	ArchiveRenewal    string        `json:"archive_renewal" help:"Schedule of ArchiveRenewal, which adds fresh validation data and a new document time-stamp to B-LTA contracts whose newest document time-stamp's TSA certificate expires within archive.renewal_margin (docs/pades.md, Archive renewal)."`
	TimeZone          string        `json:"time_zone" help:"IANA time zone of the schedules."`
	DocumentRetention time.Duration `json:"document_retention" help:"Documents of offers that were never signed are deleted this long after they were uploaded."`
	ContractRetention time.Duration `json:"contract_retention" help:"Signed contracts are deleted this long after signing; 0 keeps them."`
}

// Crypto holds the keys that protect data at rest.
type Crypto struct {
	Keys         string `json:"keys" secret:"true" help:"Envelope key-encryption keys as comma-separated id:base64 entries (32 random bytes each; the first encrypts, all decrypt, so keys can rotate). Required with postgres; empty in the embedded deployment: a key is generated into <data_dir>/envelope.keys."`
	LegacySecret string `json:"legacy_secret" secret:"true" help:"Secret of the system esign replaces, to read its PBKDF2-5000 ciphertexts (re-encrypted with keys on use). Empty: legacy ciphertexts are refused."`
}

// Log configures log/slog output.
type Log struct {
	Level  string `json:"level" help:"Minimum level: debug, info, warn or error."`
	Format string `json:"format" help:"text (human-readable) or json (one object a line, for log shippers)."`
}

// Database selects the store.
type Database struct {
	Driver       string        `json:"driver" help:"sqlite (embedded, pure Go) or postgres."`
	URL          string        `json:"url" secret:"true" help:"For sqlite a file path (default <data_dir>/esign.db); for postgres a URL such as postgres://esign:PW@db:5432/esign?sslmode=verify-full."`
	MaxOpenConns int           `json:"max_open_conns" help:"Upper bound of open connections; 0 picks a default for the driver."`
	AutoMigrate  bool          `json:"auto_migrate" help:"Apply pending migrations when oss or all starts. Production runs 'esign migrate up' instead and sets this to false."`
	JobPoll      time.Duration `json:"job_poll" help:"How often idle job workers look for new jobs (SMS codes, pushes, seals, events). The job queue polls the database, so this bounds how long a committed job waits; each process makes about one query per queue per interval."`
}

// Listen holds the listen addresses (host:port) of every HTTP listener. An
// empty address disables that listener.
type Listen struct {
	Admin            string `json:"admin" help:"Admin UI of oss (operators)."`
	Webhook          string `json:"webhook" help:"External webhook API of oss (the bank's systems)."`
	Realtime         string `json:"realtime" help:"Realtime updates to the admin UI (oss)."`
	Mobile           string `json:"mobile" help:"Mobile-app REST API of oss."`
	Customer         string `json:"customer" help:"Customer web UI (css)."`
	CustomerRealtime string `json:"customer_realtime" help:"Realtime updates to the customer UI (css)."`
	TSA              string `json:"tsa" help:"RFC 3161 time-stamping authority (esign tsa, and inside esign all)."`
	PDFService       string `json:"pdfservice" help:"Health of pdfservice (bare /healthz and /readyz)."`
	Cron             string `json:"cron" help:"Health of the cron process (bare /healthz and /readyz)."`
	Ops              string `json:"ops" help:"Operations listener of this process: /metrics and the detailed /readyz (each check with its error, which may name database and broker hosts and users). Every other listener answers only a bare /healthz and /readyz and no /metrics. Keep it on loopback or an operations network; when several processes share a host and a configuration, give each its own (ESIGN_LISTEN_OPS per process, as the systemd units do). Empty: off."`
	Debug            string `json:"debug" help:"Go profiling endpoints (/debug/pprof/) of this process; empty: off. Only a loopback address is accepted: profiles reveal memory contents."`
}

// Public holds the externally visible base URLs, used in links that esign
// prints or sends (e-mails, SMS, the start banner). Empty means derived from
// the listen address.
type Public struct {
	AdminURL            string `json:"admin_url" help:"Base URL operators use for the admin UI; https:// makes its cookies Secure (__Host- prefix) and adds HSTS."`
	CustomerURL         string `json:"customer_url" help:"Base URL customers use for the customer UI."`
	RealtimeURL         string `json:"realtime_url" help:"Base URL the admin UI's pages reach the realtime listener at (live updates over server-sent events). Empty: the host the page was served from, with the port of listen.realtime."`
	CustomerRealtimeURL string `json:"customer_realtime_url" help:"Base URL the customer UI's pages reach the customer realtime listener at. Empty: the host the page was served from, with the port of listen.customer_realtime."`
}

// Bus selects the message bus between the processes.
type Bus struct {
	AMQPURL        string        `json:"amqp_url" secret:"true" help:"RabbitMQ URL (amqp://user:pw@host:5672/vhost). Empty: the in-process bus, which only works inside 'esign all'."`
	RequestTimeout time.Duration `json:"request_timeout" help:"Default deadline of an RPC call when the caller sets none."`
	Namespace      string        `json:"namespace" help:"Prefix of every RabbitMQ queue and exchange name (namespace:esign:rpc-app), and part of every Redis key (esign:namespace:…), for deployments that must share one broker vhost or Redis database; 1-32 of a-z, 0-9, '-', '_'. Empty: the specification's names. Production should rather use a vhost of its own (in bus.amqp_url). Every process of a deployment needs the same value; the in-process bus of 'esign all' ignores it."`
}

// Redis configures the shared store for sessions, rate limits and one-time
// codes in production.
type Redis struct {
	URL string `json:"url" secret:"true" help:"Redis URL (redis://:pw@host:6379/0). Empty: in-process/database implementations (embedded deployment)."`
}

// TSA configures the RFC 3161 time-stamping used by the protocol and the PDF
// signer.
type TSA struct {
	URL      string        `json:"url" help:"Time-stamping authority to use. Empty: the built-in TSA of this deployment (listen.tsa)."`
	Username string        `json:"username" help:"HTTP Basic user name for an external TSA."`
	Password string        `json:"password" secret:"true" help:"HTTP Basic password for an external TSA."`
	Timeout  time.Duration `json:"timeout" help:"Deadline of one time-stamp request."`
	Retries  int           `json:"retries" help:"Further attempts after a failed time-stamp request (network errors and 5xx only)."`
	// The built-in TSA (esign tsa, and inside esign all).
	PolicyOID       string        `json:"policy_oid" help:"Policy OID the built-in TSA puts in every token. The default is under the documentation arc 1.3.6.1.4.1.32473; set the bank's own."`
	PublicURL       string        `json:"public_url" help:"Base URL where the built-in TSA is reached; the development PKI writes its CRL and OCSP URLs under <public_url>/pki. Empty: derived from listen.tsa."`
	PKCS11Key       string        `json:"pkcs11_key" help:"The built-in TSA's key in the PKCS#11 token of pkcs11.module: token=LABEL;key=LABEL or slot=N;key=LABEL. Empty: the development PKI's TSA key."`
	CertificateFile string        `json:"certificate_file" help:"The built-in TSA's certificate chain (PEM, leaf first) for tsa.pkcs11_key; the leaf needs the critical timeStamping extended key usage."`
	Accuracy        time.Duration `json:"accuracy" help:"Accuracy the built-in TSA states in every token: how far its clock may be from UTC. Devices wait twice this between time-stamps (TS1 < TS2 < TS3 must hold with the accuracy); state what the host's time synchronisation guarantees."`
}

// HTTP holds limits shared by every HTTP listener.
type HTTP struct {
	ReadHeaderTimeout time.Duration `json:"read_header_timeout" help:"Time allowed to read request headers."`
	ReadTimeout       time.Duration `json:"read_timeout" help:"Time allowed to read a whole request, body included."`
	WriteTimeout      time.Duration `json:"write_timeout" help:"Time allowed to write a response."`
	IdleTimeout       time.Duration `json:"idle_timeout" help:"Keep-alive idle time."`
	ShutdownTimeout   time.Duration `json:"shutdown_timeout" help:"How long in-flight requests may take to finish after SIGINT/SIGTERM."`
	MaxBodyBytes      int64         `json:"max_body_bytes" help:"Default upper bound of a request body; endpoints that take uploads set their own."`
}

// Default returns the configuration of the embedded deployment: everything on
// 127.0.0.1, SQLite under ./data, the in-process bus and the built-in TSA.
func Default() Config {
	return Config{
		DataDir: "./data",
		Log:     Log{Level: "info", Format: "text"},
		Tracing: Tracing{SampleRatio: 1},
		Hooks: Hooks{Timeout: 5 * time.Second, OfferCreatedPolicy: "open", CustomerRegisteredPolicy: "open",
			SignatureVerifiedPolicy: "open"},
		Database: Database{
			Driver:      "sqlite",
			AutoMigrate: true,
			JobPoll:     100 * time.Millisecond,
		},
		Listen: Listen{
			Admin:            "127.0.0.1:10181",
			Webhook:          "127.0.0.1:10182",
			Realtime:         "127.0.0.1:10180",
			Mobile:           "127.0.0.1:10185",
			Customer:         "127.0.0.1:10183",
			CustomerRealtime: "127.0.0.1:10184",
			TSA:              "127.0.0.1:10188",
			PDFService:       "127.0.0.1:10186",
			Cron:             "127.0.0.1:10187",
			Ops:              "127.0.0.1:10189",
		},
		Bus:      Bus{RequestTimeout: 10 * time.Second},
		TSA:      TSA{Timeout: 10 * time.Second, Retries: 2, PolicyOID: "1.3.6.1.4.1.32473.1", Accuracy: time.Second},
		Seal:     Seal{Level: "B-LTA"},
		Archive:  Archive{RenewalMargin: 365 * 24 * time.Hour},
		Notify:   Notify{SMS: "inbox", Email: "inbox", Push: "inbox", SMTPSecurity: "starttls", FCMEndpoint: DefaultFCMEndpoint, SMSPerHour: 10, EmailPerHour: 20, Workers: 20},
		Branding: defaultBranding(),
		Cron: Cron{
			OfferTimeout:      "0 8 * * 1",
			DeleteDocuments:   "0 6 * * *",
			DeleteExpiredURL:  "0 3 * * *",
			AuditAnchor:       "0 * * * *",
			ArchiveRenewal:    "0 4 * * *",
			TimeZone:          "Europe/Budapest",
			DocumentRetention: 90 * 24 * time.Hour,
		},
		HTTP: HTTP{
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			WriteTimeout:      120 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   20 * time.Second,
			MaxBodyBytes:      1 << 20,
		},
		Mobile:  defaultMobile(),
		Webhook: defaultWebhook(),
	}
}
