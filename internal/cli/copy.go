package cli

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/graphsignal/graphsignal/internal/launcher"
)

// copyCommand is the hidden command that keeps a child's stderr flowing
// when graphsignal no longer copies it: after graphsignal exits while
// processes the child left behind still write, or when graphsignal is
// killed (see launcher.Config.StderrKeeper and docs/launcher.md).
const copyCommand = "__copy-stderr"

// NewCmdCopy builds the hidden `graphsignal __copy-stderr`, the stderr
// keeper: it holds its stdin (the stderr tee) until graphsignal lets go of
// it, then copies the rest to its stdout (the real stderr), byte for byte,
// until the input ends or the output's reader goes away.
func NewCmdCopy(streams *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:    copyCommand,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return launcher.KeepStderr(streams.In, streams.Out)
		},
	}
}

// stderrKeeper is the argv of the stderr keeper, this same executable; nil
// (no keeper) when it cannot be found, or when it is a Go test binary
// ("pkg.test") running the command in-process, which would run its tests
// instead.
func stderrKeeper() []string {
	exe, err := os.Executable()
	if err != nil || strings.HasSuffix(exe, ".test") {
		return nil
	}
	return []string{exe, copyCommand}
}
