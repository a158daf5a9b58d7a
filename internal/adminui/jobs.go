package adminui

import (
	"context"
	"net/http"
	"strconv"

	"esign/internal/esign"
	"esign/internal/operators"
	"esign/internal/webui"
)

type jobData struct {
	Tabs      logsNav
	State     string
	States    []string
	HasJobs   bool
	Jobs      []operators.Job
	CanManage bool
}

// jobStates are the states the jobs page filters by; "" lists the ones an
// operator acts on (operators.JobStates).
var jobStates = []string{"retryable", "discarded", "cancelled", "available", "scheduled", "running", "completed"}

func (u *UI) jobList(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	d := jobData{Tabs: newLogsNav(p, "jobs"), State: r.URL.Query().Get("state"), States: jobStates, HasJobs: u.svc.HasJobs(),
		CanManage: p.Can(esign.PermProcessManage)}
	if d.HasJobs {
		var states []string
		if d.State != "" {
			states = []string{d.State}
		}
		js, err := u.svc.Jobs(r.Context(), states, 100)
		if err != nil {
			return err
		}
		d.Jobs = js
	}
	return u.page(w, r, p, "jobs.html", "jobs.title", "logs", d)
}

func jobID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, esign.E("adminui.job", esign.NotFound, "job not found")
	}
	return id, nil
}

// jobAction retries or cancels a job (run) and returns to the list with
// the flash message done.
func (u *UI) jobAction(run func(ctx context.Context, id int64) (operators.Job, error), done string) handler {
	return func(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
		id, err := jobID(r)
		if err != nil {
			return err
		}
		j, err := run(r.Context(), id)
		if err != nil {
			return err
		}
		noteAudit(r, "", "kind", j.Kind, "state", j.State)
		u.ui.Redirect(w, r, jobsBack(r), &webui.Flash{Kind: webui.FlashSuccess, Key: done})
		return nil
	}
}

func jobsBack(r *http.Request) string {
	if ret := r.PostFormValue("return"); ret != "" {
		return webui.LocalPath(ret)
	}
	return "/jobs"
}

type eventData struct {
	Tabs      logsNav
	Status    string
	Statuses  []string
	Rows      []operators.EventDelivery
	Pager     *pager
	CanManage bool
	HasJobs   bool
}

func (u *UI) eventList(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	d := eventData{Tabs: newLogsNav(p, "events"), Status: r.URL.Query().Get("status"), Statuses: []string{"pending", "delivered", "failed"},
		Pager: newPager(r, "status"), CanManage: p.Can(esign.PermProcessManage), HasJobs: u.svc.HasJobs()}
	rows, err := u.svc.EventDeliveries(r.Context(), d.Status, d.Pager.page())
	if err != nil {
		return err
	}
	d.Rows = rows[:d.Pager.trim(len(rows))]
	return u.page(w, r, p, "events.html", "events.title", "logs", d)
}

// eventRetry delivers a failed event to its callback URL again.
func (u *UI) eventRetry(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	url, err := u.svc.RetryEventDelivery(r.Context(), r.PathValue("id"), r.PostFormValue("target"))
	if url != "" {
		noteAudit(r, "", "url", redactURL(url))
	}
	if esign.ErrorCode(err) == "not_failed" {
		u.ui.Redirect(w, r, "/events", &webui.Flash{Kind: webui.FlashError, Key: "events.not_failed"})
		return nil
	}
	if err != nil {
		return err
	}
	u.ui.Redirect(w, r, "/events", &webui.Flash{Kind: webui.FlashSuccess, Key: "events.retried"})
	return nil
}
