//go:build linux

package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// socketSpansMain is a program that reports through graphsignal's own
// socket (docs/protocol.md), the way a client of the newline-JSON protocol
// would: a root span (no parent: it becomes a child of the run span), a
// child of that root, a root span of a trace of its own (which stays a
// root), an error log tied to the child and a gauge. It prints the ids it
// used as one JSON line, in the shape export-spans.js prints
// ({"root":{"trace_id","span_id"},"child":{...},"foreign":{...}}), so a
// test can find exactly these spans downstream.
//
// Usage: socketspans EXIT_CODE.
func socketSpansMain() {
	code := 0
	if len(os.Args) > 1 {
		code, _ = strconv.Atoi(os.Args[1])
	}
	if err := sendSocketSpans(); err != nil {
		fmt.Fprintln(os.Stderr, "socketspans:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// Names and values socketspans sends, checked by otelcol_e2e_test.go.
const (
	socketRootName  = "socket-root"
	socketChildName = "socket-child"
	socketOwnTrace  = "socket-own-trace"
	socketLogBody   = "socket log line"
	socketMetric    = "test.queue.depth"
	socketUnit      = "{item}"
)

func sendSocketSpans() error {
	path, trace := os.Getenv("GRAPHSIGNAL_SOCKET"), os.Getenv("GRAPHSIGNAL_TRACE_ID")
	if path == "" || trace == "" {
		return fmt.Errorf("GRAPHSIGNAL_SOCKET or GRAPHSIGNAL_TRACE_ID not set: not under graphsignal run")
	}
	root, child, foreign, foreignTrace := randomHex(8), randomHex(8), randomHex(8), randomHex(16)
	conn, err := net.Dial("unix", path)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	now := time.Now().UnixNano()
	msgs := []map[string]any{
		{"type": "span", "name": socketChildName, "span_id": child, "parent_span_id": root,
			"start_ns": now - 2_000_000, "end_ns": now - 1_000_000, "attributes": map[string]any{"tokens": 42}},
		{"type": "span", "name": socketRootName, "span_id": root, "start_ns": now - 3_000_000, "end_ns": now},
		{"type": "span", "name": socketOwnTrace, "trace_id": foreignTrace, "span_id": foreign, "start_ns": now - 1_000_000, "end_ns": now},
		{"type": "log", "level": "error", "message": socketLogBody, "span_id": child, "ts_ns": now},
		{"type": "metric", "name": socketMetric, "kind": "gauge", "value": 3, "unit": socketUnit, "ts_ns": now},
	}
	enc := json.NewEncoder(conn) // one object per line
	for _, m := range msgs {
		if err := enc.Encode(m); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	ids := func(trace, span string) map[string]string {
		return map[string]string{"trace_id": trace, "span_id": span}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"root": ids(trace, root), "child": ids(trace, child), "foreign": ids(foreignTrace, foreign)})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}
