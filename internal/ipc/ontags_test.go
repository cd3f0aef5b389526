package ipc

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestOnTagsSeesContextTags checks that a "tag" message reports the run's
// tags merged with the context tags, for the run's other intakes.
func TestOnTagsSeesContextTags(t *testing.T) {
	got := make(chan telemetry.Tags, 4)
	srv, err := listen(context.Background(), Config{
		TraceID: telemetry.NewTraceID(), SpanID: telemetry.NewSpanID(),
		Tags:     telemetry.Tags{"session_id": "s-1"},
		Consumer: ConsumerFunc(func(telemetry.Batch) {}),
		OnTags:   func(tags telemetry.Tags) { got <- tags },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := net.Dial("unix", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(`{"type":"tag","key":"user_id","value":"u-7"}` + "\n" + `{"type":"tag","key":"user_id","value":null}` + "\n")); err != nil {
		t.Fatal(err)
	}
	want := []telemetry.Tags{{"session_id": "s-1", "user_id": "u-7"}, {"session_id": "s-1"}}
	for i, w := range want {
		select {
		case tags := <-got:
			if len(tags) != len(w) || tags["user_id"] != w["user_id"] || tags["session_id"] != "s-1" {
				t.Errorf("OnTags call %d = %v, want %v", i, tags, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("OnTags call %d did not come", i)
		}
	}
}
