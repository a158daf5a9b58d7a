package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"esign/internal/esign"
	"esign/internal/password"
	"esign/internal/sqlstore"
)

// initialPasswordFile is where `esign all` leaves the password of the admin
// account it creates on first start, readable only by its owner.
const initialPasswordFile = "initial-admin-password"

// runUser: esign user create --username NAME [--role ROLE] [--password-stdin]
// | esign user reset-2fa --username NAME.
func runUser(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 && args[0] == "reset-2fa" {
		return runUserReset2FA(ctx, env, args[1:])
	}
	if len(args) == 0 || args[0] != "create" {
		return usagef("usage: esign user create --username NAME [--name FULL-NAME] [--email ADDR] [--role admin|operator|auditor] [--password-stdin]\n" +
			"       esign user reset-2fa --username NAME")
	}
	fs, path := newFlagSet(env, "user create")
	username := fs.String("username", "", "login name of the operator (required)")
	name := fs.String("name", "", "full name")
	email := fs.String("email", "", "e-mail address")
	role := fs.String("role", "operator", "role: admin, operator or auditor")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *username == "" || fs.NArg() > 0 {
		return usagef("usage: esign user create --username NAME [--role ROLE] [--password-stdin]")
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	pw := ""
	if *fromStdin {
		if env.Stdin == nil {
			return usagef("--password-stdin: no standard input")
		}
		line, err := bufio.NewReader(io.LimitReader(env.Stdin, 1024)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if len(pw) < 12 {
			return usagef("the password must have at least 12 characters")
		}
	}
	db, err := openToolDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrateAll(ctx, db); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	generated := pw == ""
	if generated {
		pw = newPassword()
	}
	u := &esign.User{Username: *username, Name: *name, Email: *email, Status: esign.UserActive}
	if err := createUser(ctx, db, u, pw, *role); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "created operator %q with role %s\n", u.Username, *role)
	if generated {
		fmt.Fprintf(env.Stdout, "password: %s\n(shown once; change it after the first login)\n", pw)
	}
	return nil
}

// runUserReset2FA removes an operator's second factor and recovery codes
// and clears the failed sign-ins (the lock): for an operator who lost the
// authenticator app and the recovery codes. The next sign-in sets up the
// app again; the operator's database sessions end.
func runUserReset2FA(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "user reset-2fa")
	username := fs.String("username", "", "login name of the operator (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *username == "" || fs.NArg() > 0 {
		return usagef("usage: esign user reset-2fa --username NAME")
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
	if err := db.CheckSchema(ctx); err != nil {
		return err
	}
	u, err := db.GetUserByUsername(ctx, *username)
	if esign.IsKind(err, esign.NotFound) {
		return esign.Errorf("user reset-2fa", esign.NotFound, "no operator named %q", *username)
	}
	if err != nil {
		return err
	}
	if err := db.ResetSecondFactor(ctx, u.ID); err != nil {
		return err
	}
	if err := db.ResetUserLoginFailures(ctx, u.ID); err != nil {
		return err
	}
	if _, err := db.DeleteSubjectSessions(ctx, esign.SessionUser, u.ID); err != nil {
		return err
	}
	if err := db.CreateAuditLog(ctx, &esign.AuditLog{ActorType: "system", Action: "user.second_factor_reset", ObjectType: "user", ObjectID: u.ID,
		Detail: `{"by":"esign user reset-2fa"}`}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "reset the second factor of %q: the next sign-in sets up the authenticator app again\n", u.Username)
	return nil
}

// createUser stores u with the Argon2id hash of pw and grants it role, in one
// transaction.
func createUser(ctx context.Context, db *sqlstore.DB, u *esign.User, pw, role string) error {
	hash, err := password.Hash(pw)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	u.PasswordHash = hash
	return db.InTx(ctx, func(tx *sqlstore.Tx) error {
		if _, err := tx.GetRole(ctx, role); err != nil {
			if esign.IsKind(err, esign.NotFound) {
				return esign.Errorf("user create", esign.Invalid, "unknown role %q: want admin, operator or auditor", role)
			}
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			if esign.IsKind(err, esign.Conflict) {
				return esign.Errorf("user create", esign.Conflict, "an operator named %q exists already", u.Username)
			}
			return err
		}
		return tx.AssignRole(ctx, u.ID, role)
	})
}

// newPassword returns a random password of 26 base32 characters (130 bits).
func newPassword() string { return rand.Text() }

// ensureInitialAdmin creates the first operator account, "admin", when the
// database has none, and leaves its password in the data directory with
// mode 0600. It returns the path of that file while the file exists, so the
// start banner can point at it.
func ensureInitialAdmin(ctx context.Context, db *sqlstore.DB, dataDir string) (string, error) {
	file := filepath.Join(dataDir, initialPasswordFile)
	users, err := db.ListUsers(ctx, esign.UserFilter{Page: esign.Page{Limit: 1}})
	if err != nil {
		return "", fmt.Errorf("look for operators: %w", err)
	}
	if len(users) > 0 {
		if _, err := os.Stat(file); err == nil {
			return file, nil
		}
		return "", nil
	}
	pw := newPassword()
	// Write the file first: an account whose password nobody can read would
	// lock the newcomer out.
	if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", file, err)
	}
	u := &esign.User{Username: "admin", Name: "Administrator", Status: esign.UserActive}
	if err := createUser(ctx, db, u, pw, "admin"); err != nil {
		os.Remove(file)
		return "", fmt.Errorf("create the initial operator: %w", err)
	}
	return file, nil
}
