package ipc

import (
	"encoding/base64"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Limits of the SDK uploads that nested runs forward in "sdk_upload"
// messages (docs/protocol.md, "sdk_upload").
const (
	// MaxSDKUploadBytes bounds one reassembled upload. A nested run's
	// HTTP intake decodes a body within its 48 MiB in-flight bound, which
	// refuses (413) any SDK upload over about 3.4 MiB, so no upload it
	// forwards is larger.
	MaxSDKUploadBytes = 4 << 20
	// DefaultSDKUploadBudget bounds the memory, shared by all
	// connections, of the uploads being reassembled: one at its largest
	// (docs/architecture.md, "Memory bound").
	DefaultSDKUploadBudget = 4 << 20
	// MaxSDKUploadIDBytes bounds an upload's id.
	MaxSDKUploadIDBytes = 64
	// sdkUploadCostFactor is how many times its body's size a decoded
	// upload counts for in the delivery queue: the body itself, which
	// travels on whole, and the records decoded from it (docs/intake.md:
	// up to about 10× the body for protobuf).
	sdkUploadCostFactor = 11
)

// SDKUploadChunk is one "sdk_upload" message: piece Seq (from 0) of the
// upload ID on its connection, Last on the final piece. Time, TraceID and
// RunSpan are read from every piece and used from the first.
type SDKUploadChunk struct {
	ID   string
	Seq  int64
	Last bool
	Data []byte // decoded from base64
	// Time is ts_ns, the time the nested run received the upload, else
	// the receipt time.
	Time time.Time
	// TraceID (trace_id) and RunSpan (parent_span_id) are the nested run's
	// trace and run span, the defaults of the records decoded from the
	// upload; the enclosing run's when absent.
	TraceID telemetry.TraceID
	RunSpan telemetry.SpanID
}

// SDKUpload is an upload reassembled from its chunks, for
// Config.DecodeSDKUpload. Body is owned by the callee.
type SDKUpload struct {
	Time    time.Time
	Body    []byte
	TraceID telemetry.TraceID
	RunSpan telemetry.SpanID
}

// UploadDrop is why a forwarded upload was dropped. Each dropped upload is
// counted once, under one reason.
type UploadDrop int

// Reasons an upload is dropped.
const (
	UploadIncomplete UploadDrop = iota // its last piece never came: the connection ended, or another upload began
	UploadOutOfOrder                   // a piece that is not the next of its upload (a gap, a repeat, no piece 0)
	UploadTooLarge                     // more than MaxSDKUploadBytes
	UploadOverload                     // the shared reassembly budget was spent by other uploads
	UploadRefused                      // Config.DecodeSDKUpload refused it (not an UploadRequest, decoder busy) or there is none
	numUploadDrops
)

var uploadDropNames = [numUploadDrops]string{"incomplete", "out_of_order", "too_large", "overload", "refused"}

// String returns the reason's name as used in Stats and metric tags.
func (r UploadDrop) String() string {
	if r >= 0 && r < numUploadDrops {
		return uploadDropNames[r]
	}
	return "unknown"
}

// decodeSDKUploadChunk checks an sdk_upload line: id (1 to
// MaxSDKUploadIDBytes bytes) required, seq a non-negative integer (0 when
// absent), last a boolean, data standard base64.
func decodeSDKUploadChunk(w *wire, rc *RunContext, now time.Time) (Message, error) {
	var c SDKUploadChunk
	var f fields
	if w.UploadID != nil {
		f.str("id", w.UploadID, &c.ID)
	}
	if w.UploadSeq != nil {
		f.int64("seq", w.UploadSeq, &c.Seq)
	}
	if w.UploadLast != nil && !isNull(w.UploadLast) {
		last, err := w.UploadLast.Bool()
		if err != nil {
			f.fail("last", "boolean")
		}
		c.Last = last
	}
	var data []byte
	if w.UploadData != nil {
		f.raw("data", w.UploadData, &data)
	}
	if f.err != nil {
		return Message{}, f.err
	}
	switch {
	case c.ID == "":
		return Message{}, badLine(ReasonMissingField, "sdk_upload without \"id\"")
	case len(c.ID) > MaxSDKUploadIDBytes:
		return Message{}, badLine(ReasonBadValue, "sdk_upload id of %d bytes, more than %d", len(c.ID), MaxSDKUploadIDBytes)
	case c.Seq < 0:
		return Message{}, badLine(ReasonBadValue, "sdk_upload seq %d is negative", c.Seq)
	}
	c.Data = make([]byte, base64.StdEncoding.DecodedLen(len(data)))
	n, err := base64.StdEncoding.Decode(c.Data, data)
	if err != nil {
		return Message{}, badLine(ReasonBadValue, "sdk_upload data: %v", err)
	}
	c.Data = c.Data[:n]
	if c.TraceID, err = traceOf(w.TraceID, rc); err != nil {
		return Message{}, err
	}
	if c.RunSpan, err = spanOf(w.ParentSpanID); err != nil {
		return Message{}, err
	}
	if c.RunSpan.IsZero() {
		c.RunSpan = rc.SpanID
	}
	c.Time = timeOf(w.TsNs, now)
	return Message{Type: TypeSDKUpload, Chunk: c}, nil
}

// uploadState is where a connection's reassembly stands.
type uploadState int

const (
	uploadIdle       uploadState = iota
	uploadAssembling             // pieces of upload id are being joined
	uploadSkipping               // upload id was dropped: its other pieces are ignored
)

// uploadAssembly is a connection's upload being reassembled: at most one
// at a time, since a sender writes an upload's pieces one after the other.
type uploadAssembly struct {
	state    uploadState
	id       string
	next     int64          // the seq the next piece must have
	first    SDKUploadChunk // piece 0, without its data
	body     []byte
	reserved int64 // bytes of body's capacity taken from Server.uploadBytes
}

// sdkChunk takes one piece of a forwarded upload; the last one hands the
// upload to Config.DecodeSDKUpload and its records on.
func (cr *connReader) sdkChunk(c *SDKUploadChunk) {
	u := &cr.upload
	switch {
	case u.state == uploadAssembling && c.ID != u.id:
		cr.dropUpload(UploadIncomplete, nil)
	case u.state == uploadSkipping && c.ID == u.id:
		if c.Last {
			u.state = uploadIdle
		}
		return
	case u.state == uploadSkipping:
		u.state = uploadIdle
	}
	if u.state == uploadIdle {
		u.state, u.id, u.next = uploadAssembling, c.ID, 0
		u.first = *c
		u.first.Data = nil
	}
	if c.Seq != u.next {
		cr.dropUpload(UploadOutOfOrder, c)
		return
	}
	if why, ok := cr.grow(len(c.Data)); !ok {
		cr.dropUpload(why, c)
		return
	}
	u.body = append(u.body, c.Data...)
	u.next++
	if c.Last {
		cr.completeUpload()
	}
}

// grow makes room for n more bytes of the upload within its bound and the
// shared budget, reserving the capacity it allocates.
func (cr *connReader) grow(n int) (UploadDrop, bool) {
	u := &cr.upload
	need := len(u.body) + n
	if need > MaxSDKUploadBytes {
		return UploadTooLarge, false
	}
	if need <= cap(u.body) {
		return 0, true
	}
	newCap := min(max(need, 2*cap(u.body)), MaxSDKUploadBytes)
	more := int64(newCap - cap(u.body))
	if cr.s.uploadBytes.Add(more) > cr.s.cfg.SDKUploadBudget {
		cr.s.uploadBytes.Add(-more)
		return UploadOverload, false
	}
	u.reserved += more
	body := make([]byte, len(u.body), newCap)
	copy(body, u.body)
	u.body = body
	return 0, true
}

// dropUpload counts the upload being reassembled as dropped and frees it;
// its pieces after c are then skipped (none when c is nil or the last).
func (cr *connReader) dropUpload(why UploadDrop, c *SDKUploadChunk) {
	cr.counts.uploadDrops[why]++
	cr.releaseUpload()
	if c != nil && !c.Last {
		cr.upload.state, cr.upload.id = uploadSkipping, c.ID
	}
}

// endUploads drops an upload left incomplete when the connection ends.
func (cr *connReader) endUploads() {
	if cr.upload.state == uploadAssembling {
		cr.dropUpload(UploadIncomplete, nil)
	}
	cr.releaseUpload()
}

// releaseUpload returns the upload's memory and resets the assembly.
func (cr *connReader) releaseUpload() {
	cr.s.uploadBytes.Add(-cr.upload.reserved)
	cr.upload = uploadAssembly{}
}

// completeUpload decodes the reassembled upload and hands its batch on,
// after the records of this connection that came before it.
func (cr *connReader) completeUpload() {
	u := &cr.upload
	up := SDKUpload{Time: u.first.Time, Body: u.body, TraceID: u.first.TraceID, RunSpan: u.first.RunSpan}
	defer cr.releaseUpload()
	if cr.s.cfg.DecodeSDKUpload == nil {
		cr.counts.uploadDrops[UploadRefused]++
		return
	}
	b, err := cr.s.cfg.DecodeSDKUpload(up)
	if err != nil {
		cr.counts.uploadDrops[UploadRefused]++
		return
	}
	cr.counts.uploads++
	cr.flush()
	cr.s.enqueue(b, sdkUploadCostFactor*int64(len(up.Body)))
}
