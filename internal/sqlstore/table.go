package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"esign/internal/esign"
)

// table describes how one entity type maps to its table: the columns and,
// for a value, pointers to its fields in column order. The same pointers are
// insert arguments and scan destinations; nullable columns use the
// nullString / timeCol wrappers.
type table[T any] struct {
	name   string
	noun   string // for messages: "offer"
	cols   []string
	fields func(*T) []any
	list   string // "SELECT cols FROM name"
	values string // "INSERT INTO name (cols) VALUES (?, …)"
	ret    string // " RETURNING cols"
	insert string // values + ret
	hasUpd bool   // has an updated_at column
}

func newTable[T any](name, noun string, cols []string, fields func(*T) []any) *table[T] {
	var zero T
	if n := len(fields(&zero)); n != len(cols) {
		panic(fmt.Sprintf("sqlstore: table %s has %d columns but %d fields", name, len(cols), n))
	}
	c := strings.Join(cols, ", ")
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")
	t := &table[T]{
		name:   name,
		noun:   noun,
		cols:   cols,
		fields: fields,
		list:   "SELECT " + c + " FROM " + name,
		values: "INSERT INTO " + name + " (" + c + ") VALUES (" + ph + ")",
		ret:    " RETURNING " + c,
	}
	t.insert = t.values + t.ret
	for _, col := range cols {
		t.hasUpd = t.hasUpd || col == "updated_at"
	}
	return t
}

// qualified returns the column list prefixed with alias, for joins.
func (t *table[T]) qualified(alias string) string {
	return alias + "." + strings.Join(t.cols, ", "+alias+".")
}

func (t *table[T]) notFound(op string) error {
	return esign.E(op, esign.NotFound, t.noun+" not found")
}

// args turns the arguments of a statement into plain driver values:
// Valuers are called, pointers dereferenced, named types reduced to their
// kind, times written in the dialect's form (the zero time as NULL) and nil
// byte slices as empty ones.
func (s *store) args(in []any) []any {
	out := make([]any, len(in))
	for i, a := range in {
		out[i] = s.arg(a)
	}
	return out
}

func (s *store) arg(a any) any {
	if v, ok := a.(driver.Valuer); ok {
		x, err := v.Value()
		if err != nil {
			return err // surfaces as a conversion error from the driver
		}
		a = x
	}
	switch v := a.(type) {
	case nil:
		return nil
	case string, int64, bool, float64:
		return v
	case int:
		return int64(v)
	case []byte:
		if v == nil {
			return []byte{}
		}
		return v
	case time.Time:
		if v.IsZero() {
			return nil
		}
		return s.d.timeValue(esign.Timestamp(v))
	case *string:
		return *v
	case *int64:
		return *v
	case *bool:
		return *v
	case *time.Time:
		return s.arg(*v)
	case *[]byte:
		return s.arg(*v)
	}
	rv := reflect.ValueOf(a)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		return s.arg(rv.Elem().Interface())
	}
	switch rv.Kind() {
	case reflect.String:
		return rv.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Bool:
		return rv.Bool()
	}
	return a
}

func (s *store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.q.ExecContext(ctx, s.d.rebind(query), s.args(args)...)
}

func (s *store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.q.QueryContext(ctx, s.d.rebind(query), s.args(args)...)
}

func (s *store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.q.QueryRowContext(ctx, s.d.rebind(query), s.args(args)...)
}

// stamp gives a new row its id (unless the caller chose a valid one) and
// its creation time; updated, when not nil, gets the same time.
func (s *store) stamp(op string, id *string, created, updated *time.Time) error {
	if *id == "" {
		*id = esign.NewID()
	} else if !esign.ValidID(*id) {
		return esign.E(op, esign.Invalid, "the id is not a valid UUID")
	}
	now := esign.Timestamp(s.now())
	*created = now
	if updated != nil {
		*updated = now
	}
	return nil
}

// createRow validates a new row (the entity's Validate), gives it its id
// and times (stamp) and inserts it (insertRow).
func createRow[T any](ctx context.Context, s *store, op string, t *table[T], v *T, id *string, created, updated *time.Time) error {
	if val, ok := any(v).(interface{ Validate() error }); ok {
		if err := val.Validate(); err != nil {
			return esign.E(op, err)
		}
	}
	if err := s.stamp(op, id, created, updated); err != nil {
		return err
	}
	return insertRow(ctx, s, op, t, v)
}

// insertRow inserts v and reads the stored row back into v (RETURNING), so
// that v holds exactly what was stored.
func insertRow[T any](ctx context.Context, s *store, op string, t *table[T], v *T) error {
	f := t.fields(v)
	if err := s.queryRow(ctx, t.insert, f...).Scan(f...); err != nil {
		return s.wrap(op, err)
	}
	return nil
}

// getRow returns the one row matching where, or NotFound.
func getRow[T any](ctx context.Context, s *store, op string, t *table[T], where string, args ...any) (*T, error) {
	v := new(T)
	err := s.queryRow(ctx, t.list+" WHERE "+where, args...).Scan(t.fields(v)...)
	if err == sql.ErrNoRows {
		return nil, t.notFound(op)
	}
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return v, nil
}

// getByID returns the row with the id, or NotFound (also for a malformed id).
func getByID[T any](ctx context.Context, s *store, op string, t *table[T], id string) (*T, error) {
	if !esign.ValidID(id) {
		return nil, t.notFound(op)
	}
	return getRow(ctx, s, op, t, "id = ?", id)
}

// scanRows reads every row of a query made of t's columns.
func scanRows[T any](ctx context.Context, s *store, op string, t *table[T], query string, args ...any) ([]*T, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v := new(T)
		if err := rows.Scan(t.fields(v)...); err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

// listRows lists the rows matching w in order, one page.
func listRows[T any](ctx context.Context, s *store, op string, t *table[T], w *where, order string, p esign.Page) ([]*T, error) {
	q, args := w.build(t.list, order, p)
	return scanRows(ctx, s, op, t, q, args...)
}

// updateRow applies u to the row with the id and returns the stored row;
// NotFound when there is none. An empty update just reads the row. The
// updated row is validated in the same transaction (the entity's Validate):
// an update that would leave it invalid is rolled back with Invalid.
func updateRow[T any](ctx context.Context, s *store, op string, t *table[T], id string, u *setter) (*T, error) {
	if !esign.ValidID(id) {
		return nil, t.notFound(op)
	}
	if len(u.cols) == 0 {
		return getRow(ctx, s, op, t, "id = ?", id)
	}
	if t.hasUpd && !u.has("updated_at") {
		u.set("updated_at", s.now())
	}
	q := "UPDATE " + t.name + " SET " + strings.Join(u.cols, ", ") + " WHERE id = ?" + u.extra + t.ret
	args := append(u.args, id)
	args = append(args, u.extraArgs...)
	v := new(T)
	err := s.withTx(ctx, func(s *store) error {
		err := s.queryRow(ctx, q, args...).Scan(t.fields(v)...)
		if err == sql.ErrNoRows {
			return t.notFound(op)
		}
		if err != nil {
			return s.wrap(op, err)
		}
		if val, ok := any(v).(interface{ Validate() error }); ok {
			if err := val.Validate(); err != nil {
				return esign.E(op, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// deleteRows deletes the rows matching where and returns how many.
func (s *store) deleteRows(ctx context.Context, op, tableName, where string, args ...any) (int64, error) {
	res, err := s.exec(ctx, "DELETE FROM "+tableName+" WHERE "+where, args...)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap(op, err)
	}
	return n, nil
}

// deleteByID deletes the row with the id; NotFound when there is none.
func deleteByID[T any](ctx context.Context, s *store, op string, t *table[T], id string) error {
	if !esign.ValidID(id) {
		return t.notFound(op)
	}
	n, err := s.deleteRows(ctx, op, t.name, "id = ?", id)
	if err != nil {
		return err
	}
	if n == 0 {
		return t.notFound(op)
	}
	return nil
}

// where collects the conditions of a list query.
type where struct {
	conds []string
	args  []any
}

// add adds a condition with its arguments.
func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// eq adds "col = v" unless v is the zero value.
func eq[V comparable](w *where, col string, v V) {
	var zero V
	if v != zero {
		w.add(col+" = ?", v)
	}
}

// in adds "col IN (…)" unless vs is empty.
func in[V any](w *where, col string, vs []V) {
	if len(vs) == 0 {
		return
	}
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = v
	}
	w.add(col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vs)), ", ")+")", args...)
}

// before adds "col < t" unless t is zero.
func before(w *where, col string, t time.Time) {
	if !t.IsZero() {
		w.add(col+" < ?", t)
	}
}

// atOrAfter adds "col >= t" unless t is zero.
func atOrAfter(w *where, col string, t time.Time) {
	if !t.IsZero() {
		w.add(col+" >= ?", t)
	}
}

// Page sizes.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

func (w *where) build(head, order string, p esign.Page) (string, []any) {
	var b strings.Builder
	b.WriteString(head)
	if len(w.conds) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(w.conds, " AND "))
	}
	if order != "" {
		b.WriteString(" ORDER BY ")
		b.WriteString(order)
	}
	limit := p.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	b.WriteString(" LIMIT ? OFFSET ?")
	return b.String(), append(w.args, limit, max(p.Offset, 0))
}

// setter collects the assignments of an update. extra is appended to the
// WHERE clause (e.g. a version check).
type setter struct {
	cols      []string
	args      []any
	extra     string
	extraArgs []any
}

func (u *setter) has(col string) bool {
	for _, c := range u.cols {
		if c == col+" = ?" {
			return true
		}
	}
	return false
}

func (u *setter) set(col string, v any) {
	u.cols = append(u.cols, col+" = ?")
	u.args = append(u.args, v)
}

// setIf assigns *p to col when p is not nil.
func setIf[V any](u *setter, col string, p *V) {
	if p != nil {
		u.set(col, *p)
	}
}

// setNullIf assigns *p to col when p is not nil, the empty string as NULL.
func setNullIf(u *setter, col string, p *string) {
	if p != nil {
		u.set(col, nullString{p})
	}
}

// nullString maps the empty string to NULL and back.
type nullString struct{ p *string }

func (n nullString) Value() (driver.Value, error) {
	if *n.p == "" {
		return nil, nil
	}
	return *n.p, nil
}

func (n nullString) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.p = ""
	case string:
		*n.p = v
	case []byte:
		*n.p = string(v)
	case [16]byte: // a uuid in binary form
		*n.p = fmt.Sprintf("%x-%x-%x-%x-%x", v[0:4], v[4:6], v[6:8], v[8:10], v[10:])
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a string", src)
	}
	return nil
}

func nstr(p *string) nullString { return nullString{p} }

// timeCol scans a time written by either engine: time.Time from PostgreSQL,
// text in timeLayout (or RFC 3339) from SQLite, NULL as the zero time. As an
// argument it is the time itself (the zero time is NULL).
type timeCol struct{ p *time.Time }

func (c timeCol) Value() (driver.Value, error) { return *c.p, nil }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.p = time.Time{}
	case time.Time:
		*c.p = esign.Timestamp(v)
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	return nil
}

func (c timeCol) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("sqlstore: parse time %q: %w", s, err)
	}
	*c.p = esign.Timestamp(t)
	return nil
}

func tm(p *time.Time) timeCol { return timeCol{p} }

// jsonMap stores a string map as a JSON object in a text column; a nil or
// empty map is the empty string.
type jsonMap struct{ p *map[string]string }

func (j jsonMap) Value() (driver.Value, error) {
	if len(*j.p) == 0 {
		return "", nil
	}
	b, err := json.Marshal(*j.p)
	return string(b), err
}

func (j jsonMap) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a map", src)
	}
	*j.p = nil
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, j.p)
}
