package gpu

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Message is one line of the sampler's report: JSON, exactly one field
// set, newline-terminated. The sampler writes Hello once, first; then
// Samples, XIDs and Gones as they happen; a Note when something limits
// what it can report (written for --debug, never shown otherwise).
type Message struct {
	Hello  *Hello  `json:"hello,omitempty"`
	Sample *Sample `json:"sample,omitempty"`
	XID    *XID    `json:"xid,omitempty"`
	Gone   *Gone   `json:"gone,omitempty"`
	Note   string  `json:"note,omitempty"`
}

// Hello is the sampler's first message: the system and the devices it
// samples (those CUDA_VISIBLE_DEVICES leaves visible).
type Hello struct {
	System  System   `json:"system"`
	Devices []Device `json:"devices"`
}

// MaxLine bounds one line of the report; a longer one is an error.
const MaxLine = 1 << 20

// Writer writes Messages as lines.
type Writer struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriter(w)
	return &Writer{w: bw, enc: json.NewEncoder(bw)}
}

// Write writes m as one line and flushes it.
func (w *Writer) Write(m Message) error {
	if err := w.enc.Encode(m); err != nil { // Encode ends the line
		return fmt.Errorf("gpu report: %w", err)
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("gpu report: %w", err)
	}
	return nil
}

// Reader reads Messages from lines.
type Reader struct {
	s *bufio.Scanner
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64<<10), MaxLine)
	return &Reader{s: s}
}

// ErrBadMessage is wrapped by Read's error for a line that is not one
// Message with exactly one field set; reading may go on after it.
var ErrBadMessage = errors.New("gpu report: bad message")

// Read returns the next Message; io.EOF at the end; an error wrapping
// ErrBadMessage for a malformed line (the next Read reads the line after
// it); another error (a line over MaxLine, a read error) ends the report.
func (r *Reader) Read() (Message, error) {
	if !r.s.Scan() {
		if err := r.s.Err(); err != nil {
			return Message{}, fmt.Errorf("gpu report: %w", err)
		}
		return Message{}, io.EOF
	}
	var m Message
	if err := json.Unmarshal(r.s.Bytes(), &m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if n := m.fields(); n != 1 {
		return Message{}, fmt.Errorf("%w: %d fields set, want 1", ErrBadMessage, n)
	}
	return m, nil
}

func (m Message) fields() int {
	n := 0
	for _, set := range []bool{m.Hello != nil, m.Sample != nil, m.XID != nil, m.Gone != nil, m.Note != ""} {
		if set {
			n++
		}
	}
	return n
}
