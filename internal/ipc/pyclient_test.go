package ipc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPythonClient runs the Python client of docs/protocol.md
// (testdata/pyclient/client.py) with the machine's python3 against a real
// server and checks that every record arrived as sent.
func TestPythonClient(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "testdata", "pyclient", "client.py"))
	if err != nil {
		t.Fatal(err)
	}
	srv, col := startServer(t, Config{})
	cmd := exec.Command(py, script)
	cmd.Env = append(os.Environ(), "GRAPHSIGNAL_SOCKET="+srv.Addr())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python3 client.py: %v\n%s", err, out)
	}
	settle(t, srv)
	if st := srv.Stats(); st.BadTotal() != 0 || st.Messages["tag"] != 1 {
		t.Fatalf("stats %+v: want no bad lines and one tag", st)
	}
	b := col.snapshot()
	if len(b.Spans) != 1 || len(b.Scores) != 1 || len(b.Logs) != 1 || len(b.Metrics) != 1 {
		t.Fatalf("got %d spans %d scores %d logs %d metrics, want 1 each", len(b.Spans), len(b.Scores), len(b.Logs), len(b.Metrics))
	}
	s := b.Spans[0]
	if s.Name != "generate" || s.Tags["model_type"] != "chat" || s.Tags["user_id"] != "u-1" || s.Tags["session_id"] != "s-1" {
		t.Errorf("span %q tags %v", s.Name, s.Tags)
	}
	if s.ParentSpanID != testSpan || s.TraceID != testTrace || s.Start.IsZero() || s.End.Before(s.Start) {
		t.Errorf("span ids/times: trace %v parent %v %v..%v", s.TraceID, s.ParentSpanID, s.Start, s.End)
	}
	if len(s.Payloads) != 1 || string(s.Payloads[0].Data) != `{"messages":[{"role":"user","content":"hi"}]}` {
		t.Errorf("payloads = %+v", s.Payloads)
	}
	if len(s.Usage) != 1 || s.Usage[0].Name != "token_count" || s.Usage[0].Value != 12 || s.Attributes["model"] != "gpt-x" {
		t.Errorf("usage %+v attributes %v", s.Usage, s.Attributes)
	}
	if sc := b.Scores[0]; sc.Name != "user_feedback" || sc.Value != 1 || sc.Comment != "thumbs up" || sc.Tags["run_id"] != "abc" {
		t.Errorf("score = %+v", sc)
	}
	if l := b.Logs[0]; l.Message != "generated" || l.Level != "info" {
		t.Errorf("log = %+v", l)
	}
	if m := b.Metrics[0]; m.Name != "queue.depth" || m.Value != 3 || m.Unit != "{item}" {
		t.Errorf("metric = %+v", m)
	}
}

// TestPythonClientMatchesDocs keeps the client in docs/protocol.md and the
// tested file identical.
func TestPythonClientMatchesDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pyclient", "client.py"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```python\n")
	block, _, ok2 := strings.Cut(block, "```\n")
	if !ok || !ok2 {
		t.Fatalf("docs/protocol.md has no python code block")
	}
	if block != string(file) {
		t.Errorf("the Python client in docs/protocol.md differs from testdata/pyclient/client.py")
	}
}
