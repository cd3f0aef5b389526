package cli

import (
	"errors"
	"os"
	"os/exec"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// copyCommand is the hidden command that takes over the rest of a child's
// stderr when processes it left behind still write to it after graphsignal
// exits (see launcher.Config.StderrHandoff).
const copyCommand = "__copy-stderr"

// NewCmdCopy builds the hidden `graphsignal __copy-stderr`: it copies its
// stdin to its stdout, byte for byte, until the input ends or the output's
// reader goes away.
func NewCmdCopy(streams *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:    copyCommand,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			buf := make([]byte, 32*1024)
			in, out := int(streams.In.Fd()), int(streams.Out.Fd())
			for {
				n, err := unix.Read(in, buf)
				if errors.Is(err, unix.EINTR) {
					continue
				}
				if n <= 0 || err != nil {
					return nil
				}
				for b := buf[:n]; len(b) > 0; {
					w, err := unix.Write(out, b)
					if errors.Is(err, unix.EINTR) {
						continue
					}
					if err != nil {
						return nil
					}
					b = b[w:]
				}
			}
		},
	}
}

// handOffStderr starts `graphsignal __copy-stderr` to copy what is left of
// the stderr tee r to stderr; graphsignal does not wait for it.
func handOffStderr(stderr *os.File) func(r *os.File) error {
	return func(r *os.File) error {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		cmd := exec.Command(exe, copyCommand)
		cmd.Stdin, cmd.Stdout = r, stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		return cmd.Process.Release()
	}
}
