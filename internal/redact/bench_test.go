package redact

import "testing"

func BenchmarkArgs(b *testing.B) {
	args := []string{"python", "train.py", "--epochs", "3", "--api-key", "sk-123", "--data=/data/x",
		"https://h/x?token=t", "--lr", "0.1", "MODEL=gpt"}
	for b.Loop() {
		_ = Args(args)
	}
}
