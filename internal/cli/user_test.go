package cli

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"esign/internal/config"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/operators"
	"esign/internal/password"
	"esign/internal/sqlstore"
	"esign/internal/term/termtest"
)

// firstStart makes the data directory of a first `esign all`: the database
// and the initial admin with its password file.
func firstStart(t *testing.T, dir string) (db *sqlstore.DB, pwFile string) {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(dir, "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := migrateAll(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	pwFile, err = ensureInitialAdmin(t.Context(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	return db, pwFile
}

func loginOK(t *testing.T, db *sqlstore.DB, username, pw string) bool {
	t.Helper()
	u, err := db.GetUserByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	_, err = password.Verify(pw, u.PasswordHash)
	return err == nil
}

// TestUserPassword changes the initial admin's password as the start
// banner says, from a file.
func TestUserPassword(t *testing.T) {
	dir := t.TempDir()
	env := testEnviron(dir)
	db, initial := firstStart(t, dir)
	admin, _ := db.GetUserByUsername(t.Context(), "admin")
	if err := db.CreateSession(t.Context(), &esign.Session{TokenHash: strings.Repeat("cd", 16), SubjectType: esign.SessionUser,
		SubjectID: admin.ID, ExpiresAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(t.TempDir(), "new-password")
	os.WriteFile(pwFile, []byte("a new admin password\n"), 0o600)
	short := filepath.Join(t.TempDir(), "short")
	os.WriteFile(short, []byte("short\n"), 0o600)

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no_username", []string{"user", "password"}, 2, "usage: esign user"},
		{"not_a_terminal", []string{"user", "password", "--username", "admin"}, 2, "not a terminal: give the new password with --password-file"},
		{"short", []string{"user", "password", "--username", "admin", "--password-file", short}, 2, "at least 12 characters"},
		{"missing_file", []string{"user", "password", "--username", "admin", "--password-file", filepath.Join(dir, "nope")}, 1, "read --password-file"},
		{"unknown_user", []string{"user", "password", "--username", "nobody", "--password-file", pwFile}, 1, `no operator named "nobody"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(t.Context(), Env{Args: tt.args, Stdin: strings.NewReader("a new admin password\n"), Stdout: &out, Stderr: &errb, Environ: env})
			if code != tt.code || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("status %d (want %d), stderr %q (want %q)", code, tt.code, errb.String(), tt.want)
			}
		})
	}
	old, _ := os.ReadFile(initial)
	if !loginOK(t, db, "admin", strings.TrimSpace(string(old))) {
		t.Fatal("a refused change changed the password")
	}

	code, out, errs := run(t, t.Context(), env, nil, "user", "password", "--username", "admin", "--password-file", pwFile)
	if code != 0 || !strings.Contains(out, `password of operator "admin" changed; 1 session ended`) {
		t.Fatalf("user password: %d %q %q", code, out, errs)
	}
	if !loginOK(t, db, "admin", "a new admin password") || loginOK(t, db, "admin", strings.TrimSpace(string(old))) {
		t.Error("the admin does not log in with the new password only")
	}
	if _, err := os.Stat(initial); err == nil || !strings.Contains(out, "removed "+initial) {
		t.Errorf("the file with the old password is still there: %v\n%s", err, out)
	}
	if file, err := ensureInitialAdmin(t.Context(), db, dir); err != nil || file != "" {
		t.Errorf("the next start still points at a password file: %q %v", file, err)
	}
}

// syncBuffer is a bytes.Buffer safe to read while a command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestUserPasswordPrompt types the new password twice at a terminal.
func TestUserPasswordPrompt(t *testing.T) {
	tests := []struct {
		name, first, second string
		code                int
		want                string
	}{
		{"same", "typed at the terminal", "typed at the terminal", 0, `password of operator "admin" changed`},
		{"differ", "typed at the terminal", "typed at the termina1", 2, "the passwords differ; nothing changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db, initial := firstStart(t, dir)
			p := termtest.Open(t)
			var out, errb syncBuffer
			done := make(chan int, 1)
			go func() {
				done <- Run(t.Context(), Env{Args: []string{"user", "password", "--username", "admin"}, Stdin: p.TTY, Stdout: &out, Stderr: &errb, Environ: testEnviron(dir)})
			}()
			p.TypeHidden(t, tt.first)
			for deadline := time.Now().Add(10 * time.Second); !strings.Contains(errb.String(), "Repeat it: "); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("no second prompt: %q", errb.String())
				}
			}
			p.TypeHidden(t, tt.second)
			if code := <-done; code != tt.code || !strings.Contains(out.String()+errb.String(), tt.want) {
				t.Fatalf("status %d (want %d): %q %q", code, tt.code, out.String(), errb.String())
			}
			old, _ := os.ReadFile(initial)
			if tt.code != 0 && !loginOK(t, db, "admin", strings.TrimSpace(string(old))) {
				t.Error("a refused change changed the password")
			}
			if tt.code == 0 && !loginOK(t, db, "admin", tt.first) {
				t.Error("the typed password does not log in")
			}
		})
	}
}

// TestBannerNamesPasswordCommand: the first-start banner says how to change
// the initial password, with a command that exists.
func TestBannerNamesPasswordCommand(t *testing.T) {
	a := &app{spec: processAll, cfg: config.Default(), initialPassword: filepath.Join("data", initialPasswordFile)}
	var b bytes.Buffer
	a.printBanner(&b, map[string]string{"admin": "127.0.0.1:10181", "customer": "127.0.0.1:10183"})
	if !strings.Contains(b.String(), "change it with: esign user password --username admin\n") {
		t.Errorf("banner:\n%s", b.String())
	}
}

// TestUserCommandsEndRedisSessions: in the production deployment the
// operators' sessions live in Redis; changing the password or resetting
// the second factor ends them there too, not only in the database.
func TestUserCommandsEndRedisSessions(t *testing.T) {
	redisURL := esigntest.ServerURL(t, esigntest.RedisURLEnv)
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	// A namespace of its own keeps the keys apart from other runs.
	ns := fmt.Sprintf("usr%d", time.Now().UnixNano()%1e12)
	store := &operators.RedisSessions{RDB: rdb, Prefix: "esign:" + ns + ":opsess:"}
	dir := t.TempDir()
	env := append(testEnviron(dir), "ESIGN_REDIS_URL="+redisURL, "ESIGN_BUS_NAMESPACE="+ns)
	db, _ := firstStart(t, dir)
	admin, err := db.GetUserByUsername(t.Context(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(t.TempDir(), "new-password")
	os.WriteFile(pwFile, []byte("a new admin password\n"), 0o600)
	for _, args := range [][]string{
		{"user", "password", "--username", "admin", "--password-file", pwFile},
		{"user", "reset-2fa", "--username", "admin"},
	} {
		t.Run(args[1], func(t *testing.T) {
			now := time.Now()
			s := operators.Session{TokenHash: rand.Text() + rand.Text(), UserID: admin.ID, Stage: operators.StageFull,
				CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := store.CreateSession(t.Context(), s); err != nil {
				t.Fatal(err)
			}
			if code, out, errs := run(t, t.Context(), env, nil, args...); code != 0 {
				t.Fatalf("%v: %d %q %q", args, code, out, errs)
			}
			if _, err := store.GetSession(t.Context(), s.TokenHash, now); !esign.IsKind(err, esign.NotFound) {
				t.Fatalf("the operator's Redis session outlived %v: %v", args, err)
			}
		})
	}
}
