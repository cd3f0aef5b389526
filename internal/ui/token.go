package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// tokenParam is the query parameter that carries the access token in the
// address `graphsignal ui` prints.
const tokenParam = "token"

// NewToken returns a new access token for Config.Token: crypto/rand's
// Text, 26 characters of base32 (130 random bits), safe in a URL and in a
// cookie. graphsignal ui makes one at each start.
func NewToken() string { return rand.Text() }

// errBadToken is NewHandler's error for an unusable Config.Token. It never
// holds the token.
var errBadToken = errors.New("access token: want 16 or more letters, digits, '-' or '_'")

// checkToken reports whether token can be the access token: long enough
// not to be guessed, and held verbatim by a URL query and a cookie.
func checkToken(token string) error {
	if len(token) < 16 {
		return errBadToken
	}
	for _, c := range token {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return errBadToken
		}
	}
	return nil
}

// tokenCookie is the name of the cookie that holds the access token for
// the server that host (the request's Host header) names. Browsers keep
// cookies per host, not per port, so the name carries the port: two
// servers on 127.0.0.1 keep a cookie each.
func tokenCookie(host string) string {
	port := "80"
	if _, p, err := net.SplitHostPort(host); err == nil && p != "" {
		port = p
	}
	return "graphsignal-ui-" + port
}

// requireToken lets a request through to next only with the access token
// (docs/ui.md, "Security"). A request whose query has a token parameter
// gets, when it is the token, the token's cookie (HttpOnly, SameSite=Strict,
// Path=/) and a redirect (302) to the same address without the parameter,
// so that the token stays out of the browser's history; otherwise 403. A
// request without one needs the cookie, or gets 403. denied writes the 403
// page. Tokens are compared in constant time.
func requireToken(token string, next http.Handler, denied func(http.ResponseWriter)) http.Handler {
	want := []byte(token)
	right := func(got string) bool { return subtle.ConstantTimeCompare([]byte(got), want) == 1 }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := tokenCookie(r.Host)
		if q := r.URL.Query(); q.Has(tokenParam) {
			if !right(q.Get(tokenParam)) {
				denied(w)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: name, Value: token, Path: "/", HttpOnly: true,
				SameSite: http.SameSiteStrictMode})
			w.Header().Set("Location", withoutToken(r.URL))
			w.WriteHeader(http.StatusFound)
			return
		}
		if c, err := r.Cookie(name); err != nil || !right(c.Value) {
			denied(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withoutToken is u's path and query, its token parameters left out and
// its other parameters kept as they were written. A path that a browser
// would read as another host's (//host, /\host) becomes "/".
func withoutToken(u *url.URL) string {
	path := u.EscapedPath()
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.HasPrefix(path, `/\`) {
		path = "/"
	}
	var kept []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if key, err := url.QueryUnescape(k); kv == "" || err == nil && key == tokenParam {
			continue
		}
		kept = append(kept, kv)
	}
	if len(kept) == 0 {
		return path
	}
	return path + "?" + strings.Join(kept, "&")
}
