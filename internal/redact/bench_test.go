package redact

import "testing"

func BenchmarkArgs(b *testing.B) {
	args := []string{"python", "train.py", "--epochs", "3", "--api-key", "sk-123", "--data=/data/x",
		"https://h/x?token=t", "--lr", "0.1", "MODEL=gpt"}
	for b.Loop() {
		_ = Args(args)
	}
}

// BenchmarkOutput redacts a full stderr tail (16 KiB, the stored bound)
// of log lines with a few known secret values, as at the end of each run.
func BenchmarkOutput(b *testing.B) {
	line := "2026-12-05 10:00:00 INFO step=12 loss=0.123 lr=3e-4 url=https://h/x?token=t Authorization: Bearer abcdefgh123\n"
	var s string
	for len(s) < 16<<10 {
		s += line
	}
	r := New("gsk-0123456789", "hf_abcdefghijklmnop", "Bearer%20otlp-cred-4242", "otlp-cred-4242")
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = r.Output(s)
	}
}

// BenchmarkNewFromEnviron builds a run's redactor from a typical
// environment (60 variables, 3 of them secret), once per run.
func BenchmarkNewFromEnviron(b *testing.B) {
	var environ []string
	for i := range 57 {
		environ = append(environ, "VAR_"+string(rune('A'+i%26))+string(rune('A'+i/26))+"=/usr/local/some/value/"+string(rune('a'+i%26)))
	}
	environ = append(environ, "HF_TOKEN=hf_abcdefghijklmnop", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG",
		"OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20otlp-cred-4242")
	for b.Loop() {
		_ = New(append([]string{"gsk-0123456789"}, EnvironValues(environ)...)...)
	}
}
