package grpcunary

import (
	"context"
	"strings"
	"testing"
)

// TestInvokeBadTargetHidesCredentials: a target Invoke refuses is named in
// its error as redact.Endpoint shows it, never with a credential.
func TestInvokeBadTargetHidesCredentials(t *testing.T) {
	const secret = "s3cret-0123"
	tests := []struct{ target, shown string }{
		{"ftp://collector:4317", `"ftp://collector:4317"`},
		{"ftp://u:" + secret + "@collector:4317", `"ftp://redacted@collector:4317"`},
		{"ftp://collector:4317/?token=" + secret, `"ftp://collector:4317/"`},
		{"http://u:" + secret + "@[::1", `"http://redacted@[::1"`},
		{"http://u:p@" + secret + "@[::1", `"http://redacted@[::1"`},
		{"u:" + secret + "@collector:4317", `"redacted@collector:4317"`},
	}
	for _, tt := range tests {
		_, err := Invoke(context.Background(), nil, tt.target, "/s.S/M", nil, nil, false)
		if err == nil || !strings.Contains(err.Error(), "grpc target "+tt.shown+": want") {
			t.Errorf("Invoke(%q) = %v, want the target shown as %s", tt.target, err, tt.shown)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("Invoke(%q) error shows the secret: %v", tt.target, err)
		}
	}
}
