package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/graphsignal/graphsignal/internal/apibase"
	"github.com/graphsignal/graphsignal/internal/env"
	"github.com/graphsignal/graphsignal/internal/notify"
	"github.com/graphsignal/graphsignal/internal/pricing"
	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload/gsapi"
	"github.com/graphsignal/graphsignal/internal/upload/otlpexport"
)

// Config is graphsignal's resolved configuration (README, "Configuration"). It is built in
// one place, resolveConfig, with precedence flag > environment > config file
// > default.
type Config struct {
	APIKey         string
	Deployment     string
	Tags           telemetry.Tags
	APIBase        string
	OTLPEndpoint   string
	DataDir        string
	RecordPayloads bool
	SampleInterval time.Duration
	FlushTimeout   time.Duration
	PTY            bool
	Summary        string
	// GPU is "auto" (sample the GPUs where an NVIDIA driver is loaded),
	// "on" (try even where none is seen) or "off"; GPUSampler the GPU
	// sampler's executable, "" to look for it (docs/gpu.md).
	GPU        string
	GPUSampler string
	// Notify is the webhook a failed run is posted to, "" for none
	// (docs/ci.md, "Notifications"). A secret: never printed.
	Notify string
	// Prices override and extend the built-in model prices (README,
	// "Costs"), by model name.
	Prices map[string]pricing.Price
	Debug  bool
	// File is the config file that was read, "" if none.
	File string
}

// setting describes one configuration key: its flag, the environment
// variables that set it (first match wins) and its default.
type setting struct {
	key    string
	flag   string
	envs   []string
	def    string
	secret bool
}

var settings = []setting{
	{key: "api_key", flag: "api-key", envs: []string{"GRAPHSIGNAL_API_KEY"}, secret: true},
	{key: "deployment", flag: "deployment", envs: []string{"GRAPHSIGNAL_DEPLOYMENT"}},
	{key: "api_base", flag: "api-base", envs: []string{"GRAPHSIGNAL_API_BASE", "GRAPHSIGNAL_API_URL"}, def: "https://api.graphsignal.com"},
	// The OTEL_EXPORTER_OTLP_* variables are read by internal/upload/otlpexport.
	{key: "otlp_endpoint", flag: "otlp-endpoint"},
	{key: "data_dir", flag: "data-dir", envs: []string{"GRAPHSIGNAL_DATA_DIR"}},
	{key: "record_payloads", flag: "record-payloads", envs: []string{"GRAPHSIGNAL_RECORD_PAYLOADS"}, def: "true"},
	{key: "sample_interval", flag: "sample-interval", envs: []string{"GRAPHSIGNAL_SAMPLE_INTERVAL"}, def: "1s"},
	{key: "flush_timeout", flag: "flush-timeout", envs: []string{"GRAPHSIGNAL_FLUSH_TIMEOUT"}, def: "2s"},
	{key: "pty", flag: "pty", def: "false"},
	{key: "summary", flag: "summary", def: "auto"},
	{key: "gpu", flag: "gpu", envs: []string{"GRAPHSIGNAL_GPU"}, def: "auto"},
	{key: "gpu_sampler", flag: "gpu-sampler", envs: []string{"GRAPHSIGNAL_GPU_SAMPLER"}},
	{key: "notify", flag: "notify", envs: []string{"GRAPHSIGNAL_NOTIFY_URL"}, secret: true},
	{key: "debug", flag: "debug", envs: []string{"GRAPHSIGNAL_DEBUG_MODE"}, def: "false"},
}

// configKeys are the keys a config file may hold.
func configKeys() map[string]bool {
	keys := map[string]bool{"tags": true, "prices": true}
	for _, s := range settings {
		keys[s.key] = true
	}
	return keys
}

// addConfigFlags registers the flags of every setting on fs.
func addConfigFlags(fs *pflag.FlagSet) {
	fs.String("api-key", "", "Graphsignal API key (default: none, local mode); prefer $GRAPHSIGNAL_API_KEY: other users see a flag in ps")
	fs.String("deployment", "", "deployment name (default: the program name)")
	fs.StringArray("tag", nil, "tag `key=value` added to everything recorded (repeatable; one tag per flag, commas included)")
	fs.String("api-base", "", "Graphsignal API base URL (default https://api.graphsignal.com)")
	fs.String("otlp-endpoint", "", "OpenTelemetry OTLP/HTTP endpoint to export to (default: off)")
	fs.String("data-dir", "", "local data directory (default $XDG_DATA_HOME/graphsignal)")
	fs.Bool("record-payloads", true, "record payloads sent by SDKs in the child")
	fs.Duration("sample-interval", time.Second, "process sampling interval")
	fs.Duration("flush-timeout", 2*time.Second, "how long to wait at exit for data to be sent")
	fs.Bool("pty", false, "give the child a pseudo-terminal")
	fs.String("summary", "auto", "end-of-run summary on stderr: auto (when stderr is a terminal), always or never")
	fs.String("gpu", "auto", "GPU sampling: auto (where an NVIDIA driver is loaded), on or off")
	fs.String("gpu-sampler", "", "the GPU sampler's executable (default: graphsignal-gpu beside graphsignal, else in PATH)")
	fs.String("notify", "", "webhook `URL` (Slack-compatible) that a failed run is posted to; prefer $GRAPHSIGNAL_NOTIFY_URL")
}

// minDuration is the smallest sample interval and flush timeout accepted: a
// shorter interval would turn sampling into a busy loop.
const minDuration = 10 * time.Millisecond

// configSource tells where a setting's value came from, for --debug.
type configSource struct {
	value, from string
}

// resolveConfig resolves every setting once: flag > environment > config
// file > default. environ is the process environment; configFlag is the
// value of --config.
//
// A config file with settings graphsignal does not know is resolved all the
// same, and the error (a *UsageError wrapping *UnknownSettingError) is
// returned together with the configuration: commands that change nothing
// (sessions, show) warn and go on with it, the others stop.
func resolveConfig(fs *pflag.FlagSet, environ []string, configFlag string, debug bool) (*Config, map[string]configSource, error) {
	v := viper.New()
	file, err := findConfigFile(configFlag, environ)
	if err != nil {
		return nil, nil, err
	}
	if file != "" {
		v.SetConfigFile(file)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return nil, nil, usageErrorf("config file %s: %w", file, err)
		}
	}
	unknownErr := unknownSettings(v, file)

	sources := map[string]configSource{}
	lookup := func(s setting) (string, string) {
		if f := fs.Lookup(s.flag); f != nil && f.Changed {
			return f.Value.String(), "flag --" + s.flag
		}
		for _, name := range s.envs {
			if val, ok := env.Lookup(environ, name); ok && val != "" {
				return val, "environment " + name
			}
		}
		if file != "" && v.IsSet(s.key) {
			return v.GetString(s.key), "config file"
		}
		return s.def, "default"
	}
	vals := map[string]string{}
	for _, s := range settings {
		val, from := lookup(s)
		vals[s.key] = val
		shown := val
		if s.secret && val != "" {
			shown = "REDACTED"
		}
		sources[s.key] = configSource{value: shown, from: from}
	}

	cfg := &Config{
		APIKey:       vals["api_key"],
		Deployment:   vals["deployment"],
		APIBase:      vals["api_base"],
		OTLPEndpoint: vals["otlp_endpoint"],
		DataDir:      vals["data_dir"],
		Summary:      vals["summary"],
		GPU:          vals["gpu"],
		GPUSampler:   vals["gpu_sampler"],
		Notify:       vals["notify"],
		File:         file,
	}
	if cfg.DataDir == "" {
		cfg.DataDir = defaultDataDir(environ)
		sources["data_dir"] = configSource{value: cfg.DataDir, from: "default: $XDG_DATA_HOME/graphsignal"}
	}
	bools := []struct {
		key string
		dst *bool
	}{{"record_payloads", &cfg.RecordPayloads}, {"pty", &cfg.PTY}, {"debug", &cfg.Debug}}
	for _, b := range bools {
		if *b.dst, err = parseBool(vals[b.key]); err != nil {
			return nil, nil, usageErrorf("%s %q from %s: want true or false", b.key, vals[b.key], sources[b.key].from)
		}
	}
	cfg.Debug = cfg.Debug || debug
	durs := []struct {
		key string
		dst *time.Duration
	}{{"sample_interval", &cfg.SampleInterval}, {"flush_timeout", &cfg.FlushTimeout}}
	for _, d := range durs {
		*d.dst, err = time.ParseDuration(vals[d.key])
		if err != nil || *d.dst < minDuration {
			return nil, nil, usageErrorf("%s %q from %s: want a duration of at least %v, such as 2s", d.key, vals[d.key], sources[d.key].from, minDuration)
		}
	}
	switch cfg.Summary {
	case "auto", "always", "never":
	default:
		return nil, nil, usageErrorf("summary %q: want auto, always or never", cfg.Summary)
	}
	if cfg.Notify != "" {
		if err := notify.CheckURL(cfg.Notify); err != nil {
			return nil, nil, usageErrorf("%w (from %s)", err, sources["notify"].from)
		}
	}
	switch cfg.GPU {
	case "auto", "on", "off":
	default:
		return nil, nil, usageErrorf("gpu %q from %s: want auto, on or off", cfg.GPU, sources["gpu"].from)
	}

	if _, err := apibase.Parse(cfg.APIBase); err != nil {
		return nil, nil, usageErrorf("api_base from %s: %w", sources["api_base"].from, err)
	}
	// A key read from a file or a secret often ends in a newline; no key
	// starts or ends with white space.
	cfg.APIKey = strings.TrimSpace(cfg.APIKey)
	if cfg.APIKey != "" {
		if err := gsapi.CheckKey(cfg.APIKey); err != nil {
			return nil, nil, usageErrorf("api_key from %s: %w", sources["api_key"].from, err)
		}
	}
	if cfg.OTLPEndpoint != "" {
		if err := otlpexport.CheckEndpoint(environ, cfg.OTLPEndpoint); err != nil {
			return nil, nil, usageErrorf("otlp_endpoint %q from %s: %w", redact.Endpoint(cfg.OTLPEndpoint), sources["otlp_endpoint"].from, err)
		}
	}

	if cfg.Prices, err = resolvePrices(v, file); err != nil {
		return nil, nil, err
	}
	cfg.Tags, err = resolveTags(fs, v, file, environ)
	if err != nil {
		return nil, nil, err
	}
	sources["tags"] = configSource{value: env.FormatTags(cfg.Tags), from: "merged: config file < environment < flags"}
	sources["config"] = configSource{value: file, from: "--config, ./graphsignal.yaml or $XDG_CONFIG_HOME/graphsignal/config.yaml"}
	return cfg, sources, unknownErr
}

// UnknownSettingError is a config file setting that graphsignal does not
// know; Suggestion is the nearest known key, "" when none is close.
type UnknownSettingError struct {
	File, Key, Suggestion string
}

func (e *UnknownSettingError) Error() string {
	msg := fmt.Sprintf("config file %s: unknown setting %q", e.File, e.Key)
	if e.Suggestion != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", e.Suggestion)
	}
	return msg
}

// unknownSettings returns a *UsageError wrapping an *UnknownSettingError
// for the first top-level key of the config file (in sorted order) that
// graphsignal does not know, nil when all are known.
func unknownSettings(v *viper.Viper, file string) error {
	if file == "" {
		return nil
	}
	known := configKeys()
	keys := v.AllKeys()
	sort.Strings(keys)
	for _, k := range keys {
		top, _, _ := strings.Cut(k, ".")
		if !known[top] {
			return &UsageError{Err: &UnknownSettingError{File: file, Key: top, Suggestion: nearestKey(top, known)}}
		}
	}
	return nil
}

// nearestKey returns the known key closest to key, compared in lower case
// with "-" read as "_" (a flag's spelling): the one at the smallest edit
// distance, if that is at most a third of the key's length (at least 2).
func nearestKey(key string, known map[string]bool) string {
	k := strings.ReplaceAll(strings.ToLower(key), "-", "_")
	best, bestDist := "", max(2, len(k)/3)+1
	for c := range known {
		if d := editDistance(k, c); d < bestDist || d == bestDist && c < best {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// resolveTags merges tags from the config file, then the environment
// (GRAPHSIGNAL_TAGS, then GRAPHSIGNAL_TAG_<KEY>), then --tag flags.
func resolveTags(fs *pflag.FlagSet, v *viper.Viper, file string, environ []string) (telemetry.Tags, error) {
	tags := telemetry.Tags{}
	if file != "" && v.IsSet("tags") {
		m, ok := v.Get("tags").(map[string]any)
		if !ok {
			return nil, usageErrorf("config file %s: tags: want a map of key: value", file)
		}
		for k, val := range m {
			key := strings.ToLower(strings.TrimSpace(k))
			var text string
			switch v := val.(type) {
			case nil: // "key:" with no value
			case string, bool, int, int64, float64:
				text = fmt.Sprint(v)
			case time.Time: // YAML reads 2024-01-02 as a date
				text = v.Format(time.DateOnly)
				if v.Hour() != 0 || v.Minute() != 0 || v.Second() != 0 || v.Nanosecond() != 0 {
					text = v.Format(time.RFC3339Nano)
				}
			default:
				return nil, usageErrorf("config file %s: tag %q: want a single value", file, k)
			}
			if key == "" {
				return nil, usageErrorf("config file %s: tags: empty key", file)
			}
			tags[key] = strings.TrimSpace(text)
		}
	}
	envTags, err := env.TagsFromEnviron(environ)
	if err != nil {
		return nil, usageErrorf("%w", err)
	}
	tags = tags.Merge(envTags)
	if f := fs.Lookup("tag"); f != nil {
		// One flag is one tag, commas included (env.ParseTag).
		flagTags, _ := fs.GetStringArray("tag")
		for _, t := range flagTags {
			k, val, err := env.ParseTag(t)
			if err != nil {
				return nil, usageErrorf("--tag: %w", err)
			}
			tags = tags.Merge(telemetry.Tags{k: val})
		}
	}
	return tags, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "":
		return false, nil
	}
	return strconv.ParseBool(s)
}

// findConfigFile returns --config if given (it must exist), else
// ./graphsignal.yaml, else $XDG_CONFIG_HOME/graphsignal/config.yaml, else "".
func findConfigFile(flag string, environ []string) (string, error) {
	if flag != "" {
		if _, err := os.Stat(flag); err != nil {
			return "", usageErrorf("config file: %w", err)
		}
		return flag, nil
	}
	candidates := []string{"graphsignal.yaml"}
	if dir := xdgDir(environ, "XDG_CONFIG_HOME", ".config"); dir != "" {
		candidates = append(candidates, filepath.Join(dir, "graphsignal", "config.yaml"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", nil
}

func defaultDataDir(environ []string) string {
	if dir := xdgDir(environ, "XDG_DATA_HOME", filepath.Join(".local", "share")); dir != "" {
		return filepath.Join(dir, "graphsignal")
	}
	return filepath.Join(os.TempDir(), "graphsignal")
}

// xdgDir returns $name, else $HOME/fallback, else "".
func xdgDir(environ []string, name, fallback string) string {
	if dir, ok := env.Lookup(environ, name); ok && dir != "" {
		return dir
	}
	if home, ok := env.Lookup(environ, "HOME"); ok && home != "" {
		return filepath.Join(home, fallback)
	}
	return ""
}

// printConfig writes the resolved configuration, secrets redacted, for
// --debug.
func printConfig(w io.Writer, sources map[string]configSource) {
	keys := make([]string, 0, len(sources))
	for k := range sources {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "graphsignal: configuration:")
	for _, k := range keys {
		s := sources[k]
		fmt.Fprintf(w, "graphsignal:   %-16s %q (%s)\n", k, redact.URL(s.value), s.from)
	}
}
