// Command h2setup prints what net/http's first HTTP/2 set-up costs in a
// fresh process, the figure behind BENCHMARKS.md "A reachable destination"
// (why a short run sets up no HTTP/2 it does not use). A Transport that may
// speak HTTP/2 sets it up on its first request, on CloseIdleConnections or
// when cloned; the first time in a process pays for the code and data it
// touches for the first time. Run: go run ./bench/h2setup (a few times).
package main

import (
	"fmt"
	"net/http"
	"time"
)

func main() {
	first := &http.Transport{ForceAttemptHTTP2: true}
	t := time.Now()
	first.CloseIdleConnections() // sets HTTP/2 up, as a first request would
	d1 := time.Since(t)

	second := &http.Transport{ForceAttemptHTTP2: true}
	t = time.Now()
	second.CloseIdleConnections()
	d2 := time.Since(t)

	var p http.Protocols
	p.SetHTTP1(true)
	http1 := &http.Transport{Protocols: &p}
	t = time.Now()
	http1.CloseIdleConnections()
	d3 := time.Since(t)

	fmt.Printf("HTTP/2 set-up, first in the process: %v; a second Transport: %v; an HTTP/1.1-only Transport: %v\n", d1, d2, d3)
}
