// Command graphsignal runs any program and makes it observable.
// See https://github.com/graphsignal/graphsignal and `graphsignal --help`.
package main

import (
	"os"

	"github.com/graphsignal/graphsignal/internal/cli"
	"github.com/graphsignal/graphsignal/internal/pagein"
)

func main() {
	// The code is mapped on the other CPU while the command starts
	// (docs/architecture.md, "Start-up"). It only saves page faults, so a
	// failure changes nothing.
	go func() { _, _ = pagein.Executable() }()
	os.Exit(cli.Main())
}
