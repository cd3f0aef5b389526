package ui

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

//go:embed templates/*.html.tmpl
var templates embed.FS

// handler serves the pages. It keeps no state between requests but its
// parsed templates.
type handler struct {
	cfg   Config
	tmpl  *template.Template
	style template.CSS
}

// NewHandler returns the handler of every page (docs/ui.md, "Pages"),
// behind the guard of methods and Host headers and the access token's. It
// fails when cfg.Token is not a usable token (under 16 letters, digits, '-'
// or '_'), and when its embedded templates do not parse.
func NewHandler(cfg Config) (http.Handler, error) {
	if err := checkToken(cfg.Token); err != nil {
		return nil, err
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tmpl, err := template.ParseFS(templates, "templates/*.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse ui templates: %w", err)
	}
	style, err := report.HTMLStyle()
	if err != nil {
		return nil, err
	}
	h := &handler{cfg: cfg, tmpl: tmpl, style: style}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.list)
	mux.HandleFunc("GET /sessions/{session}", h.storePage(h.session))
	mux.HandleFunc("GET /sessions/{session}/traces/{trace}", h.storePage(h.trace))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.message(w, http.StatusNotFound, message{Title: "Not found", Text: "There is no page at " + r.URL.Path + "."})
	})
	denied := func(w http.ResponseWriter) {
		h.message(w, http.StatusForbidden, message{Title: "Access token needed", Locked: true,
			Text: "This page needs the access token of graphsignal ui. Open the address that graphsignal ui " +
				"printed when it started (http://127.0.0.1:PORT/?token=…) in this browser."})
	}
	return guard(requireToken(cfg.Token, mux, denied)), nil
}

// sessionURL and traceURL are the addresses of a session's and a trace's
// pages.
func sessionURL(id string) string { return "/sessions/" + url.PathEscape(id) }

func traceURL(session string, trace telemetry.TraceID) string {
	return sessionURL(session) + "/traces/" + trace.String()
}

// message is what message.html.tmpl draws: an error or a not-found page,
// with links to what the reader may have meant.
type message struct {
	CSS         template.CSS
	Title, Text string
	Links       []link
	// Locked leaves out the link to the list: the reader has no access.
	Locked bool
}

type link struct{ Text, URL string }

func (h *handler) message(w http.ResponseWriter, status int, m message) {
	m.CSS = h.style
	var b bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&b, "message.html.tmpl", m); err != nil {
		http.Error(w, m.Title+": "+m.Text, status)
		return
	}
	send(w, status, b.Bytes())
}

// fail answers a request that the store could not serve.
func (h *handler) fail(w http.ResponseWriter, err error) {
	h.message(w, http.StatusInternalServerError, message{Title: "The store could not be read", Text: err.Error()})
}

// render sends the page that write makes whole (200), or the failure
// page when it fails: nothing is sent before the page is complete.
func (h *handler) render(w http.ResponseWriter, write func(*bytes.Buffer) error) {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		h.fail(w, err)
		return
	}
	send(w, http.StatusOK, b.Bytes())
}

func send(w http.ResponseWriter, status int, page []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(status)
	_, _ = w.Write(page) // the reader left: nothing to do
}

// resolve turns the session in the request's path into a session id. When
// it is a prefix of one, or "last", it redirects to that session's address
// (the part of the path after the session kept) and returns "".
func (h *handler) resolve(ctx context.Context, w http.ResponseWriter, r *http.Request, st *store.Store,
	rest string) string {
	ref := r.PathValue("session")
	var (
		id  string
		err error
	)
	if ref == "last" {
		id, err = st.LastSessionID(ctx)
	} else {
		id, err = st.ResolveSession(ctx, ref)
	}
	var amb *store.AmbiguousError
	switch {
	case errors.As(err, &amb):
		m := message{Title: "Session not found",
			Text: fmt.Sprintf("Several sessions start with %q; it may be one of these:", ref)}
		for _, c := range amb.Candidates {
			m.Links = append(m.Links, link{c, sessionURL(c) + rest})
		}
		h.message(w, http.StatusNotFound, m)
		return ""
	case errors.Is(err, store.ErrNotFound):
		h.message(w, http.StatusNotFound, message{Title: "Session not found",
			Text: fmt.Sprintf("No session %q is recorded in the local store.", ref)})
		return ""
	case err != nil:
		h.fail(w, err)
		return ""
	case id != ref:
		http.Redirect(w, r, sessionURL(id)+rest, http.StatusFound)
		return ""
	}
	return id
}

// storePage makes a handler of a page that reads the store: the page's
// work is bounded by pageTimeout, the store is opened for it (openFailed
// answers when it cannot be) and closed once it returns.
func (h *handler) storePage(page func(ctx context.Context, w http.ResponseWriter, r *http.Request, st *store.Store)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), pageTimeout)
		defer cancel()
		st, err := h.cfg.Open(ctx)
		if err != nil {
			h.openFailed(w, err)
			return
		}
		defer st.Close()
		page(ctx, w, r, st)
	}
}

// session serves report.ShowHTML's page of one session, its traces linked
// to their pages.
func (h *handler) session(ctx context.Context, w http.ResponseWriter, r *http.Request, st *store.Store) {
	id := h.resolve(ctx, w, r, st, "")
	if id == "" {
		return
	}
	d, err := st.Session(ctx, id, store.ChartPoints(report.HTMLChartPoints))
	if err != nil {
		h.fail(w, err)
		return
	}
	opts := report.Options{Location: h.cfg.Location,
		TraceURL: func(trace telemetry.TraceID) string { return traceURL(id, trace) }}
	if h.cfg.Deliveries != nil {
		opts.Deliveries = h.cfg.Deliveries(d)
	}
	if h.cfg.Costs != nil {
		if opts.Costs, err = h.cfg.Costs(ctx, st, id); err != nil {
			h.fail(w, err)
			return
		}
	}
	h.render(w, func(b *bytes.Buffer) error { return report.ShowHTML(b, d, opts) })
}

// trace serves report.TraceHTML's page of one trace of a session. The
// trace may be named as `show --trace` takes it: an id, a unique prefix,
// slowest or failed; all but the id redirect to the id's address.
func (h *handler) trace(ctx context.Context, w http.ResponseWriter, r *http.Request, st *store.Store) {
	ref := r.PathValue("trace")
	session := h.resolve(ctx, w, r, st, "/traces/"+url.PathEscape(ref))
	if session == "" {
		return
	}
	id, err := st.ResolveTrace(ctx, session, ref)
	var lookup *store.TraceLookupError
	switch {
	case errors.As(err, &lookup):
		m := message{Title: "Trace not found", Text: lookup.Error() + "."}
		if len(lookup.Candidates) > 0 {
			m.Text += " Its traces:"
			if lookup.Ambiguous {
				m.Text = fmt.Sprintf("Several traces of session %q start with %q:", session, ref)
			}
		}
		for _, c := range lookup.Candidates {
			m.Links = append(m.Links, link{fmt.Sprintf("%s  %s, %s", c.TraceID, report.Duration(c.Duration),
				report.Plural(c.Spans, "span")), traceURL(session, c.TraceID)})
		}
		m.Links = append(m.Links, link{"Session " + session, sessionURL(session)})
		h.message(w, http.StatusNotFound, m)
		return
	case err != nil:
		h.fail(w, err)
		return
	case id.String() != ref:
		http.Redirect(w, r, traceURL(session, id), http.StatusFound)
		return
	}
	opts := report.TraceHTMLOptions{Options: report.Options{Location: h.cfg.Location}, SessionURL: sessionURL(session)}
	d, err := st.Trace(ctx, session, id, opts.Reads()...)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.render(w, func(b *bytes.Buffer) error { return report.TraceHTML(b, d, opts) })
}

// openFailed answers a session or trace page when the store could not be
// opened.
func (h *handler) openFailed(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrNothingRecorded) {
		h.message(w, http.StatusNotFound, message{Title: "Session not found", Text: "Nothing has been recorded yet."})
		return
	}
	h.fail(w, err)
}
