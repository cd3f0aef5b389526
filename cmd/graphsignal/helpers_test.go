//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// fakeChildMain is the program graphsignal runs in tests. Its first argument
// selects a behaviour; see the cases below.
func fakeChildMain() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "fakechild: missing mode")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch mode := os.Args[1]; mode {
	case "exit": // exit N [stderr-message]
		if len(args) > 1 {
			fmt.Fprintln(os.Stderr, args[1])
		}
		code, _ := strconv.Atoi(args[0])
		os.Exit(code)
	case "kill": // kill SIGNAL: die by the signal's default action
		sig := signalByName(args[0])
		dieBy(sig)
	case "args": // print argv[0..] quoted, one per line
		for _, a := range os.Args[1:] {
			fmt.Printf("%q\n", a)
		}
	case "argv0":
		fmt.Println(os.Args[0])
	case "env": // print the environment, sorted
		e := os.Environ()
		sort.Strings(e)
		for _, kv := range e {
			fmt.Println(kv)
		}
	case "getenv":
		for _, k := range args {
			v, ok := os.LookupEnv(k)
			fmt.Printf("%s=%q set=%v\n", k, v, ok)
		}
	case "isatty":
		for fd := 0; fd < 3; fd++ {
			fmt.Printf("fd%d tty=%v\n", fd, term.IsTerminal(fd))
		}
	case "fds": // list open descriptors and what they are
		listFds()
	case "proc": // process facts: umask, cwd, pgrp, session, nice, rlimits, ignored signals
		procFacts()
	case "sigprint": // sigprint READYFILE LINGER: print each forwarded signal
		sigprint(args)
	case "cat":
		_, _ = io.Copy(os.Stdout, os.Stdin)
	case "write": // write N bytes of a pattern to stdout
		n, _ := strconv.Atoi(args[0])
		writePattern(n)
	case "sleep":
		d, _ := time.ParseDuration(args[0])
		time.Sleep(d)
	case "ready-sleep": // print "ready" then sleep
		fmt.Println("ready")
		d, _ := time.ParseDuration(args[0])
		time.Sleep(d)
	case "bg-grandchild": // leave a background grandchild holding stdio, then exit
		cmd := exec.Command("sleep", args[0])
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
	case "orphans": // as the child of PID 1: make orphans, then count zombies
		orphans()
	case "count": // count N: print 1..N every 100ms
		n, _ := strconv.Atoi(args[0])
		for i := 1; i <= n; i++ {
			fmt.Printf("%d\r\n", i)
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Print("done\r\n")
	case "burn": // burn N: N children each burning ~10ms of CPU, one after another
		n, _ := strconv.Atoi(args[0])
		for i := 0; i < n; i++ {
			cmd := exec.Command(os.Args[0], "spin", "10ms")
			if err := cmd.Run(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	case "spin": // busy loop for the given CPU time
		d, _ := time.ParseDuration(args[0])
		var ru unix.Rusage
		for {
			_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
			if time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= d {
				return
			}
		}
	case "winsize":
		ws, err := unix.IoctlGetWinsize(1, unix.TIOCGWINSZ)
		if err != nil {
			fmt.Println("winsize: none")
			return
		}
		fmt.Printf("winsize %dx%d\n", ws.Col, ws.Row)
	default:
		fmt.Fprintf(os.Stderr, "fakechild: unknown mode %q\n", mode)
		os.Exit(2)
	}
}

func signalByName(name string) syscall.Signal {
	name = strings.TrimPrefix(strings.ToUpper(name), "SIG")
	if n, err := strconv.Atoi(name); err == nil {
		return syscall.Signal(n)
	}
	s := unix.SignalNum("SIG" + name)
	if s == 0 {
		fmt.Fprintf(os.Stderr, "fakechild: unknown signal %q\n", name)
		os.Exit(2)
	}
	return s
}

// dieBy kills the process with sig under the default disposition.
func dieBy(sig syscall.Signal) {
	signal.Reset(sig)
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	var dfl [4]uint64
	_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	_ = unix.Kill(os.Getpid(), sig)
	time.Sleep(5 * time.Second)
	os.Exit(99)
}

func listFds() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range entries {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the descriptor that read the directory, now closed
		}
		kind, _, _ := strings.Cut(target, ":")
		if strings.HasPrefix(target, "/") {
			kind = target
		}
		fmt.Printf("fd %s %s\n", e.Name(), kind)
	}
}

func procFacts() {
	mask := unix.Umask(0)
	unix.Umask(mask)
	wd, _ := os.Getwd()
	pgrp := unix.Getpgrp()
	sid, _ := unix.Getsid(0)
	prio, _ := unix.Getpriority(unix.PRIO_PROCESS, 0)
	fmt.Printf("umask %04o\ncwd %s\nnice %d\n", mask, wd, 20-prio)
	fmt.Printf("pgrp-is-parent-pgrp %v\nsid-is-parent-sid %v\n", pgrp == parentPgrp(), sid == parentSid())
	for _, r := range []struct {
		name string
		res  int
	}{{"nofile", unix.RLIMIT_NOFILE}, {"stack", unix.RLIMIT_STACK}, {"core", unix.RLIMIT_CORE}, {"nproc", unix.RLIMIT_NPROC}} {
		var l unix.Rlimit
		_ = unix.Getrlimit(r.res, &l)
		fmt.Printf("rlimit %s %d %d\n", r.name, l.Cur, l.Max)
	}
	adj, _ := os.ReadFile("/proc/self/oom_score_adj")
	fmt.Printf("oom_score_adj %s", adj)
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "SigIgn:") || strings.HasPrefix(line, "SigBlk:") {
			fmt.Println(line)
		}
	}
}

// parentPgrp and parentSid are those of the process that started the test
// script's command, passed down by the script through the environment.
func parentPgrp() int { n, _ := strconv.Atoi(os.Getenv("EXPECT_PGRP")); return n }
func parentSid() int  { n, _ := strconv.Atoi(os.Getenv("EXPECT_SID")); return n }

// sigprint writes READYFILE ("-": prints ready) once its handlers are installed, prints each
// signal it receives, and exits LINGER after the first one (or on TERM).
func sigprint(args []string) {
	ready, linger := args[0], time.Second
	if len(args) > 1 {
		linger, _ = time.ParseDuration(args[1])
	}
	sigs := []os.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
		unix.SIGALRM, unix.SIGWINCH, unix.SIGURG, unix.SIGCHLD, unix.SIGPIPE, unix.SIGCONT}
	c := make(chan os.Signal, 64)
	signal.Notify(c, sigs...)
	if ready == "-" {
		fmt.Println("ready")
	} else if err := os.WriteFile(ready, []byte("ready\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var deadline <-chan time.Time
	for {
		select {
		case s := <-c:
			name := unix.SignalName(s.(syscall.Signal))
			fmt.Println(name)
			if s == unix.SIGTERM {
				os.Exit(0)
			}
			if deadline == nil {
				deadline = time.After(linger)
			}
		case <-deadline:
			os.Exit(0)
		case <-time.After(20 * time.Second):
			fmt.Println("timeout")
			os.Exit(3)
		}
	}
}

func writePattern(n int) {
	w := bufio.NewWriterSize(os.Stdout, 64*1024)
	for i := 0; i < n; i++ {
		_ = w.WriteByte(byte(i % 251))
	}
	_ = w.Flush()
}

// orphans starts a shell that leaves a short-lived background process and
// exits at once, so the process is re-parented to PID 1; once the orphans
// have exited and PID 1 has had the chance to reap them (no process named
// sleep is left, alive or zombie; at most 10 s), it reports how many
// zombies are left in the PID namespace.
func orphans() {
	for i := 0; i < 3; i++ {
		_ = exec.Command("sh", "-c", "sleep 0.2 & exit 0").Run()
	}
	deadline := time.Now().Add(10 * time.Second)
	for procsNamed("sleep") > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("pid %d zombies %d\n", os.Getpid(), procsInState('Z'))
}

// procStats returns the contents of /proc/PID/stat of every process.
func procStats() []string {
	var stats []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			stats = append(stats, string(b))
		}
	}
	return stats
}

// procsNamed counts the processes (zombies included) whose command is comm.
func procsNamed(comm string) int {
	n := 0
	for _, s := range procStats() {
		if strings.Contains(s, " ("+comm+") ") {
			n++
		}
	}
	return n
}

// procsInState counts the processes in the given state (Z: zombie).
func procsInState(state byte) int {
	n := 0
	for _, s := range procStats() {
		if i := strings.LastIndexByte(s, ')'); i > 0 && i+2 < len(s) && s[i+2] == state {
			n++
		}
	}
	return n
}

// waitStatusMain runs its arguments with the standard streams passed
// through and prints how the command ended: "exit N" or "signal NAME".
func waitStatusMain() {
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case err != nil && !ok:
		fmt.Println("error", err)
	case st.Signaled():
		fmt.Printf("signal %s core=%v\n", unix.SignalName(st.Signal()), st.CoreDump())
	default:
		fmt.Printf("exit %d\n", st.ExitStatus())
	}
}

// waitFileMain waits (up to 20 s) until each named file exists.
func waitFileMain() {
	deadline := time.Now().Add(20 * time.Second)
	for _, f := range os.Args[1:] {
		for {
			if _, err := os.Stat(f); err == nil {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "waitfile: %s did not appear\n", f)
				os.Exit(1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// waitForMain runs "waitfor REGEXP COMMAND [ARGS...]": it runs the command
// again and again, every 20 ms, until its standard output matches REGEXP
// (multi-line mode: ^ and $ match at line breaks), for at most 20 s. On
// time-out it prints the last output and exits 1. Scripts wait with it for
// a condition instead of sleeping.
func waitForMain() {
	if len(os.Args) < 3 {
		fatalf("usage: waitfor REGEXP COMMAND [ARGS...]")
	}
	re, err := regexp.Compile("(?m)" + os.Args[1])
	if err != nil {
		fatalf("waitfor: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := exec.Command(os.Args[2], os.Args[3:]...).Output()
		if re.Match(out) {
			return
		}
		if time.Now().After(deadline) {
			fatalf("waitfor: %q did not match within 20s; last output (error %v):\n%s", os.Args[1], err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
