package adminui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"esign/internal/esign"
	"esign/internal/operators"
)

const logsPerPage = 50

// pager reads ?page= and makes the links of an offset-paged list: it
// returns the page to ask for (one row more than shown, to know whether a
// next page exists) and a function that trims the rows and sets the links.
type pager struct {
	no   int
	q    url.Values
	path string
	Prev string
	Next string
}

func newPager(r *http.Request, keep ...string) *pager {
	qv := r.URL.Query()
	n, _ := strconv.Atoi(qv.Get("page"))
	pg := &pager{no: max(n, 1), q: url.Values{}, path: r.URL.Path}
	for _, k := range keep {
		if v := qv.Get(k); v != "" {
			pg.q.Set(k, v)
		}
	}
	return pg
}

func (pg *pager) page() esign.Page {
	return esign.Page{Limit: logsPerPage + 1, Offset: (pg.no - 1) * logsPerPage}
}

func (pg *pager) link(n int) string {
	q := url.Values{}
	for k, v := range pg.q {
		q[k] = v
	}
	q.Set("page", strconv.Itoa(n))
	return pg.path + "?" + q.Encode()
}

// trim reports how many of n rows to show and sets the links.
func (pg *pager) trim(n int) int {
	if n > logsPerPage {
		pg.Next = pg.link(pg.no + 1)
		n = logsPerPage
	}
	if pg.no > 1 {
		pg.Prev = pg.link(pg.no - 1)
	}
	return n
}

// logsNav is the tab row of the log pages, showing the tabs the operator
// may open.
type logsNav struct {
	Current string
	Tabs    []logsTab
}

type logsTab struct {
	Key, Href string
}

func newLogsNav(p *operators.Principal, current string) logsNav {
	n := logsNav{Current: current}
	for _, t := range []struct{ key, href, perm string }{
		{"audit", "/audit", esign.PermAuditRead},
		{"messages", "/logs/messages", esign.PermLogRead},
		{"client_errors", "/logs/client-errors", esign.PermLogRead},
		{"jobs", "/jobs", esign.PermProcessRead},
		{"events", "/events", esign.PermProcessRead},
	} {
		if p.Can(t.perm) {
			n.Tabs = append(n.Tabs, logsTab{t.key, t.href})
		}
	}
	return n
}

type auditData struct {
	Tabs                    logsNav
	Actor, Action, From, To string
	Rows                    []operators.AuditRow
	Pager                   *pager
}

func (u *UI) auditLog(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	qv := r.URL.Query()
	d := auditData{Tabs: newLogsNav(p, "audit"), Actor: strings.TrimSpace(qv.Get("actor")), Action: strings.TrimSpace(qv.Get("action")),
		From: qv.Get("from"), To: qv.Get("to"), Pager: newPager(r, "actor", "action", "from", "to")}
	from, err := parseDate("from", d.From)
	if err != nil {
		return err
	}
	to, err := parseDate("to", d.To)
	if err != nil {
		return err
	}
	if !to.IsZero() {
		to = to.AddDate(0, 0, 1) // the "to" day is included
	}
	rows, err := u.svc.AuditLog(r.Context(), operators.AuditQuery{Actor: d.Actor, Action: d.Action, From: from, To: to, Page: d.Pager.page()})
	if err != nil {
		return err
	}
	d.Rows = rows[:d.Pager.trim(len(rows))]
	return u.page(w, r, p, "audit.html", "audit.title", "logs", d)
}

type messageData struct {
	Tabs     logsNav
	Channel  string
	Status   string
	Channels []esign.Channel
	Statuses []esign.DeliveryStatus
	Rows     []operators.Message
	Pager    *pager
}

func (u *UI) messageLog(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	qv := r.URL.Query()
	d := messageData{Tabs: newLogsNav(p, "messages"), Channel: qv.Get("channel"), Status: qv.Get("status"),
		Channels: []esign.Channel{esign.ChannelEmail, esign.ChannelSMS, esign.ChannelPush}, Statuses: esign.DeliveryStatuses,
		Pager: newPager(r, "channel", "status")}
	if d.Channel == "" {
		d.Channel = string(esign.ChannelEmail)
	}
	rows, err := u.svc.Messages(r.Context(), operators.MessageQuery{Channel: esign.Channel(d.Channel),
		Status: esign.DeliveryStatus(d.Status), Page: d.Pager.page()})
	if err != nil {
		return err
	}
	d.Rows = rows[:d.Pager.trim(len(rows))]
	return u.page(w, r, p, "messages.html", "messages.title", "logs", d)
}

type clientErrorData struct {
	Tabs    logsNav
	Source  string
	Sources []string
	Rows    []*esign.ClientErrorLog
	Pager   *pager
}

func (u *UI) clientErrorLog(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	d := clientErrorData{Tabs: newLogsNav(p, "client_errors"), Source: r.URL.Query().Get("source"),
		Sources: []string{"css", "app", "admin"}, Pager: newPager(r, "source")}
	rows, err := u.svc.ClientErrors(r.Context(), d.Source, d.Pager.page())
	if err != nil {
		return err
	}
	d.Rows = rows[:d.Pager.trim(len(rows))]
	return u.page(w, r, p, "client_errors.html", "client_errors.title", "logs", d)
}
