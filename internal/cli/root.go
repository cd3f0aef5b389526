// Package cli is graphsignal's command tree: it parses flags, resolves the
// configuration (the only importer of cobra and viper), wires the launcher,
// recorder and store together, and maps every outcome to an exit status in
// one place (Main).
package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/graphsignal/graphsignal/internal/launcher"
)

// IOStreams are the standard streams a command uses. Stdin/Stdout/Stderr
// are handed to the child as its file descriptors, so they are files.
type IOStreams struct {
	In, Out, ErrOut *os.File
}

// Main runs graphsignal with os.Args and returns the exit status. When the
// child was killed by a signal, Main kills graphsignal with the same signal
// and returns 128+N only if that did not end the process (PID 1).
func Main() int {
	streams := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	// Catching the signals that run forwards takes round trips to the Go
	// runtime's signal thread (about half a millisecond); for the usual
	// `graphsignal run ...` it starts before the command line is parsed,
	// so that the two overlap.
	var runSignals *launcher.Signals
	if len(os.Args) > 1 && os.Args[1] == "run" {
		runSignals = launcher.CatchSignals()
	}
	root := NewCmdRoot(streams, os.Environ(), runSignals)
	root.SetArgs(os.Args[1:])
	err := root.Execute()
	code, dieBy := exitStatus(err, streams.ErrOut)
	if dieBy != nil {
		launcher.DieBySignal(dieBy.Signal)
	}
	return code
}

// NewCmdRoot builds the command tree. environ is the process environment;
// runSignals, when not nil, are the signals `run` forwards, already being
// caught.
func NewCmdRoot(streams *IOStreams, environ []string, runSignals *launcher.Signals) *cobra.Command {
	root := &cobra.Command{
		Use:   "graphsignal",
		Short: "Run any program and make it observable",
		Long: `graphsignal runs a program exactly as if it were run directly and records
its run: a trace with the run span, process-tree metrics, exit errors and what
SDKs in the child report. See "graphsignal run --help".`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q (see graphsignal --help)", args[0])
			}
			return cmd.Help()
		},
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &UsageError{Err: fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
	})
	root.PersistentFlags().String("config", "", "config file (default ./graphsignal.yaml, else $XDG_CONFIG_HOME/graphsignal/config.yaml)")
	root.PersistentFlags().Bool("debug", false, "print debug information, including the resolved configuration, to stderr")

	root.AddCommand(
		NewCmdRun(streams, environ, runSignals),
		NewCmdScore(streams, environ),
		NewCmdSessions(streams, environ),
		NewCmdShow(streams, environ),
		NewCmdUI(streams, environ),
		NewCmdUpload(streams, environ),
		NewCmdVersion(streams),
		NewCmdCopy(streams),
	)
	strictCompletion(root)
	return root
}

// completionShells are the shells `graphsignal completion` writes scripts
// for (cobra's).
const completionShells = "bash, zsh, fish or powershell"

// strictCompletion adds cobra's completion command now, so that a shell it
// does not support (`completion tcsh`) is a usage error (125) instead of
// its help and status 0.
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("completion: missing shell (want %s)", completionShells)
			}
			return usageErrorf("completion: unsupported shell %q (want %s)", args[0], completionShells)
		}
	}
}
