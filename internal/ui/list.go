package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/store"
)

// listPageSize is how many sessions a page of the list shows.
const listPageSize = 50

// maxSuggestions bounds the deployments and users the filter form
// suggests.
const maxSuggestions = 200

// listQuery is the list's filters, from the GET query (docs/ui.md,
// "Session list"): q (free text in session ids, programs, deployments and
// users),
// deployment, user, status (failed or ok), since (a Go duration: active
// within it) and page (from 1).
type listQuery struct {
	Q, Deployment, User, Status string
	Since                       time.Duration
	Page                        int
}

// parseListQuery reads the list's filters; a value it cannot use is an
// error that says which.
func parseListQuery(v url.Values) (listQuery, error) {
	q := listQuery{Q: strings.TrimSpace(v.Get("q")), Deployment: v.Get("deployment"), User: v.Get("user"),
		Status: v.Get("status"), Page: 1}
	if q.Status != "" && q.Status != "failed" && q.Status != "ok" {
		return q, fmt.Errorf("status %q: want failed or ok", q.Status)
	}
	if s := v.Get("since"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return q, fmt.Errorf("since %q: want a duration such as 24h", s)
		}
		q.Since = d
	}
	if s := v.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, fmt.Errorf("page %q: want a number from 1", s)
		}
		q.Page = n
	}
	return q, nil
}

// filtered reports whether q selects fewer than every session.
func (q listQuery) filtered() bool {
	return q.Q != "" || q.Deployment != "" || q.User != "" || q.Status != "" || q.Since > 0
}

// storeFilter is the part of q that the store's query applies.
func (q listQuery) storeFilter(now time.Time) store.SessionFilter {
	f := store.SessionFilter{User: q.User, Deployment: q.Deployment, Failed: q.Status == "failed"}
	if q.Since > 0 {
		f.Since = now.Add(-q.Since)
	}
	return f
}

// keeps applies the rest of q: status ok (no failed run, no error record:
// the opposite of the store's Failed) and the free text.
func (q listQuery) keeps(s *store.SessionSummary) bool {
	if q.Status == "ok" && (s.Failures > 0 || s.Errors > 0) {
		return false
	}
	if q.Q == "" {
		return true
	}
	text := strings.ToLower(q.Q)
	has := func(v string) bool { return strings.Contains(strings.ToLower(v), text) }
	return has(s.ID) || slices.ContainsFunc(s.Programs, has) || slices.ContainsFunc(s.Deployments, has) ||
		slices.ContainsFunc(s.Users, has)
}

// url is the list's address with q's filters, on page.
func (q listQuery) url(page int) string {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", q.Q)
	set("deployment", q.Deployment)
	set("user", q.User)
	set("status", q.Status)
	if q.Since > 0 {
		v.Set("since", shortDuration(q.Since))
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

// with is q with one more filter, from its first page.
func (q listQuery) with(key, value string) listQuery {
	switch key {
	case "deployment":
		q.Deployment = value
	case "user":
		q.User = value
	}
	q.Page = 1
	return q
}

// listPage is what list.html.tmpl draws.
type listPage struct {
	CSS    template.CSS
	Query  listQuery
	Since  []option
	Status []option
	// Empty says why no session is listed.
	Empty             string
	Rows              []listRow
	From, To, Matched int
	Prev, Next, Clear string
	Deployments       []string
	Users             []string
}

type option struct {
	Value, Label string
	Selected     bool
}

type listRow struct {
	ID, URL, Started, Programs, Status, Runs, Failed, Errors, Duration string
	Failing                                                            bool
	Deployments, Users                                                 []link
}

// sinceChoices are the list's "active within" choices; a since of the
// query that is not among them is added to them.
var sinceChoices = []option{{"", "any time", false}, {"1h", "the last hour", false}, {"24h", "the last day", false},
	{"168h", "the last 7 days", false}, {"720h", "the last 30 days", false}}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r.URL.Query())
	if err != nil {
		h.message(w, http.StatusBadRequest, message{Title: "Bad filter", Text: err.Error() + "."})
		return
	}
	sessions, err := h.sessions(r.Context(), q)
	if err != nil {
		h.fail(w, err)
		return
	}
	p := listPage{CSS: h.style, Query: q, Matched: len(sessions)}
	if q.filtered() {
		p.Clear = "/"
	}
	p.Since = sinceOptions(q.Since)
	p.Status = []option{{"", "any", q.Status == ""}, {"failed", "failed", q.Status == "failed"},
		{"ok", "ok", q.Status == "ok"}}
	switch {
	case sessions == nil:
		p.Empty = "Nothing has been recorded yet. Run a program with graphsignal run -- PROGRAM, then reload this page."
	case len(sessions) == 0 && q.filtered():
		p.Empty = "No session matches these filters."
	case len(sessions) == 0:
		p.Empty = "No sessions recorded."
	}
	pages := max((len(sessions)+listPageSize-1)/listPageSize, 1)
	page := min(q.Page, pages)
	from, to := (page-1)*listPageSize, min(page*listPageSize, len(sessions))
	p.From, p.To = from+1, to
	if page > 1 {
		p.Prev = q.url(page - 1)
	}
	if page < pages {
		p.Next = q.url(page + 1)
	}
	for i := range sessions[from:to] {
		p.Rows = append(p.Rows, h.row(&sessions[from+i], q))
	}
	p.Deployments, p.Users = suggestions(sessions)
	h.render(w, func(b *bytes.Buffer) error { return h.tmpl.ExecuteTemplate(b, "list.html.tmpl", p) })
}

// sessions lists the sessions q selects, newest first: the store's query
// (store.Sessions, as `graphsignal sessions`) with the filters it takes,
// then the others. It returns nil when nothing has been recorded yet.
func (h *handler) sessions(ctx context.Context, q listQuery) ([]store.SessionSummary, error) {
	ctx, cancel := context.WithTimeout(ctx, pageTimeout)
	defer cancel()
	st, err := h.cfg.Open(ctx)
	if errors.Is(err, ErrNothingRecorded) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	all, err := st.Sessions(ctx, q.storeFilter(h.cfg.Now()))
	if err != nil {
		return nil, err
	}
	out := make([]store.SessionSummary, 0, len(all))
	for i := range all {
		if q.keeps(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

func (h *handler) row(s *store.SessionSummary, q listQuery) listRow {
	r := listRow{ID: s.ID, URL: sessionURL(s.ID), Started: "-", Programs: "-", Status: "ok",
		Runs: strconv.Itoa(s.Runs), Failed: strconv.Itoa(s.Failures), Errors: strconv.Itoa(s.Errors),
		Duration: report.Duration(s.Duration)}
	if !s.FirstStart.IsZero() {
		r.Started = s.FirstStart.In(h.cfg.Location).Format("2006-01-02 15:04:05 MST")
	}
	if len(s.Programs) > 0 {
		r.Programs = strings.Join(s.Programs, ", ")
	}
	switch {
	case s.Failures > 0 || s.Errors > 0:
		r.Status, r.Failing = "failed", true
	case s.InProgress > 0:
		r.Status = "in progress"
	}
	switch {
	case s.InProgress > 0:
		r.Duration = "in progress"
	case s.LastEnd.IsZero():
		r.Duration = "-"
	}
	for _, d := range s.Deployments {
		r.Deployments = append(r.Deployments, link{d, q.with("deployment", d).url(1)})
	}
	for _, u := range s.Users {
		r.Users = append(r.Users, link{u, q.with("user", u).url(1)})
	}
	return r
}

// sinceOptions are sinceChoices with d's selected, or d's added.
func sinceOptions(d time.Duration) []option {
	want := ""
	if d > 0 {
		want = shortDuration(d)
	}
	out := slices.Clone(sinceChoices)
	for i := range out {
		if out[i].Value == want {
			out[i].Selected = true
			return out
		}
	}
	return append(out, option{Value: want, Label: "the last " + want, Selected: true})
}

// shortDuration is d as time.ParseDuration reads it, without zero minutes
// and seconds: 24h, 1h30m, 90s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// suggestions are the distinct deployments and users of sessions, sorted,
// at most maxSuggestions of each.
func suggestions(sessions []store.SessionSummary) (deployments, users []string) {
	seenD, seenU := map[string]bool{}, map[string]bool{}
	for i := range sessions {
		for _, d := range sessions[i].Deployments {
			if !seenD[d] && len(seenD) < maxSuggestions {
				seenD[d] = true
				deployments = append(deployments, d)
			}
		}
		for _, u := range sessions[i].Users {
			if !seenU[u] && len(seenU) < maxSuggestions {
				seenU[u] = true
				users = append(users, u)
			}
		}
	}
	slices.Sort(deployments)
	slices.Sort(users)
	return deployments, users
}
