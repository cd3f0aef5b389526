package redact

import (
	"net/url"
	"strings"
)

// endpointUser is the user information that Endpoint shows in place of a
// URL's own: a plain user name, so that the result still reads as a URL
// and tells that the given one held credentials.
const endpointUser = "redacted"

// Endpoint returns s, a URL that names a destination (an API base, a gRPC
// target), as an error message or a destination's name may show it:
// scheme, host and path only. Unlike URL, which keeps every part that is
// not secret, it drops the query and the fragment whatever their names,
// replaces the whole user information, user name included, by "redacted",
// and drops the opaque part of a URL without "//" ("apikey:VALUE" shows as
// "apikey:").
//
// Where credentials cannot be told apart by parsing, everything before
// the last "@" that could hold them is replaced by "redacted": in a string
// that does not parse as a URL ("https://u:p@[::1" shows as
// "https://redacted@[::1"; url.Parse's error would quote it whole), and in
// one without a host ("user:pass@host", which parses as the scheme "user",
// shows as "redacted@host"). The replaced part starts after the first
// "//" when that comes before the first "@", else at the start; the query
// and fragment are cut first.
func Endpoint(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" && strings.Contains(s, "@") {
		return unparsedEndpoint(s)
	}
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	if u.User != nil {
		c.User = url.User(endpointUser)
	}
	return c.String()
}

// unparsedEndpoint is Endpoint for a string whose credentials parsing does
// not single out.
func unparsedEndpoint(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	start := 0
	if i := strings.Index(s, "//"); i >= 0 && i < strings.IndexByte(s, '@') {
		start = i + 2
	}
	return s[:start] + endpointUser + s[at:]
}

// Origin returns the scheme and host of the URL s ("https://h:8443"), as
// an error may show where a server pointed (a redirect's Location): no
// credentials, path, query or fragment. It returns "" when s does not
// parse or has no host.
func Origin(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
}
