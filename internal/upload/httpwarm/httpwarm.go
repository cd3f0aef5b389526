// Package httpwarm runs net/http's client code once, in memory, so that a
// process's first real request does not pay for running it the first time:
// on a small VM a first request took about 1 ms longer than the next ones
// on the same warm connection, most of it code paged in and initialised on
// first use (BENCHMARKS.md, "A reachable destination").
//
// Warm sends one POST through a throwaway http.Transport over an in-memory
// pipe, answered by a goroutine in this package; it opens no socket and
// contacts nobody. Only the HTTP/1.1 path is run: an https destination
// still pays for its first TLS and HTTP/2 code itself.
package httpwarm

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// timeout bounds the in-memory exchange; it never comes near it.
const timeout = time.Second

var once sync.Once

// Warm runs a gzip-encoded POST through the client code once per
// process; later calls return at once. It is meant for a goroutine that
// warms a sender while the program runs, before the run's first request.
func Warm() {
	once.Do(func() { _ = warm() })
}

// warm makes the exchange and returns what went wrong, for tests: the
// callers of Warm have nothing to do about it (the real request will say).
func warm() error {
	var served sync.WaitGroup
	tr := &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			client, server := net.Pipe()
			served.Go(func() { answer(server) })
			return client, nil
		},
		DisableKeepAlives: true,
	}
	defer served.Wait()
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://warm.invalid/", bytes.NewReader([]byte("warm")))
	if err != nil {
		return fmt.Errorf("warm request: %w", err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("warm request: %w", err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("warm response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("warm response: %s", resp.Status)
	}
	return nil
}

// answer reads one request from conn and answers 200 with an empty body.
func answer(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, req.Body)
	_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}
