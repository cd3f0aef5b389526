package env

import (
	"fmt"
	"testing"
)

func BenchmarkChildEnviron(b *testing.B) {
	parent := make([]string, 100)
	for i := range parent {
		parent[i] = fmt.Sprintf("VAR_%03d=value-%d", i, i)
	}
	add := map[string]string{VarSocket: "/tmp/s", VarTraceID: "t", VarParentSpanID: "p", VarTraceparent: "tp", VarTags: "a=b", VarAPIBase: "http://127.0.0.1:1/x"}
	for b.Loop() {
		_ = ChildEnviron(parent, add)
	}
}

func BenchmarkDetectCI(b *testing.B) {
	environ := make([]string, 100)
	for i := range environ {
		environ[i] = fmt.Sprintf("VAR_%03d=value-%d", i, i)
	}
	environ = append(environ, "GITHUB_ACTIONS=true", "GITHUB_RUN_ID=1", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=abc")
	for b.Loop() {
		_ = DetectCI(environ)
	}
}
