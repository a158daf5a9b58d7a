package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"esign/internal/config"
	"esign/internal/esign"
	"esign/internal/operators"
	"esign/internal/sqlstore"
	"esign/internal/term"
	"esign/internal/users"
)

// initialPasswordFile is where `esign all` leaves the password of the admin
// account it creates on first start, readable only by its owner.
const initialPasswordFile = "initial-admin-password"

// initialAdmin is the operator account `esign all` creates on first start.
const initialAdmin = "admin"

const userUsage = `usage: esign user create --username NAME [--name FULL-NAME] [--email ADDR] [--role admin|operator|auditor] [--password-stdin]
       esign user password --username NAME [--password-file FILE]
       esign user reset-2fa --username NAME`

// runUser: esign user create|password|reset-2fa.
func runUser(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return runUserCreate(ctx, env, args[1:])
		case "password":
			return runUserPassword(ctx, env, args[1:])
		case "reset-2fa":
			return runUserReset2FA(ctx, env, args[1:])
		}
	}
	return usagef("%s", userUsage)
}

// runUserCreate: esign user create --username NAME [--role ROLE] [--password-stdin].
func runUserCreate(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "user create")
	username := fs.String("username", "", "login name of the operator (required)")
	name := fs.String("name", "", "full name")
	email := fs.String("email", "", "e-mail address")
	role := fs.String("role", "operator", "role: admin, operator or auditor")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *username == "" || fs.NArg() > 0 {
		return usagef("%s", userUsage)
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
		if err := checkNewPassword(pw); err != nil {
			return err
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
	if err := users.Create(ctx, db, u, pw, *role); err != nil {
		return err
	}
	// A new account is a security event (docs/evidence.md); the admin
	// UI's form records its own, with the operator.
	if err := db.CreateAuditLog(ctx, &esign.AuditLog{ActorType: "system", Action: "user.create", ObjectType: "user",
		ObjectID: u.ID, Detail: fmt.Sprintf(`{"via":"cli","role":%q}`, *role)}); err != nil {
		return fmt.Errorf("record the new operator in the audit log: %w", err)
	}
	fmt.Fprintf(env.Stdout, "created operator %q with role %s\n", u.Username, *role)
	if generated {
		fmt.Fprintf(env.Stdout, "password: %s\n(shown once; change it with: esign user password --username %s)\n", pw, u.Username)
	}
	return nil
}

// runUserPassword: esign user password --username NAME [--password-file
// FILE]. Without a file the new password is typed twice at the terminal.
func runUserPassword(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "user password")
	username := fs.String("username", "", "login name of the operator (required)")
	pwFile := fs.String("password-file", "", "file whose first line is the new password (default: ask twice at the terminal)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *username == "" || fs.NArg() > 0 {
		return usagef("%s", userUsage)
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	var pw string
	if *pwFile != "" {
		pw, err = firstLine("--password-file", *pwFile)
	} else {
		pw, err = promptNewPassword(env)
	}
	if err != nil {
		return err
	}
	if err := checkNewPassword(pw); err != nil {
		return err
	}
	db, err := openCurrentDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	ended, err := users.SetPassword(ctx, db, *username, pw)
	if err != nil {
		return err
	}
	if err := endRedisSessions(ctx, cfg, db, *username); err != nil {
		return fmt.Errorf("the password was changed, but its sessions in Redis were not ended: %w", err)
	}
	sessions := "sessions"
	if ended == 1 {
		sessions = "session"
	}
	fmt.Fprintf(env.Stdout, "password of operator %q changed; %d %s ended\n", *username, ended, sessions)
	if *username == initialAdmin {
		// The file holds the password that was just replaced.
		file := filepath.Join(cfg.DataDir, initialPasswordFile)
		if err := os.Remove(file); err == nil {
			fmt.Fprintf(env.Stdout, "removed %s, which held the old password\n", file)
		}
	}
	return nil
}

// runUserReset2FA: esign user reset-2fa --username NAME, for an operator
// who lost the authenticator app and the recovery codes (users.ResetSecondFactor).
func runUserReset2FA(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "user reset-2fa")
	username := fs.String("username", "", "login name of the operator (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *username == "" || fs.NArg() > 0 {
		return usagef("%s", userUsage)
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	db, err := openCurrentDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := users.ResetSecondFactor(ctx, db, *username, users.Actor{}); err != nil {
		return err
	}
	if err := endRedisSessions(ctx, cfg, db, *username); err != nil {
		return fmt.Errorf("the second factor was reset, but its sessions in Redis were not ended: %w", err)
	}
	fmt.Fprintf(env.Stdout, "reset the second factor of %q: the next sign-in sets up the authenticator app again\n", *username)
	return nil
}

// endRedisSessions ends the operator's sessions kept in Redis, where the
// production deployment keeps them (redis.url set); users.SetPassword and
// users.ResetSecondFactor end the database ones.
func endRedisSessions(ctx context.Context, cfg config.Config, db *sqlstore.DB, username string) error {
	if cfg.Redis.URL == "" {
		return nil
	}
	rdb, err := newRedis(cfg)
	if err != nil {
		return err
	}
	defer rdb.Close()
	u, err := db.GetUserByUsername(ctx, username)
	if err != nil {
		return err
	}
	return (&operators.RedisSessions{RDB: rdb, Prefix: operatorSessionPrefix(cfg)}).RevokeUserSessions(ctx, u.ID)
}

// promptNewPassword asks for the new password twice at the terminal of
// standard input, without echo.
func promptNewPassword(env Env) (string, error) {
	f, ok := env.Stdin.(*os.File)
	if !ok || !term.IsTerminal(f) {
		return "", usagef("standard input is not a terminal: give the new password with --password-file FILE")
	}
	fmt.Fprint(env.Stderr, "New password: ")
	pw, err := term.ReadPassword(f)
	fmt.Fprintln(env.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if err := checkNewPassword(pw); err != nil {
		return "", err
	}
	fmt.Fprint(env.Stderr, "Repeat it: ")
	again, err := term.ReadPassword(f)
	fmt.Fprintln(env.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if again != pw {
		return "", usagef("the passwords differ; nothing changed")
	}
	return pw, nil
}

// checkNewPassword applies the operators' password rules; a refusal is a
// usage error.
func checkNewPassword(pw string) error {
	if err := users.CheckPassword(pw); err != nil {
		return usagef("%s", esign.ErrorMessage(err))
	}
	return nil
}

// firstLine returns the first line of the file named by flag, without its
// line ending.
func firstLine(flag, file string) (string, error) {
	line, err := readCredentials(file)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", flag, err)
	}
	return line, nil
}

// newPassword returns a random password of 26 base32 characters (130 bits).
func newPassword() string { return users.NewPassword() }

// ensureInitialAdmin creates the first operator account, "admin", when the
// database has none, and leaves its password in the data directory with
// mode 0600. It returns the path of that file while the file exists, so the
// start banner can point at it.
func ensureInitialAdmin(ctx context.Context, db *sqlstore.DB, dataDir string) (string, error) {
	file := filepath.Join(dataDir, initialPasswordFile)
	existing, err := db.ListUsers(ctx, esign.UserFilter{Page: esign.Page{Limit: 1}})
	if err != nil {
		return "", fmt.Errorf("look for operators: %w", err)
	}
	if len(existing) > 0 {
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
	u := &esign.User{Username: initialAdmin, Name: "Administrator", Status: esign.UserActive}
	if err := users.Create(ctx, db, u, pw, esign.RoleAdmin); err != nil {
		os.Remove(file)
		return "", fmt.Errorf("create the initial operator: %w", err)
	}
	if err := db.CreateAuditLog(ctx, &esign.AuditLog{ActorType: "system", Action: "user.create", ObjectType: "user",
		ObjectID: u.ID, Detail: `{"via":"initial_admin","role":"admin"}`}); err != nil {
		return "", fmt.Errorf("record the initial operator in the audit log: %w", err)
	}
	return file, nil
}
