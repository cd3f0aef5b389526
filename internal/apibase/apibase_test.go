package apibase

import (
	"strings"
	"testing"
)

const key = "gsk-s3cret-0123"

func TestParse(t *testing.T) {
	tests := []struct{ base, want string }{
		{"https://api.graphsignal.com", "https://api.graphsignal.com"},
		{"https://api.graphsignal.com/", "https://api.graphsignal.com/"},
		{"http://api.example.com:8080/gs", "http://api.example.com:8080/gs"},
		{"http://127.0.0.1:5000", "http://127.0.0.1:5000"},
		{"http://[::1]:5000/a%2Fb", "http://[::1]:5000/a%2Fb"},
		{"HTTPS://API.graphsignal.com", "https://API.graphsignal.com"},
	}
	for _, tt := range tests {
		u, err := Parse(tt.base)
		if err != nil || u.String() != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %s", tt.base, u, err, tt.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ base, want string }{
		{"", `"": scheme must be http or https`},
		{"api.graphsignal.com", `"api.graphsignal.com": scheme must be http or https`},
		{"ftp://api.graphsignal.com", `"ftp://api.graphsignal.com": scheme must be http or https`},
		{"ftp://user:" + key + "@host", `"ftp://redacted@host": scheme must be http or https`},
		{"user:" + key + "@api.graphsignal.com", `"redacted@api.graphsignal.com": scheme must be http or https`},
		{"apikey:" + key, `"apikey:": scheme must be http or https`},
		{"https://", `"https:": no host`},
		{"https://:443", `"https://:443": no host`},
		{"https://api.graphsignal.com/?key=" + key, `"https://api.graphsignal.com/": a query or fragment is not allowed`},
		{"https://api.graphsignal.com/?", `"https://api.graphsignal.com/": a query or fragment is not allowed`},
		{"https://api.graphsignal.com/#" + key, `"https://api.graphsignal.com/": a query or fragment is not allowed`},
		{"https://api.graphsignal.com/#", `"https://api.graphsignal.com/": a query or fragment is not allowed`},
		{"https://user:" + key + "@api.graphsignal.com", `"https://redacted@api.graphsignal.com": credentials in the URL are not allowed (the key is sent as a header)`},
		{"https://" + key + "@api.graphsignal.com", `"https://redacted@api.graphsignal.com": credentials in the URL are not allowed (the key is sent as a header)`},
		{"https://api.graphsignal.com:99999", `"https://api.graphsignal.com:99999": bad port`},
		{"https://api.graphsignal.com:0", `"https://api.graphsignal.com:0": bad port`},
		{"https://u:" + key + "@[::1", `"https://redacted@[::1": not a URL`},
		{"https://api.graphsignal.com:x", `"https://api.graphsignal.com:x": not a URL`},
	}
	for _, tt := range tests {
		u, err := Parse(tt.base)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want the error %s", tt.base, u, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("Parse(%q) error shows the key: %v", tt.base, err)
		}
	}
}
