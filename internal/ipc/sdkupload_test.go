package ipc

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// piece is an sdk_upload line carrying data.
func piece(id string, seq int, last bool, data string) string {
	l := fmt.Sprintf(`{"type":"sdk_upload","id":%q,"seq":%d,"data":%q`, id, seq, base64.StdEncoding.EncodeToString([]byte(data)))
	if last {
		l += `,"last":true`
	}
	return l + "}\n"
}

// uploadHook is a Config.DecodeSDKUpload that keeps the uploads it is
// given and maps each to one log whose message is its body.
type uploadHook struct {
	mu      sync.Mutex
	uploads []SDKUpload
	refuse  bool
}

func (h *uploadHook) decode(u SDKUpload) (telemetry.Batch, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.refuse {
		return telemetry.Batch{}, errors.New("not an UploadRequest")
	}
	h.uploads = append(h.uploads, u)
	return telemetry.Batch{Logs: []telemetry.Log{{Message: string(u.Body)}}}, nil
}

// TestSDKUploadReassembly sends forwarded SDK uploads in pieces, well and
// badly formed, and checks what is reassembled and what is dropped.
func TestSDKUploadReassembly(t *testing.T) {
	big := strings.Repeat("x", 700<<10) // one long line per piece
	tests := []struct {
		name    string
		conns   []string // one connection each, closed after writing
		budget  int64
		refuse  bool
		want    []string // bodies decoded, in order
		drops   map[string]uint64
		badLine map[string]uint64
	}{
		{name: "in order", conns: []string{piece("1", 0, false, "ab") + piece("1", 1, false, "cd") + piece("1", 2, true, "ef")},
			want: []string{"abcdef"}},
		{name: "two uploads", conns: []string{piece("1", 0, true, "a") + piece("2", 0, true, "b")},
			want: []string{"a", "b"}},
		{name: "empty body", conns: []string{piece("1", 0, true, "")}, want: []string{""}},
		{name: "long pieces", conns: []string{piece("u", 0, false, big) + piece("u", 1, true, big)}, want: []string{big + big}},
		{name: "out of order", conns: []string{piece("1", 0, false, "a") + piece("1", 2, false, "c") + piece("1", 1, true, "b")},
			drops: map[string]uint64{"out_of_order": 1}},
		{name: "repeated piece", conns: []string{piece("1", 0, false, "a") + piece("1", 0, true, "a")},
			drops: map[string]uint64{"out_of_order": 1}},
		{name: "no piece 0",
			conns: []string{piece("1", 1, false, "b") + piece("1", 2, true, "c") + piece("2", 0, true, "d")},
			want:  []string{"d"}, drops: map[string]uint64{"out_of_order": 1}},
		{name: "missing last", conns: []string{piece("1", 0, false, "a") + piece("1", 1, false, "b")},
			drops: map[string]uint64{"incomplete": 1}},
		{name: "interleaved ids", conns: []string{piece("a", 0, false, "1") + piece("b", 0, false, "2") + piece("a", 1, true, "3") + piece("b", 1, true, "4")},
			drops: map[string]uint64{"incomplete": 2, "out_of_order": 2}},
		{name: "two connections", conns: []string{piece("1", 0, false, "a"), piece("1", 1, true, "b")},
			drops: map[string]uint64{"incomplete": 1, "out_of_order": 1}},
		{name: "bad base64", conns: []string{piece("1", 0, false, "a") + `{"type":"sdk_upload","id":"1","seq":1,"data":"!!!"}` + "\n" + piece("1", 2, true, "c")},
			drops: map[string]uint64{"out_of_order": 1}, badLine: map[string]uint64{"bad_value": 1}},
		{name: "over the budget", budget: 1 << 20, conns: []string{piece("1", 0, false, big) + piece("1", 1, true, big) + piece("2", 0, true, "ok")},
			want: []string{"ok"}, drops: map[string]uint64{"overload": 1}},
		{name: "refused", refuse: true, conns: []string{piece("1", 0, true, "a")},
			drops: map[string]uint64{"refused": 1}},
		{name: "bad fields",
			conns: []string{`{"type":"sdk_upload","seq":0,"last":true,"data":""}` + "\n" +
				`{"type":"sdk_upload","id":"1","seq":-1,"last":true,"data":""}` + "\n" +
				`{"type":"sdk_upload","id":"1","seq":0,"last":"yes","data":""}` + "\n" +
				`{"type":"sdk_upload","id":"` + strings.Repeat("i", 65) + `","last":true}` + "\n"},
			badLine: map[string]uint64{"missing_field": 1, "bad_value": 2, "wrong_type": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook := &uploadHook{refuse: tt.refuse}
			srv, col := startServer(t, Config{DecodeSDKUpload: hook.decode, SDKUploadBudget: tt.budget})
			for _, c := range tt.conns {
				send(t, srv, c)
			}
			settle(t, srv)
			var got []string
			for _, l := range col.snapshot().Logs {
				got = append(got, l.Message)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("bodies decoded (-want +got):\n%s", diff)
			}
			st := srv.Stats()
			if st.SDKUploads != uint64(len(tt.want)) {
				t.Errorf("Stats.SDKUploads = %d, want %d", st.SDKUploads, len(tt.want))
			}
			if diff := cmp.Diff(nonZero(tt.drops), nonZero(st.SDKUploadDrops)); diff != "" {
				t.Errorf("Stats.SDKUploadDrops (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(nonZero(tt.badLine), nonZero(st.BadLines)); diff != "" {
				t.Errorf("Stats.BadLines (-want +got):\n%s", diff)
			}
			if n := srv.uploadBytes.Load(); n != 0 {
				t.Errorf("reassembly budget holds %d bytes after the connections ended", n)
			}
		})
	}
}

func nonZero(m map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// TestSDKUploadTooLarge sends an upload one piece over MaxSDKUploadBytes.
func TestSDKUploadTooLarge(t *testing.T) {
	hook := &uploadHook{}
	srv, _ := startServer(t, Config{DecodeSDKUpload: hook.decode, SDKUploadBudget: 2 * MaxSDKUploadBytes})
	c := dial(t, srv)
	chunk := strings.Repeat("z", 512<<10)
	for seq := 0; seq <= MaxSDKUploadBytes/len(chunk); seq++ {
		if _, err := c.Write([]byte(piece("1", seq, false, chunk))); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	if _, err := c.Write([]byte(piece("1", MaxSDKUploadBytes/len(chunk)+1, true, chunk) + piece("2", 0, true, "ok"))); err != nil {
		t.Fatalf("write: %v", err)
	}
	_ = c.Close()
	settle(t, srv)
	st := srv.Stats()
	if st.SDKUploadDrops["too_large"] != 1 || st.SDKUploads != 1 || len(hook.uploads) != 1 || string(hook.uploads[0].Body) != "ok" {
		t.Errorf("too large upload then a small one: drops %v, decoded %d", st.SDKUploadDrops, st.SDKUploads)
	}
}

// TestSDKUploadDefaults checks what the decoder is given: piece 0's time
// and ids, else the receipt time and the run's ids.
func TestSDKUploadDefaults(t *testing.T) {
	trace := telemetry.TraceID{0xc, 1}
	span := telemetry.SpanID{0xd, 2}
	hook := &uploadHook{}
	srv, _ := startServer(t, Config{DecodeSDKUpload: hook.decode})
	send(t, srv, fmt.Sprintf(`{"type":"sdk_upload","id":"1","seq":0,"ts_ns":1700000000000000007,"trace_id":"%s","parent_span_id":"%s","data":"YQ=="}`+"\n", trace, span)+
		`{"type":"sdk_upload","id":"1","seq":1,"last":true,"data":"Yg=="}`+"\n"+piece("2", 0, true, "c"))
	settle(t, srv)
	want := []SDKUpload{
		{Time: time.Unix(0, 1700000000000000007), Body: []byte("ab"), TraceID: trace, RunSpan: span},
		{Time: testNow, Body: []byte("c"), TraceID: testTrace, RunSpan: testSpan},
	}
	if diff := cmp.Diff(want, hook.uploads); diff != "" {
		t.Errorf("uploads given to DecodeSDKUpload (-want +got):\n%s", diff)
	}
}

// FuzzSDKUploadPieces feeds a connection's lines (the input split at
// newlines) to the reassembly: nothing may panic or hang, every upload
// handed to the decoder is within MaxSDKUploadBytes, and once the
// connection ends no reassembly memory is held. Seeds live in
// testdata/fuzz/FuzzSDKUploadPieces.
func FuzzSDKUploadPieces(f *testing.F) {
	var largest int
	srv, err := Bind(context.Background(), Config{
		TraceID: testTrace, SpanID: testSpan, Consumer: ConsumerFunc(func(telemetry.Batch) {}),
		Now: func() time.Time { return testNow }, SDKUploadBudget: 64 << 10,
		DecodeSDKUpload: func(u SDKUpload) (telemetry.Batch, error) {
			largest = max(largest, len(u.Body))
			return telemetry.Batch{Logs: []telemetry.Log{{Message: "x"}}}, nil
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	srv.drainOnce.Do(srv.startDrain)
	f.Fuzz(func(t *testing.T, input []byte) {
		largest = 0
		cr := &connReader{s: srv}
		for _, l := range bytes.SplitAfter(input, []byte("\n")) {
			if len(l) > 0 && l[len(l)-1] == '\n' {
				cr.line(l)
			} else {
				cr.last(l)
			}
		}
		cr.endUploads()
		cr.flush()
		cr.release()
		if largest > MaxSDKUploadBytes {
			t.Fatalf("an upload of %d bytes was decoded", largest)
		}
		if n := srv.uploadBytes.Load(); n != 0 {
			t.Fatalf("reassembly holds %d bytes after the connection ended", n)
		}
	})
}
