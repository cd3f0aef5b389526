//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdPTY drives a command on a real pseudo-terminal, like a person at a
// terminal:
//
//	pty [-size COLSxROWS] EXPECT SEND [EXPECT SEND...] -- PROGRAM [ARGS...]
//
// The program is started as the session leader with the pty as its
// controlling terminal (so it is the foreground process group). Each time
// the output so far contains EXPECT, SEND is typed (Go escapes: \x03 is
// Ctrl-C, \x1a Ctrl-Z, \r Enter). Special SEND values: "resize:COLSxROWS".
// The whole output goes to the script's stdout, followed by a line
// "pty-status: exit N" or "pty-status: signal NAME".
func cmdPTY(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! pty")
	}
	cols, rows := uint16(80), uint16(24)
	if len(args) > 1 && args[0] == "-size" {
		fmt.Sscanf(args[1], "%dx%d", &cols, &rows)
		args = args[2:]
	}
	sep := -1
	for i, a := range args {
		if a == "--" {
			sep = i
			break
		}
	}
	if sep < 0 || sep%2 != 0 || sep == len(args)-1 {
		ts.Fatalf("usage: pty [-size CxR] EXPECT SEND ... -- PROGRAM [ARGS...]")
	}
	steps := args[:sep]
	prog := lookPathIn(ts.Getenv("PATH"), args[sep+1])
	if prog == "" {
		ts.Fatalf("pty: %s not found in PATH", args[sep+1])
	}
	cmd := exec.Command(prog, args[sep+2:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = append(scriptEnv(ts), "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: cols, Rows: rows})
	ts.Check(err)
	defer f.Close()

	var out bytes.Buffer
	chunks := make(chan []byte, 64)
	go func() {
		defer close(chunks)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				chunks <- append([]byte(nil), buf[:n]...)
			}
			if err != nil {
				return
			}
		}
	}()
	deadline := time.After(30 * time.Second)
	searchFrom := 0
	for len(steps) > 0 {
		expect, send := steps[0], steps[1]
		for !bytes.Contains(out.Bytes()[searchFrom:], []byte(expect)) {
			select {
			case c, ok := <-chunks:
				if !ok {
					ts.Logf("pty output:\n%s", out.String())
					ts.Fatalf("pty: program ended before %q appeared", expect)
				}
				out.Write(c)
			case <-deadline:
				ts.Logf("pty output:\n%s", out.String())
				ts.Fatalf("pty: timed out waiting for %q", expect)
			}
		}
		searchFrom = bytes.Index(out.Bytes()[searchFrom:], []byte(expect)) + searchFrom + len(expect)
		if size, ok := strings.CutPrefix(send, "resize:"); ok {
			var c, r uint16
			fmt.Sscanf(size, "%dx%d", &c, &r)
			ts.Check(pty.Setsize(f, &pty.Winsize{Cols: c, Rows: r}))
		} else {
			s, err := strconv.Unquote(`"` + send + `"`)
			ts.Check(err)
			_, err = f.Write([]byte(s))
			ts.Check(err)
		}
		steps = steps[2:]
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-done:
	case <-deadline:
		_ = cmd.Process.Kill()
		<-done
		ts.Logf("pty output:\n%s", out.String())
		ts.Fatalf("pty: program did not exit")
	}
	// Collect what is left (the reader ends with EIO once all holders close).
	timeout := time.After(2 * time.Second)
collect:
	for {
		select {
		case c, ok := <-chunks:
			if !ok {
				break collect
			}
			out.Write(c)
		case <-timeout:
			break collect
		}
	}
	status := "exit 0"
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			status = "signal " + ws.Signal().String()
		} else {
			status = fmt.Sprintf("exit %d", ws.ExitStatus())
		}
	} else if waitErr != nil {
		ts.Fatalf("pty: %v", waitErr)
	}
	fmt.Fprintf(ts.Stdout(), "%s\npty-status: %s\n", strings.ReplaceAll(out.String(), "\r\n", "\n"), status)
}

// scriptEnv returns the script's environment for a program the test starts
// itself.
func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "TMPDIR", "WORK", "PWD", "PS1"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return env
}

// lookPathIn finds name in the script's PATH.
func lookPathIn(path, name string) string {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}
