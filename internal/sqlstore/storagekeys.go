package sqlstore

import (
	"context"
	"strings"
)

// UnreferencedStorageKeys returns those of keys that no document and no
// attachment names (deleted documents still name theirs). The document
// store's sweep of files a failed seal left behind asks it.
func (s *store) UnreferencedStorageKeys(ctx context.Context, keys []string) ([]string, error) {
	const op = "sqlstore.UnreferencedStorageKeys"
	if len(keys) == 0 {
		return nil, nil
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ")
	args := make([]any, 0, 2*len(keys))
	for range 2 {
		for _, k := range keys {
			args = append(args, k)
		}
	}
	rows, err := s.query(ctx, `SELECT storage_key FROM document WHERE storage_key IN (`+in+`)
		UNION SELECT storage_key FROM attachment WHERE storage_key IN (`+in+`)`, args...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	named := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, s.wrap(op, err)
		}
		named[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	var out []string
	for _, k := range keys {
		if !named[k] {
			out = append(out, k)
		}
	}
	return out, nil
}
