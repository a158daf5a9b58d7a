package jobs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"esign/internal/notify"
)

// The crash test re-executes the test binary as a child process that plays
// an esign replica: it commits a transaction that changes data and enqueues
// a notification (and, in mode mid_seal, a seal job), and is then killed
// with SIGKILL, either before any worker picked the job up, while the
// provider call is in flight or while the provider call and the seal are
// both in flight. A fresh queue in the parent must deliver the
// notification, and seal, exactly once: a job that was running when the
// child died is rescued and runs exactly once more.
const (
	childEnv    = "ESIGN_JOBS_CRASH_CHILD"
	childDSN    = "ESIGN_JOBS_CRASH_DSN"
	childDial   = "ESIGN_JOBS_CRASH_DIALECT"
	crashKey    = "offer-available-crash-sms"
	crashOffer  = "crash-offer"
	beforePick  = "before_pickup"
	midSend     = "mid_send"
	midSeal     = "mid_seal"
	crashSig    = "crash-signature"
	crashRescue = 4 * time.Second
)

// TestCrashChild is the child's body; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("only runs as the child of TestKillBetweenCommitAndSend")
	}
	ctx := context.Background()
	d := Dialect(os.Getenv(childDial))
	db := mustOpen(t, d, os.Getenv(childDSN))
	s := newRecordingSender()
	s.block = make(chan struct{}) // the provider never answers before the kill
	s.onSend = func(key string) { fmt.Printf("SENDING %s\n", key) }
	cfg := crashConfig(d)
	cfg.InsertOnly = mode == beforePick
	deps := testDeps(t, db, s)
	if mode == midSeal {
		deps.Sealer = blockingSealer{}
	}
	q, err := New(db.DB, cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO offers VALUES (?, 'Hitel', 'Éva', '+36301234567', 'open', 0)`), crashOffer); err != nil {
		t.Fatal(err)
	}
	id, err := q.Enqueue(ctx, tx, Notification{Kind: notify.OfferAvailable, Channel: notify.SMS, To: "+36301234567",
		Params: notify.Params{OfferTitle: "Hitel"}, Key: crashKey})
	if err != nil {
		t.Fatal(err)
	}
	if mode == midSeal {
		sid, err := q.EnqueueSeal(ctx, tx, crashSig)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("SEAL %d\n", sid)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("COMMITTED %d\n", id)
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Minute) // killed long before
	t.Fatal("child was not killed")
}

// blockingSealer announces the seal and never finishes it before the kill.
type blockingSealer struct{}

func (blockingSealer) SealSignature(ctx context.Context, id string) error {
	fmt.Printf("SEALING %s\n", id)
	<-ctx.Done()
	return ctx.Err()
}

func crashConfig(d Dialect) Config {
	cfg := testConfig(d)
	cfg.RescueAfter = crashRescue
	cfg.Notify.SendTimeout = 3 * time.Second
	cfg.Seal.Timeout = 3 * time.Second
	cfg.Seal.BackoffBase = 20 * time.Millisecond
	cfg.Cron.Timeout = 3 * time.Second
	return cfg
}

func TestKillBetweenCommitAndSend(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	for _, d := range dialects(t) {
		for _, mode := range []string{beforePick, midSend, midSeal} {
			t.Run(string(d)+"_"+mode, func(t *testing.T) {
				if mode != beforePick && testing.Short() {
					t.Skip("waits for the stuck-job rescuer and leader election (~15 s)")
				}
				db := openDB(t, d)
				id, sealID, killedAt := runAndKillChild(t, db, mode)

				// The change and its notification both committed; nothing was sent.
				if n := db.count(t, `SELECT COUNT(*) FROM offers WHERE id = ?`, crashOffer); n != 1 {
					t.Fatalf("offer rows = %d", n)
				}
				// Every job of the mode is in the state the kill left it in;
				// a running one is stuck until the rescue.
				wantState := map[string]string{beforePick: "available", midSend: "running", midSeal: "running"}[mode]
				probe, err := New(db.DB, Config{Dialect: d, InsertOnly: true}, Deps{})
				if err != nil {
					t.Fatal(err)
				}
				ids := []int64{id}
				if mode == midSeal {
					ids = append(ids, sealID)
				}
				atKill := map[int64]JobInfo{}
				for _, jid := range ids {
					ji := jobState(t, probe, jid)
					if ji.State != wantState {
						t.Fatalf("%s job state after kill = %s, want %s", ji.Kind, ji.State, wantState)
					}
					atKill[jid] = ji
				}

				// A stuck "running" job is rescued once RescueAfter has
				// passed (the rescuer runs on River's leader, which the
				// dead child may have been: its lease must run out first).
				if mode != beforePick {
					time.Sleep(time.Until(killedAt.Add(crashRescue + 500*time.Millisecond)))
				}
				s := newRecordingSender()
				sealer := &fakeSealer{calls: map[string]int{}}
				cfg := crashConfig(d)
				cfg.Logger = testLogger(t)
				if mode == midSeal {
					// The rescue is done by River's leader, which may be a
					// process that does not seal (a cron): it must hand the
					// seal back to the queue, not discard it as a kind it
					// does not know.
					rescuer := startQueue(t, db, cfg, testDeps(t, db, s))
					waitFor(t, 60*time.Second, "seal rescued by a client that does not seal", func() bool {
						return jobState(t, rescuer, sealID).State != "running"
					})
					if st := jobState(t, rescuer, sealID).State; st != "retryable" && st != "available" {
						t.Fatalf("seal job after a rescue by a client that does not seal: %s, want retryable", st)
					}
				}
				deps := testDeps(t, db, s)
				deps.Sealer = sealer
				q := startQueue(t, db, cfg, deps)
				waitFor(t, 60*time.Second, "job completed after restart", func() bool { return jobState(t, q, id).State == "completed" })
				if mode == midSeal {
					waitFor(t, 60*time.Second, "seal completed after restart", func() bool { return jobState(t, q, sealID).State == "completed" })
					if n := sealer.count(crashSig); n != 1 {
						t.Errorf("sealed %d times after the restart, want once", n)
					}
				}
				time.Sleep(300 * time.Millisecond) // room for a duplicate to show
				if n := s.count(crashKey); n != 1 {
					t.Fatalf("delivered %d times, want exactly once", n)
				}
				dl, ok, err := sqlLog{db}.FindDelivery(context.Background(), notify.SMS, crashKey)
				if err != nil || !ok || dl.Status != StatusSent || dl.ProviderID == "" {
					t.Errorf("delivery = %+v, %v, %v", dl, ok, err)
				}
				// River keeps a rescued job's attempt and counts one more
				// per fetch: each job ran exactly once after the kill (the
				// rescue, for a running one).
				for _, jid := range ids {
					if ji := jobState(t, q, jid); ji.Attempt != atKill[jid].Attempt+1 {
						t.Errorf("%s job attempt = %d, want %d (%d at the kill, then one run)",
							ji.Kind, ji.Attempt, atKill[jid].Attempt+1, atKill[jid].Attempt)
					}
				}
			})
		}
	}
}

// runAndKillChild starts the child, waits until it reached the point of
// the mode (in mid_seal: both the send and the seal in flight, because the
// two queues fetch independently and a kill at the seal alone would leave
// the notification running or not by chance), SIGKILLs it and returns the notification's and the seal's (or
// 0) job ids and the time of the kill.
func runAndKillChild(t *testing.T, db *testDB, mode string) (int64, int64, time.Time) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, childDSN+"="+db.dsn, childDial+"="+string(db.dialect))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	want := map[string][]string{beforePick: {"COMMITTED"}, midSend: {"SENDING"}, midSeal: {"SENDING", "SEALING"}}[mode]
	seen := map[string]bool{}
	var id, sealID int64
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("child exited before %v (saw %v)", want, seen)
			}
			if v, ok := strings.CutPrefix(l, "COMMITTED "); ok {
				id, _ = strconv.ParseInt(v, 10, 64)
			}
			if v, ok := strings.CutPrefix(l, "SEAL "); ok {
				sealID, _ = strconv.ParseInt(v, 10, 64)
			}
			if w, _, ok := strings.Cut(l, " "); ok && slices.Contains(want, w) {
				seen[w] = true
			}
			if len(seen) == len(want) {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				killedAt := time.Now()
				_ = cmd.Wait()
				go func() {
					for range lines {
					}
				}()
				if id == 0 || (mode == midSeal && sealID == 0) {
					t.Fatal("child did not report the job ids")
				}
				return id, sealID, killedAt
			}
		case <-timeout:
			t.Fatalf("child did not reach %v (saw %v)", want, seen)
		}
	}
}
