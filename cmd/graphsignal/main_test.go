package main

import (
	"os"
	"os/exec"
	"path/filepath"
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
	for _, k := range []string{"CI", "GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITLAB_CI", "CIRCLECI", "BUILDKITE", "JENKINS_URL",
		"TF_BUILD", "TRAVIS", "BITBUCKET_BUILD_NUMBER", "BUILD_ID", "GRAPHSIGNAL_API_KEY", "GRAPHSIGNAL_TAGS",
		"GRAPHSIGNAL_TRACE_ID", "GRAPHSIGNAL_PARENT_SPAN_ID", "TRACEPARENT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		e.Setenv(k, "")
	}
	return nil
}

// scriptCondition answers [unshare]: whether this machine lets the test
// create a PID namespace.
func scriptCondition(cond string) (bool, error) {
	switch cond {
	case "unshare":
		err := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").Run()
		return err == nil, nil
	}
	return false, nil
}
