package cli

import (
	"errors"
	"fmt"
	"io"
)

// warnUnknownSettings lets the commands that only read (sessions, show) go
// on with a config file that holds settings graphsignal does not know: err,
// as resolveConfig returned it, becomes a warning on stderr when it is only
// that (*UnknownSettingError), and is returned otherwise.
func warnUnknownSettings(err error, stderr io.Writer) error {
	var unknown *UnknownSettingError
	if err == nil || !errors.As(err, &unknown) {
		return err
	}
	fmt.Fprintf(stderr, "graphsignal: warning: %v; it is ignored\n", unknown)
	return nil
}
