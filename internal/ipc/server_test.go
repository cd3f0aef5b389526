package ipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestListenPermissionsAndClose(t *testing.T) {
	srv, _ := startServer(t, Config{})
	dir := filepath.Dir(srv.Addr())
	for _, tt := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700 | os.ModeDir}, {srv.Addr(), 0o600 | os.ModeSocket}} {
		fi, err := os.Stat(tt.path)
		if err != nil {
			t.Fatalf("stat %s: %v", tt.path, err)
		}
		if got := fi.Mode() & (os.ModePerm | os.ModeDir | os.ModeSocket); got != tt.want {
			t.Errorf("mode of %s = %v, want %v", tt.path, got, tt.want)
		}
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket directory after Close: stat err %v, want not exist", err)
	}
	if _, err := net.Dial("unix", srv.Addr()); err == nil {
		t.Errorf("dial after Close succeeded")
	}
}

func TestListenErrors(t *testing.T) {
	if _, err := Bind(context.Background(), Config{}); !errors.Is(err, ErrNoConsumer) {
		t.Errorf("Listen without consumer = %v, want ErrNoConsumer", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Bind(ctx, Config{Consumer: &collector{}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Listen with cancelled ctx = %v, want context.Canceled", err)
	}
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 120))
	if err := os.Mkdir(long, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Bind(context.Background(), Config{Consumer: &collector{}, Dir: long}); err == nil {
		t.Errorf("Listen with a %d-byte directory succeeded, want a path length error", len(long))
	}
}

func TestEndToEnd(t *testing.T) {
	srv, col := startServer(t, Config{})
	send(t, srv, `{"type":"span","name":"generate","usage":[{"name":"token_count","value":12}]}`+"\n"+
		`{"type":"score","name":"user_feedback","score":1}`+"\n"+
		`{"type":"log","level":"warn","message":"careful"}`+"\n"+
		`{"type":"metric","name":"queue.depth","value":3}`) // no final newline: still accepted
	settle(t, srv)
	b := col.snapshot()
	if len(b.Spans) != 1 || len(b.Scores) != 1 || len(b.Logs) != 1 || len(b.Metrics) != 1 {
		t.Fatalf("got %d spans %d scores %d logs %d metrics, want 1 each", len(b.Spans), len(b.Scores), len(b.Logs), len(b.Metrics))
	}
	sp := b.Spans[0]
	if sp.TraceID != testTrace || sp.ParentSpanID != testSpan || !sp.Start.Equal(testNow) || sp.Tags["session_id"] != "s-1" {
		t.Errorf("span defaults: trace %v parent %v start %v tags %v", sp.TraceID, sp.ParentSpanID, sp.Start, sp.Tags)
	}
	st := srv.Stats()
	for _, typ := range []string{"span", "score", "log", "metric"} {
		if st.Messages[typ] != 1 {
			t.Errorf("Stats().Messages[%q] = %d, want 1", typ, st.Messages[typ])
		}
	}
	if st.BadTotal() != 0 || st.Connections != 1 {
		t.Errorf("Stats() = %+v, want no bad lines and 1 connection", st)
	}
}

func TestContextTagsAreRunWide(t *testing.T) {
	srv, col := startServer(t, Config{})
	a, b := dial(t, srv), dial(t, srv)
	write := func(c net.Conn, s string) {
		t.Helper()
		if _, err := c.Write([]byte(s + "\n")); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	write(a, `{"type":"span","name":"before"}`)
	waitFor(t, "span before", func() bool { return col.len() == 1 })
	write(a, `{"type":"tag","key":"session_id","value":"s-42"}`)
	write(a, `{"type":"tag","key":"user_id","value":"u"}`)
	waitFor(t, "tags", func() bool { return srv.Stats().Messages["tag"] == 2 })
	write(b, `{"type":"span","name":"after","tags":{"user_id":"own"}}`)
	waitFor(t, "span after", func() bool { return col.len() == 2 })
	write(a, `{"type":"tag","key":"user_id","value":null}`)
	waitFor(t, "removal", func() bool { return srv.Stats().Messages["tag"] == 3 })
	write(b, `{"type":"score","name":"removed"}`)
	waitFor(t, "score", func() bool { return col.len() == 3 })

	got := col.snapshot()
	want := []telemetry.Tags{
		{"session_id": "s-1", "deployment": "d"},
		{"session_id": "s-42", "deployment": "d", "user_id": "own"},
	}
	for i, w := range want {
		if fmt.Sprint(got.Spans[i].Tags) != fmt.Sprint(w) {
			t.Errorf("span %q tags = %v, want %v", got.Spans[i].Name, got.Spans[i].Tags, w)
		}
	}
	if tags := got.Scores[0].Tags; fmt.Sprint(tags) != fmt.Sprint(telemetry.Tags{"session_id": "s-42", "deployment": "d"}) {
		t.Errorf("score tags after removal = %v", tags)
	}
}

// TestHostileClients sends each bad input between two good lines on its own
// connection: the bad part is counted under its reason and both good lines
// are kept.
func TestHostileClients(t *testing.T) {
	good := func(n string) string { return `{"type":"span","name":"` + n + `"}` + "\n" }
	tests := []struct {
		name  string
		bad   string
		close bool // the bad part ends the connection (no good line after)
		want  Reason
	}{
		{"invalid json", "{nope\n", false, ReasonInvalidJSON},
		{"wrong type", `{"type":"span","name":["x"]}` + "\n", false, ReasonWrongType},
		{"missing name", `{"type":"span"}` + "\n", false, ReasonMissingField},
		{"bad id", `{"type":"span","name":"x","span_id":"XYZ"}` + "\n", false, ReasonBadID},
		{"invalid utf-8", "{\"type\":\"log\",\"message\":\"\xc3\x28\"}\n", false, ReasonInvalidUTF8},
		{"unknown type", `{"type":"future"}` + "\n", false, ReasonUnknownType},
		{"over-long line", `{"type":"log","message":"` + strings.Repeat("x", 2*MaxLineBytes) + "\"}\n", false, ReasonTooLong},
		{"over-long without newline", strings.Repeat("x", MaxLineBytes+10), true, ReasonTooLong},
		{"half a line then disconnect", `{"type":"span","na`, true, ReasonPartialLine},
		{"binary noise", "\x00\x01\x02\xff\n", false, ReasonInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, col := startServer(t, Config{})
			msg := good("first") + tt.bad
			if !tt.close {
				msg += good("last")
			}
			send(t, srv, msg)
			settle(t, srv)
			st := srv.Stats()
			if st.BadLines[tt.want.String()] != 1 || st.BadTotal() != 1 {
				t.Errorf("bad lines = %v, want one %v", st.BadLines, tt.want)
			}
			wantGood := 2
			if tt.close {
				wantGood = 1
			}
			if n := len(col.snapshot().Spans); n != wantGood {
				t.Errorf("good spans kept = %d, want %d", n, wantGood)
			}
		})
	}
}

func TestBlankLinesAndCRLF(t *testing.T) {
	srv, col := startServer(t, Config{})
	send(t, srv, "\n  \n\r\n"+`{"type":"span","name":"crlf"}`+"\r\n\n")
	settle(t, srv)
	if st := srv.Stats(); st.BadTotal() != 0 || col.len() != 1 {
		t.Errorf("bad %v, records %d; want no bad lines and 1 record", st.BadLines, col.len())
	}
}

func TestLongLines(t *testing.T) {
	// A long valid line within the budget is assembled and accepted; one
	// over the shared budget is skipped with ReasonOverload.
	srv, col := startServer(t, Config{ReadBufferBytes: 4 << 10, LongLineBudget: 64 << 10})
	line := func(n int) string {
		return `{"type":"log","message":"` + strings.Repeat("m", n) + "\"}\n"
	}
	send(t, srv, line(50<<10)+line(100<<10)+line(10))
	settle(t, srv)
	st := srv.Stats()
	if st.Messages["log"] != 2 || st.BadLines["overload"] != 1 {
		t.Errorf("logs %d, bad %v; want 2 logs and 1 overload", st.Messages["log"], st.BadLines)
	}
	if b := col.snapshot(); len(b.Logs) == 2 && len(b.Logs[0].Message) != 50<<10 {
		t.Errorf("long message length = %d, want %d", len(b.Logs[0].Message), 50<<10)
	}
	if n := srv.longBytes.Load(); n != 0 {
		t.Errorf("long-line budget in use after close = %d, want 0", n)
	}
}

func TestPeerRefused(t *testing.T) {
	var mu sync.Mutex
	var seen []int
	srv, col := startServer(t, Config{AllowUID: func(uid int) bool {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, uid)
		return false
	}})
	c := dial(t, srv)
	_, _ = c.Write([]byte(`{"type":"span","name":"x"}` + "\n"))
	waitFor(t, "refusal", func() bool { return srv.Stats().RefusedPeers == 1 })
	settle(t, srv)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != os.Getuid() {
		t.Errorf("AllowUID saw %v, want [%d]", seen, os.Getuid())
	}
	if col.len() != 0 || srv.Stats().Connections != 0 {
		t.Errorf("refused peer delivered %d records, %d connections", col.len(), srv.Stats().Connections)
	}
}

func TestSilentClientAndIdleTimeout(t *testing.T) {
	srv, col := startServer(t, Config{IdleTimeout: 50 * time.Millisecond})
	silent := dial(t, srv)
	waitFor(t, "silent connection", func() bool { return srv.Stats().Active == 1 })
	send(t, srv, `{"type":"span","name":"x"}`+"\n")
	waitFor(t, "span despite silent client", func() bool { return col.len() == 1 })
	waitFor(t, "idle connection closed", func() bool { return srv.Stats().Active == 0 })
	_ = silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Errorf("read on idle-closed connection: got data, want EOF")
	}
}

func TestShutdown(t *testing.T) {
	srv, col := startServer(t, Config{})
	// Written and closed, possibly not yet accepted: Shutdown reads it all.
	var lines strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&lines, `{"type":"metric","name":"m","value":%d}`+"\n", i)
	}
	send(t, srv, lines.String())
	for range 300 {
		send(t, srv, `{"type":"span","name":"x"}`+"\n")
	}
	settle(t, srv)
	if col.len() != 1300 {
		t.Errorf("after Shutdown got %d records, want 1300; stats %+v", col.len(), srv.Stats())
	}

	// A client that never leaves is cut when ctx ends.
	srv2, _ := startServer(t, Config{})
	dial(t, srv2)
	waitFor(t, "connection", func() bool { return srv2.Stats().Active == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv2.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a lingering client = %v, want DeadlineExceeded", err)
	}
	if err := srv2.Close(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close after Shutdown = %v, want the first result", err)
	}
}

func TestManyConnections(t *testing.T) {
	const maxConns, extra = 200, 300
	srv, col := startServer(t, Config{MaxConns: maxConns})
	conns := make([]*net.UnixConn, 0, maxConns+extra)
	for range maxConns + extra {
		conns = append(conns, dial(t, srv))
	}
	waitFor(t, "admission", func() bool {
		st := srv.Stats()
		return st.Connections+st.RefusedOverload == maxConns+extra
	})
	if st := srv.Stats(); st.Connections != maxConns || st.RefusedOverload != extra {
		t.Errorf("connections %d refused %d, want %d and %d", st.Connections, st.RefusedOverload, maxConns, extra)
	}
	for _, c := range conns {
		_ = c.Close()
	}
	waitFor(t, "connections closed", func() bool { return srv.Stats().Active == 0 })
	// Thousands of short connections one after another all get through.
	for i := range 2000 {
		if i%50 == 0 { // stay under MaxConns: closed clients may not be reaped yet
			waitFor(t, "reaping", func() bool {
				st := srv.Stats()
				return st.Connections+st.RefusedOverload == uint64(maxConns+extra+i) && st.Active < maxConns/4
			})
		}
		c := dial(t, srv)
		if _, err := c.Write([]byte(fmt.Sprintf(`{"type":"span","name":"s%d"}`+"\n", i))); err != nil {
			t.Fatalf("write %d: %v; stats %+v", i, err, srv.Stats())
		}
		_ = c.Close()
	}
	settle(t, srv)
	if col.len() != 2000 {
		t.Errorf("records from 2000 short connections = %d; stats %+v", col.len(), srv.Stats())
	}
}

// blockingConsumer blocks in Consume until release is closed.
type blockingConsumer struct {
	release chan struct{}
	col     collector
}

func (b *blockingConsumer) Consume(batch telemetry.Batch) {
	<-b.release
	b.col.Consume(batch)
}

func TestOverloadDropsAndNeverBlocks(t *testing.T) {
	bc := &blockingConsumer{release: make(chan struct{})}
	srv, _ := startServer(t, Config{Consumer: bc, QueueBatches: 2})
	c := dial(t, srv)
	const n = 2000
	line := []byte(`{"type":"span","name":"x"}` + "\n")
	for i := range n {
		if _, err := c.Write(line); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if i%100 == 99 { // let the server see separate batches
			waitFor(t, "lines read", func() bool { return srv.Stats().Messages["span"] == uint64(i+1) })
		}
	}
	_ = c.Close()
	waitFor(t, "all lines read", func() bool { return srv.Stats().Messages["span"] == n })
	st := srv.Stats()
	if st.Dropped == 0 {
		t.Errorf("Dropped = 0 with a blocked consumer and a 2-batch queue")
	}
	close(bc.release)
	settle(t, srv)
	if got := uint64(bc.col.len()) + srv.Stats().Dropped; got != n {
		t.Errorf("delivered %d + dropped %d = %d, want %d", bc.col.len(), srv.Stats().Dropped, got, n)
	}
}

func TestMetrics(t *testing.T) {
	srv, _ := startServer(t, Config{})
	send(t, srv, `{"type":"span","name":"x"}`+"\n{bad\n")
	settle(t, srv)
	got := map[string]float64{}
	for _, m := range srv.Metrics(testNow) {
		if m.Kind != telemetry.Counter || m.TraceID != testTrace || m.Tags["session_id"] != "s-1" {
			t.Errorf("metric %s: kind %v trace %v tags %v", m.Name, m.Kind, m.TraceID, m.Tags)
		}
		got[m.Name+"/"+m.Tags["type"]+m.Tags["reason"]] = m.Value
	}
	want := map[string]float64{
		MetricMessages + "/span": 1, MetricBadLines + "/invalid_json": 1, MetricDropped + "/": 0,
		MetricRefusedPeers + "/": 0, MetricRefusedOverload + "/": 0, MetricConnections + "/": 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Metrics() = %v, want %v", got, want)
	}
}

func TestShutdownDropsQueueWhenOutOfTime(t *testing.T) {
	bc := &blockingConsumer{release: make(chan struct{})}
	srv, _ := startServer(t, Config{Consumer: bc})
	c := dial(t, srv)
	const n = 50
	for i := range n {
		if _, err := c.Write([]byte(`{"type":"span","name":"x"}` + "\n")); err != nil {
			t.Fatal(err)
		}
		// One line per batch: wait until it has been read.
		waitFor(t, "line read", func() bool { return srv.Stats().Messages["span"] == uint64(i+1) })
	}
	_ = c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	waitFor(t, "discard mode", srv.discard.Load)
	close(bc.release)
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
	}
	st := srv.Stats()
	if st.Dropped == 0 || uint64(bc.col.len())+st.Dropped != n {
		t.Errorf("consumed %d + dropped %d, want %d with some dropped", bc.col.len(), st.Dropped, n)
	}
}

func TestContextTagLimits(t *testing.T) {
	srv, col := startServer(t, Config{})
	var lines strings.Builder
	for i := range MaxContextTags + 10 {
		fmt.Fprintf(&lines, `{"type":"tag","key":"k%d","value":"v"}`+"\n", i)
	}
	fmt.Fprintf(&lines, `{"type":"tag","key":"k0","value":"%s"}`+"\n", strings.Repeat("x", MaxContextTagBytes))
	lines.WriteString(`{"type":"tag","key":"k1","value":"changed"}` + "\n")
	lines.WriteString(`{"type":"span","name":"x"}` + "\n")
	send(t, srv, lines.String())
	settle(t, srv)
	st := srv.Stats()
	if st.Messages["tag"] != MaxContextTags+1 || st.BadLines["bad_value"] != 11 {
		t.Errorf("tags accepted %d, bad %d; want %d and 11", st.Messages["tag"], st.BadLines["bad_value"], MaxContextTags+1)
	}
	tags := col.snapshot().Spans[0].Tags
	if len(tags) != MaxContextTags+2 || tags["k1"] != "changed" || tags["k0"] != "v" {
		t.Errorf("span has %d tags (k0=%.10q k1=%q), want the run's 2 + %d context tags", len(tags), tags["k0"], tags["k1"], MaxContextTags)
	}
}
