// Package apibase owns the rule for the Graphsignal API's base URL (the
// api_base setting, README "Configuration"; docs/upload.md): the command
// line checks it when it resolves its configuration, and the uploader
// (gsapi) and the sdk_config fetcher (sdkconfig) check it again when they
// are built, all by Parse.
package apibase

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/graphsignal/graphsignal/internal/redact"
)

// Parse checks an API base and returns it as a URL of its scheme, host and
// path only. The base must be an http or https URL with a host, a port
// from 1 to 65535 if any, optionally a path prefix, and no credentials
// (the API key travels in a header, never in a URL), query or fragment.
//
// The error reads `"BASE": reason`, BASE shown by redact.Endpoint (never
// with credentials, a query or a fragment); callers put what the value is
// in front of it.
func Parse(base string) (*url.URL, error) {
	shown := redact.Endpoint(base)
	u, err := url.Parse(base)
	if err != nil {
		// url.Parse's error quotes the input, credentials included.
		return nil, refused(shown, "not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, refused(shown, "scheme must be http or https")
	case u.Host == "" || u.Hostname() == "":
		return nil, refused(shown, "no host")
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(base, "#"):
		return nil, refused(shown, "a query or fragment is not allowed")
	case u.User != nil:
		return nil, refused(shown, "credentials in the URL are not allowed (the key is sent as a header)")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, refused(shown, "bad port")
		}
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}, nil
}

func refused(shown, reason string) error {
	return fmt.Errorf("%q: %s", shown, reason)
}
