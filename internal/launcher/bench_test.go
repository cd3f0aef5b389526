package launcher

import (
	"os"
	"testing"
)

// BenchmarkStartTrue measures Start, Wait and Release of /bin/true with
// the stderr tail on, the signals caught by Start or beforehand.
func BenchmarkStartTrue(b *testing.B) {
	for _, bb := range []struct {
		name  string
		early bool
	}{{"catch-in-start", false}, {"catch-early", true}} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				var sigs *Signals
				if bb.early {
					sigs = CatchSignals()
				}
				c, err := Start(Config{Args: []string{"/bin/true"}, Env: os.Environ(), Stdin: os.Stdin, Stdout: os.Stdout,
					Stderr: os.Stderr, StderrTailBytes: 1 << 10, StderrTailLines: 5, Signals: sigs})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Wait(); err != nil {
					b.Fatal(err)
				}
				c.Release()
			}
		})
	}
}
