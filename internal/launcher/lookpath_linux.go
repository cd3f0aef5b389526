package launcher

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// defaultPath is used when PATH is unset, as glibc's execvp does.
const defaultPath = "/bin:/usr/bin"

// resolve finds the file to execute for name the way execvp(3) does: a name
// with a slash is used as is; otherwise each PATH entry is tried in order, an
// empty entry meaning the current directory (like env(1), and unlike Go's
// exec.LookPath, a match through "." is allowed). It returns an *ExecError
// with code 127 when nothing is found and 126 when only non-executable
// matches exist.
func resolve(name, pathEnv string, havePath bool) (string, error) {
	if name == "" {
		return "", &ExecError{Program: name, Code: CodeNotFound, Reason: "empty program name"}
	}
	if strings.Contains(name, "/") {
		if err := checkExecutable(name); err != nil {
			return "", execErrorFor(name, err)
		}
		return name, nil
	}
	if !havePath {
		pathEnv = defaultPath
	}
	var denied error
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		candidate := dir + "/" + name
		err := checkExecutable(candidate)
		if err == nil {
			return candidate, nil
		}
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EISDIR) {
			denied = err
		}
	}
	if denied != nil {
		return "", execErrorFor(name, denied)
	}
	return "", &ExecError{Program: name, Code: CodeNotFound, Reason: "not found in PATH", Err: unix.ENOENT}
}

// checkExecutable reports whether path is a file the caller may execute:
// ENOENT when missing, EISDIR for a directory, EACCES when not executable.
func checkExecutable(path string) error {
	var st unix.Stat_t
	for {
		err := unix.Stat(path, &st)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		break
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.EISDIR
	}
	if err := unix.Access(path, unix.X_OK); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return unix.EACCES
	}
	return nil
}

// execErrorFor maps an errno from a lookup or from execve to the exec
// failure contract.
func execErrorFor(program string, err error) *ExecError {
	e := &ExecError{Program: program, Code: CodeNotExecutable, Err: err}
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
		e.Code, e.Reason = CodeNotFound, "no such file or directory"
	case errors.Is(err, unix.EISDIR):
		e.Reason = "is a directory"
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		e.Reason = "permission denied"
	default:
		e.Reason = err.Error()
	}
	return e
}

// interpreterError explains an ENOENT from execve of a file that exists:
// its "#!" interpreter is missing.
func interpreterError(program, path string, err error) *ExecError {
	e := &ExecError{Program: program, Code: CodeNotFound, Err: err, Reason: "no such file or directory"}
	f, openErr := os.Open(path)
	if openErr != nil {
		return e
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadSlice('\n')
	if interp, ok := bytes.CutPrefix(line, []byte("#!")); ok {
		fields := strings.Fields(string(interp))
		if len(fields) > 0 {
			e.Reason = "bad interpreter " + strconv.Quote(fields[0]) + ": no such file or directory"
		}
	}
	return e
}
