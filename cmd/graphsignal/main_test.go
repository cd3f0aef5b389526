//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/graphsignal/graphsignal/internal/cli"
)

// TestMain registers graphsignal and the helper programs in the test binary:
// testscript re-executes the binary under these names (the helper-process
// pattern), so scripts run the real CLI as a real process.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"graphsignal": func() { os.Exit(cli.Main()) },
		"fakechild":   fakeChildMain,
		"waitstatus":  waitStatusMain,
		"waitfile":    waitFileMain,
		"waitfor":     waitForMain,
		"jsonq":       jsonqMain,
		"otelchild":   otelChildMain,
		"socketspans": socketSpansMain,
		"fakeapi":     fakeAPIMain,
		"within":      withinMain,
		"fakegpu":     fakeGPUMain,
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "script"),
		RequireExplicitExec: true,
		Setup:               setupScript,
		Condition:           scriptCondition,
		Cmds:                map[string]func(ts *testscript.TestScript, neg bool, args []string){"pty": cmdPTY},
	})
}

// setupScript isolates every script: its own HOME and XDG directories, so
// no test reads or writes the user's configuration or data.
func setupScript(e *testscript.Env) error {
	home := filepath.Join(e.WorkDir, "home")
	for _, d := range []string{"config", "data"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o755); err != nil {
			return err
		}
	}
	e.Setenv("HOME", home)
	e.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	e.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	if dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "node-otel")); err == nil {
		e.Setenv("NODE_OTEL_DIR", dir)
	}
	for _, k := range []string{"CI", "GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITLAB_CI", "CIRCLECI", "BUILDKITE", "JENKINS_URL",
		"TF_BUILD", "TRAVIS", "BITBUCKET_BUILD_NUMBER", "BUILD_ID", "GRAPHSIGNAL_API_KEY", "GRAPHSIGNAL_TAGS",
		"GRAPHSIGNAL_TRACE_ID", "GRAPHSIGNAL_PARENT_SPAN_ID", "TRACEPARENT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		e.Setenv(k, "")
	}
	return nil
}

// memcgCheck prints "available" if a memory cgroup with a limit can be
// created here (the logic of testdata/script/oom.txtar's incgroup.sh).
const memcgCheck = `
v1=$(awk -F: '$2 ~ /(^|,)memory(,|$)/{print $3}' /proc/self/cgroup)
self=$(awk -F: '$1=="0"{print $3}' /proc/self/cgroup)
if [ -n "$v1" ] && [ -d /sys/fs/cgroup/memory ]; then d=/sys/fs/cgroup/memory$v1/gs-check-$$; f=memory.limit_in_bytes
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then d=/sys/fs/cgroup$self/gs-check-$$; f=memory.max
else exit 0; fi
mkdir "$d" 2>/dev/null || exit 0
echo 67108864 > "$d/$f" 2>/dev/null && echo available
rmdir "$d"`

// scriptCondition answers [unshare] (this machine lets the test create a
// PID namespace), [memcg] (a memory cgroup with a limit can be made) and
// [nodeotel] (node and the OpenTelemetry JS packages of
// testdata/node-otel are installed, as .ci/run does), [nvidia] (an NVIDIA
// driver is loaded) and [hostpidns] (graphsignal runs in the host's PID
// namespace).
func scriptCondition(cond string) (bool, error) {
	switch cond {
	case "memcg":
		out, err := exec.Command("bash", "-c", memcgCheck).Output()
		return err == nil && strings.TrimSpace(string(out)) == "available", nil
	case "nodeotel":
		_, errNode := exec.LookPath("node")
		_, errMods := os.Stat(filepath.Join("..", "..", "testdata", "node-otel", "node_modules"))
		return errNode == nil && errMods == nil, nil
	case "nvidia": // an NVIDIA driver is loaded
		_, err := os.Stat("/proc/driver/nvidia/version")
		return err == nil, nil
	case "hostpidns": // NVML's process ids are this /proc's (docs/gpu.md)
		ns, err := os.Readlink("/proc/self/ns/pid")
		return err == nil && ns == "pid:[4026531836]", nil
	case "unshare":
		err := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").Run()
		return err == nil, nil
	}
	return false, nil
}
