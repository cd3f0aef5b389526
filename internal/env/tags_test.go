package env

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestParseTagList(t *testing.T) {
	tests := []struct {
		in      string
		want    telemetry.Tags
		wantErr string
	}{
		{"", nil, ""},
		{"  ", nil, ""},
		{",,", nil, ""},
		{"session_id=123", telemetry.Tags{"session_id": "123"}, ""},
		{"session_id=123, user_id=u1", telemetry.Tags{"session_id": "123", "user_id": "u1"}, ""},
		{" a = 1 ,b=2,", telemetry.Tags{"a": "1", "b": "2"}, ""},
		{"a=1,,b=2", telemetry.Tags{"a": "1", "b": "2"}, ""},
		{"a=", telemetry.Tags{"a": ""}, ""},
		{"a= ", telemetry.Tags{"a": ""}, ""},
		{"url=https://h/?x=1", telemetry.Tags{"url": "https://h/?x=1"}, ""},
		{"a=b=c", telemetry.Tags{"a": "b=c"}, ""},
		{"a=1,a=2", telemetry.Tags{"a": "2"}, ""},
		{"Mixed Case=V a l", telemetry.Tags{"Mixed Case": "V a l"}, ""},
		{"k=\xff", telemetry.Tags{"k": "\xff"}, ""},
		{"foo", nil, `tag "foo": want key=value`},
		{"a=1, foo ,b=2", nil, `tag "foo": want key=value`},
		{"=v", nil, `tag "=v": want key=value`},
		{" = v", nil, `tag "= v": want key=value`},
	}
	for _, tt := range tests {
		got, err := ParseTagList(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseTagList(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTagList(%q) error = %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseTagList(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseTag(t *testing.T) {
	tests := []struct {
		in, k, v, wantErr string
	}{
		{"a=1", "a", "1", ""},
		{" msg = a,b ", "msg", "a,b", ""},
		{"k=x=y", "k", "x=y", ""},
		{"k=", "k", "", ""},
		{"foo", "", "", `tag "foo": want key=value`},
		{"=v", "", "", `tag "=v": want key=value`},
		{"", "", "", `tag "": want key=value`},
	}
	for _, tt := range tests {
		k, v, err := ParseTag(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseTag(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || k != tt.k || v != tt.v {
			t.Errorf("ParseTag(%q) = %q, %q, %v; want %q, %q", tt.in, k, v, err, tt.k, tt.v)
		}
	}
}

func TestTagsFromEnviron(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    telemetry.Tags
		wantErr string
	}{
		{"none", []string{"HOME=/h"}, nil, ""},
		{"list", []string{"GRAPHSIGNAL_TAGS=session_id=1, user_id=u"}, telemetry.Tags{"session_id": "1", "user_id": "u"}, ""},
		{"single vars lower-cased", []string{"GRAPHSIGNAL_TAG_RUN_ID=r1", "GRAPHSIGNAL_TAG_Model= gpt "}, telemetry.Tags{"run_id": "r1", "model": "gpt"}, ""},
		{"vars override list", []string{"GRAPHSIGNAL_TAG_USER_ID=v", "GRAPHSIGNAL_TAGS=user_id=l,a=1"}, telemetry.Tags{"user_id": "v", "a": "1"}, ""},
		{"first duplicate wins", []string{"GRAPHSIGNAL_TAG_X=1", "GRAPHSIGNAL_TAG_X=2"}, telemetry.Tags{"x": "1"}, ""},
		{"empty value", []string{"GRAPHSIGNAL_TAG_X="}, telemetry.Tags{"x": ""}, ""},
		{"value with comma and =", []string{"GRAPHSIGNAL_TAG_X=a,b=c"}, telemetry.Tags{"x": "a,b=c"}, ""},
		{"prefix alone is not a tag var", []string{"GRAPHSIGNAL_TAG=1", "GRAPHSIGNAL_TAGSX=2"}, nil, ""},
		{"bad list", []string{"GRAPHSIGNAL_TAGS=a=1,oops"}, nil, `GRAPHSIGNAL_TAGS: tag "oops": want key=value`},
		{"empty key", []string{"GRAPHSIGNAL_TAG_=v"}, nil, "GRAPHSIGNAL_TAG_: empty tag key"},
	}
	for _, tt := range tests {
		got, err := TagsFromEnviron(tt.environ)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s: TagsFromEnviron(%q) error = %v, want %q", tt.name, tt.environ, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: TagsFromEnviron(%q) error = %v", tt.name, tt.environ, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: TagsFromEnviron(%q) mismatch (-want +got):\n%s", tt.name, tt.environ, diff)
		}
	}
}

func TestFormatTags(t *testing.T) {
	tests := []struct {
		in   telemetry.Tags
		want string
	}{
		{nil, ""},
		{telemetry.Tags{}, ""},
		{telemetry.Tags{"b": "2", "a": "1", "session_id": "s"}, "a=1,b=2,session_id=s"},
		{telemetry.Tags{"a": ""}, "a="},
		{telemetry.Tags{"a": "x=y"}, "a=x=y"},
		{telemetry.Tags{" a ": " v "}, "a=v"},
		{telemetry.Tags{"a": "1,2", "b": "ok"}, "b=ok"},
		{telemetry.Tags{"a,b": "1", "c": "2"}, "c=2"},
		{telemetry.Tags{"a=b": "1", "c": "2"}, "c=2"},
		{telemetry.Tags{"": "1", " ": "2", "c": "3"}, "c=3"},
	}
	for _, tt := range tests {
		if got := FormatTags(tt.in); got != tt.want {
			t.Errorf("FormatTags(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzFormatTagsRoundTrip(f *testing.F) {
	f.Add("session_id", "123", "user", "u=1")
	f.Add("a,b", "c", " ", "\xff")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		tags := telemetry.Tags{k1: v1, k2: v2}
		s := FormatTags(tags)
		got, err := ParseTagList(s)
		if err != nil {
			t.Fatalf("ParseTagList(FormatTags(%q)) = %v: FormatTags produced an unreadable list %q", tags, err, s)
		}
		for k, v := range got {
			if strings.TrimSpace(tags[k]) != v {
				// The key must be one of ours, trimmed, with its trimmed value.
				found := false
				for ok, ov := range tags {
					if strings.TrimSpace(ok) == k && strings.TrimSpace(ov) == v {
						found = true
					}
				}
				if !found {
					t.Errorf("round trip of %q gave %q=%q", tags, k, v)
				}
			}
		}
		// Every entry that can round-trip does.
		for k, v := range tags {
			tk := strings.TrimSpace(k)
			if tk == "" || strings.ContainsAny(k, ",=") || strings.Contains(v, ",") {
				continue
			}
			if gv, ok := got[tk]; !ok {
				t.Errorf("round trip of %q lost %q (list %q)", tags, k, s)
			} else if gv != strings.TrimSpace(v) && tk == k {
				// Two keys that trim to the same one may overwrite each other.
				other := false
				for ok2 := range tags {
					if ok2 != k && strings.TrimSpace(ok2) == tk {
						other = true
					}
				}
				if !other {
					t.Errorf("round trip of %q: %q=%q, want %q", tags, tk, gv, strings.TrimSpace(v))
				}
			}
		}
	})
}
