//go:build linux

package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/graphsignal/graphsignal/internal/signalspb"
)

// fakeAPIMain is a stand-in for the Graphsignal API: fakeapi MODE DIR
// serves on the address in DIR/addr (written on the first start, from
// 127.0.0.1:0, so that later servers are the same destination) until
// SIGINT or SIGTERM; MODE is ok (200, decoding every
// request), 503, 401 or hang (accepts and never answers). It writes
// DIR/graphsignal.yaml pointing graphsignal at itself (api_key
// "test-key-1234"), then appends one line per request to
// DIR/requests.log for each request to the signals API: "STATUS spans=N
// open=O metrics=M", O the spans without an end.
func fakeAPIMain() {
	mode, dir := os.Args[1], os.Args[2]
	addr := "127.0.0.1:0"
	if b, err := os.ReadFile(filepath.Join(dir, "addr")); err == nil {
		addr = string(b)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fatalf("fakeapi: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "addr"), []byte(ln.Addr().String()), 0o600); err != nil {
		fatalf("fakeapi: %v", err)
	}
	log, err := os.OpenFile(filepath.Join(dir, "requests.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		fatalf("fakeapi: %v", err)
	}
	var mu sync.Mutex
	hang := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/signals/" {
			http.NotFound(w, r) // not the signals API (the SDK's sdk_config, say): not logged
			return
		}
		status, spans, open, metrics := http.StatusOK, 0, 0, 0
		switch {
		case r.Header.Get("X-API-Key") != "test-key-1234":
			status = http.StatusUnauthorized
		case mode == "hang":
			<-hang
			return
		case mode == "503":
			status = http.StatusServiceUnavailable
		case mode == "401":
			status = http.StatusUnauthorized
		default:
			var req signalspb.UploadRequest
			zr, err := gzip.NewReader(r.Body)
			if err == nil {
				var body []byte
				if body, err = io.ReadAll(zr); err == nil {
					err = req.Unmarshal(body)
				}
			}
			if err != nil {
				status = http.StatusBadRequest
			}
			spans, metrics = len(req.Spans), len(req.Metrics)
			for _, sp := range req.Spans {
				if sp.EndTs == 0 {
					open++
				}
			}
		}
		mu.Lock()
		fmt.Fprintf(log, "%d spans=%d open=%d metrics=%d\n", status, spans, open, metrics)
		mu.Unlock()
		w.WriteHeader(status)
	})
	cfg := fmt.Sprintf("api_key: test-key-1234\napi_base: http://%s\n", ln.Addr())
	tmp := filepath.Join(dir, ".graphsignal.yaml.tmp")
	if err := os.WriteFile(tmp, []byte(cfg), 0o600); err != nil {
		fatalf("fakeapi: %v", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "graphsignal.yaml")); err != nil {
		fatalf("fakeapi: %v", err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	<-stop
	close(hang)
	_ = srv.Close()
}

// withinMain runs its command (within MAX CMD ARGS...) with the standard
// streams passed through, prints "exit N", and fails when the command took
// longer than MAX.
func withinMain() {
	limit, err := time.ParseDuration(os.Args[1])
	if err != nil {
		fatalf("within: %v", err)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	_ = cmd.Run()
	took := time.Since(start)
	fmt.Printf("exit %d\n", cmd.ProcessState.ExitCode())
	if took > limit {
		fatalf("within: %s took %v, more than %v", os.Args[2], took.Round(time.Millisecond), limit)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
