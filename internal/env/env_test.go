package env

import (
	"slices"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	environ := []string{"A=1", "B=", "NOEQ", "A=2", "C=x=y", "=weird", "AB=3"}
	tests := []struct {
		key   string
		want  string
		found bool
	}{
		{"A", "1", true}, // first occurrence wins
		{"B", "", true},
		{"C", "x=y", true},
		{"AB", "3", true},
		{"NOEQ", "", false},
		{"D", "", false},
		{"", "weird", true},
	}
	for _, tt := range tests {
		got, found := Lookup(environ, tt.key)
		if got != tt.want || found != tt.found {
			t.Errorf("Lookup(%q) = %q, %v, want %q, %v", tt.key, got, found, tt.want, tt.found)
		}
		if g := Get(environ, tt.key); g != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.key, g, tt.want)
		}
	}
	if v, ok := Lookup(nil, "A"); ok || v != "" {
		t.Errorf("Lookup(nil) = %q, %v", v, ok)
	}
}

func TestChildEnviron(t *testing.T) {
	tests := []struct {
		name   string
		parent []string
		add    map[string]string
		want   []string
	}{
		{"nothing", nil, nil, []string{}},
		{"unchanged and in order", []string{"Z=1", "A=2", "M=3"}, nil, []string{"Z=1", "A=2", "M=3"}},
		{"appended sorted", []string{"PATH=/bin"}, map[string]string{"TRACEPARENT": "t", "GRAPHSIGNAL_TAGS": "a=b", "GRAPHSIGNAL_SOCKET": "/s"},
			[]string{"PATH=/bin", "GRAPHSIGNAL_SOCKET=/s", "GRAPHSIGNAL_TAGS=a=b", "TRACEPARENT=t"}},
		{"replaces all duplicates", []string{"GRAPHSIGNAL_TAGS=old", "HOME=/h", "GRAPHSIGNAL_TAGS=old2"}, map[string]string{"GRAPHSIGNAL_TAGS": "new"},
			[]string{"HOME=/h", "GRAPHSIGNAL_TAGS=new"}},
		{"prefix names are not replaced", []string{"GRAPHSIGNAL_TAGS_X=1", "GRAPHSIGNAL_TAG=2"}, map[string]string{"GRAPHSIGNAL_TAGS": "n"},
			[]string{"GRAPHSIGNAL_TAGS_X=1", "GRAPHSIGNAL_TAG=2", "GRAPHSIGNAL_TAGS=n"}},
		{"entries without = kept", []string{"WEIRD", "A=1", "=x"}, map[string]string{"A": "2"}, []string{"WEIRD", "=x", "A=2"}},
		{"empty value added", []string{"A=1"}, map[string]string{"B": ""}, []string{"A=1", "B="}},
		{"value with = and newline", nil, map[string]string{"V": "a=b\nc"}, []string{"V=a=b\nc"}},
		{"non-utf8 kept", []string{"X=\xff\xfe"}, map[string]string{"Y": "1"}, []string{"X=\xff\xfe", "Y=1"}},
	}
	for _, tt := range tests {
		parent := slices.Clone(tt.parent)
		got := ChildEnviron(tt.parent, tt.add)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: ChildEnviron(%q, %v) = %q, want %q", tt.name, tt.parent, tt.add, got, tt.want)
		}
		if !slices.Equal(parent, tt.parent) {
			t.Errorf("%s: ChildEnviron modified parent", tt.name)
		}
	}
}

func TestVarLists(t *testing.T) {
	child := ChildVars()
	var names []string
	for _, v := range child {
		names = append(names, v.Name)
	}
	// README, "The child's environment": exactly these are added to it.
	want := []string{VarSocket, VarTraceID, VarParentSpanID, VarTraceparent, VarTags, VarAPIBase, VarOTLPEndpoint, VarOTLPTracesEndpoint, VarOTLPMetricsEndpoint, VarOTLPLogsEndpoint, VarAPIKey}
	if !slices.Equal(names, want) {
		t.Errorf("ChildVars names = %q, want %q", names, want)
	}
	seen := map[string]bool{}
	for _, v := range append(ReadVars(), child...) {
		if v.Name == "" || v.Description == "" {
			t.Errorf("var %+v: empty name or description", v)
		}
		if strings.TrimSpace(v.Description) != v.Description {
			t.Errorf("var %s: description has surrounding space", v.Name)
		}
		seen[v.Name] = true
	}
	for _, name := range []string{VarAPIKey, VarDeployment, VarTags, VarAPIBase, VarOTLPEndpoint, VarDataDir, VarRecordPayloads, VarSampleInterval, VarFlushTimeout, VarDebugMode} {
		if !seen[name] {
			t.Errorf("%s is not listed", name)
		}
	}
}
