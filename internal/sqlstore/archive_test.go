package sqlstore

import (
	"testing"
	"time"

	"esign/internal/esign"
)

// TestContractArchive: ArchiveDueBy lists the B-LTA contracts whose
// archive expiry is unknown or before it and that have documents not
// deleted; the renewal's columns round-trip; SwapDocumentFile changes a
// document only while it names the old key and is not deleted.
func TestContractArchive(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		now := time.Now().UTC().Truncate(time.Second)
		mk := func(title, level string, expires time.Time, deleted bool) *esign.Contract {
			k := &esign.Contract{CustomerID: c.ID, Title: title, SignedAt: now, SealLevel: level}
			must(t, db.CreateContract(ctx, k))
			d := mkDocument(t, &db.store, c.ID)
			_, err := db.UpdateDocument(ctx, d.ID, esign.DocumentUpdate{ContractID: &k.ID})
			must(t, err)
			if deleted {
				_, err = db.UpdateDocument(ctx, d.ID, esign.DocumentUpdate{DeletedAt: &now})
				must(t, err)
			}
			if !expires.IsZero() {
				k, err = db.UpdateContract(ctx, k.ID, esign.ContractUpdate{ArchiveExpiresAt: &expires})
				must(t, err)
			}
			return k
		}
		unknown := mk("unknown", "B-LTA", time.Time{}, false)
		soon := mk("soon", "B-LTA", now.Add(24*time.Hour), false)
		mk("later", "B-LTA", now.Add(3*365*24*time.Hour), false)
		mk("b-lt", "B-LT", time.Time{}, false)
		mk("deleted", "B-LTA", time.Time{}, true)
		due, err := db.ListContracts(ctx, esign.ContractFilter{SealLevel: "B-LTA", ArchiveDueBy: now.Add(365 * 24 * time.Hour)})
		must(t, err)
		var titles []string
		for _, k := range due {
			titles = append(titles, k.Title)
		}
		same(t, "due contracts", titles, []string{soon.Title, unknown.Title})

		renewed, err := db.UpdateContract(ctx, soon.ID, esign.ContractUpdate{ArchiveRenewedAt: &now})
		must(t, err)
		got, err := db.GetContract(ctx, soon.ID)
		must(t, err)
		same(t, "renewed contract", got, renewed)
		if !got.ArchiveRenewedAt.Equal(now) || !got.ArchiveExpiresAt.Equal(now.Add(24*time.Hour)) {
			t.Fatalf("archive columns: %s, %s", got.ArchiveRenewedAt, got.ArchiveExpiresAt)
		}

		d := mkDocument(t, &db.store, c.ID)
		next := esign.DocumentFile{StorageKey: "contracts/" + esign.NewID() + "/v2.pdf", Size: 99, SHA256: digest("v2")}
		sw, err := db.SwapDocumentFile(ctx, d.ID, d.StorageKey, next)
		must(t, err)
		if sw.StorageKey != next.StorageKey || sw.Size != 99 || sw.SHA256 != next.SHA256 {
			t.Fatalf("swapped: %+v", sw)
		}
		_, err = db.SwapDocumentFile(ctx, d.ID, d.StorageKey, esign.DocumentFile{StorageKey: "contracts/x/v3.pdf", Size: 1, SHA256: digest("v3")})
		wantKind(t, err, esign.Conflict) // it names v2 now
		_, err = db.UpdateDocument(ctx, d.ID, esign.DocumentUpdate{DeletedAt: &now})
		must(t, err)
		_, err = db.SwapDocumentFile(ctx, d.ID, next.StorageKey, esign.DocumentFile{StorageKey: "contracts/x/v3.pdf", Size: 1, SHA256: digest("v3")})
		wantKind(t, err, esign.Conflict) // its bytes are deleted
	})
}
