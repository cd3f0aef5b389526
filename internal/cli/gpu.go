package cli

import (
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/graphsignal/graphsignal/internal/gpu"
	"github.com/graphsignal/graphsignal/internal/recorder"
)

// gpuConfig says whether and how the run samples the GPUs (docs/gpu.md):
// with --gpu auto only where an NVIDIA driver is loaded (one stat), never
// in a nested run (the enclosing run samples them), never with --gpu off.
// childEnv is the program's environment (CUDA_VISIBLE_DEVICES). A sampler
// that cannot be found is worth a warning only where GPUs are there to
// sample; --debug says why there is no GPU sampling in every case.
func gpuConfig(cfg *Config, environ, childEnv []string, stderr io.Writer) *recorder.GPUConfig {
	var debug io.Writer
	if cfg.Debug {
		debug = stderr
	}
	say := func(format string, args ...any) {
		if debug != nil {
			fmt.Fprintf(debug, "graphsignal: "+format+"\n", args...)
		}
	}
	switch {
	case cfg.GPU == "off":
		say("GPU sampling off (--gpu off)")
		return nil
	case isNested(environ):
		say("GPU sampling left to the enclosing run")
		return nil
	case cfg.GPU == "auto" && !gpu.Present(gpu.DriverVersionFile):
		say("GPU sampling off: no NVIDIA driver (%s absent)", gpu.DriverVersionFile)
		return nil
	}
	self, _ := os.Executable()
	path, err := gpu.FindSampler(cfg.GPUSampler, self, exec.LookPath)
	if err != nil {
		fmt.Fprintf(stderr, "graphsignal: warning: %v; GPUs are not sampled\n", err)
		return nil
	}
	say("GPU sampler %s", path)
	return &recorder.GPUConfig{Sampler: path, Env: childEnv, Debug: debug}
}
