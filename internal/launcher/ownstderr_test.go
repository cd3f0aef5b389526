package launcher

import (
	"bytes"
	"strings"
	"testing"
)

func TestOwnStderrLeftOut(t *testing.T) {
	for _, tt := range []struct {
		name   string
		writes []string
		file   string
		want   string
	}{
		{"none", nil, "a\nb\n", "a\nb\n"},
		{"between the child's lines", []string{"graphsignal: x\n"}, "a\ngraphsignal: x\nb\n", "a\nb\n"},
		{"in order", []string{"g1\n", "g2\n"}, "a\ng1\nb\ng2\nc\n", "a\nb\nc\n"},
		{"written before the tail starts", []string{"early\n", "g\n"}, "a\ng\nb\n", "a\nb\n"},
		{"the same text by the child, later", []string{"g\n"}, "g\na\ng\n", "a\ng\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			o := NewOwnStderr(&out)
			for _, w := range tt.writes {
				if _, err := o.Write([]byte(w)); err != nil {
					t.Fatal(err)
				}
			}
			if out.String() != strings.Join(tt.writes, "") {
				t.Errorf("passed on %q", out.String())
			}
			if got := string(o.leaveOut([]byte(tt.file))); got != tt.want {
				t.Errorf("leaveOut(%q) = %q, want %q", tt.file, got, tt.want)
			}
		})
	}
	var nilOwn *OwnStderr
	if got := string(nilOwn.leaveOut([]byte("a\n"))); got != "a\n" || nilOwn.size() != 0 {
		t.Errorf("nil OwnStderr: leaveOut %q, size %d", got, nilOwn.size())
	}
}

func TestOwnStderrKeepsTheLastWrites(t *testing.T) {
	var out bytes.Buffer
	o := NewOwnStderr(&out)
	line := []byte(strings.Repeat("x", 1023) + "\n")
	for range 2 * ownStderrKept / len(line) {
		_, _ = o.Write(line)
	}
	if got := o.size(); got > ownStderrKept || got < ownStderrKept-len(line) {
		t.Errorf("size() = %d, want the last %d bytes", got, ownStderrKept)
	}
}
