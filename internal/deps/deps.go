//go:build tools

package deps

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/pressly/goose/v3"
	_ "github.com/rabbitmq/amqp091-go"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/riverqueue/river"
	_ "github.com/riverqueue/river/riverdriver/riverdatabasesql"
	_ "github.com/riverqueue/river/riverdriver/riverpgxv5"
	_ "github.com/riverqueue/river/rivermigrate"
	_ "golang.org/x/crypto/ocsp"
	_ "github.com/riverqueue/river/riverdriver/riversqlite"
	_ "golang.org/x/crypto/argon2"
	_ "golang.org/x/crypto/pbkdf2"
	_ "modernc.org/sqlite"
	_ "software.sslmate.com/src/go-pkcs12"
)
