// Command graphsignal runs any program and makes it observable.
// See https://github.com/graphsignal/graphsignal and `graphsignal --help`.
package main

import (
	"os"

	"github.com/graphsignal/graphsignal/internal/cli"
)

func main() { os.Exit(cli.Main()) }
