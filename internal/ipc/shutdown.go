package ipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Shutdown stops accepting, lets open connections finish (a client's data
// already written is read to its end, and connections already queued by
// the kernel are accepted, even when Serve was never called) until ctx is
// done, then cuts those that remain, hands what was queued to the consumer
// (dropping and counting what is left when ctx ends), and removes the
// socket and its directory. It returns ctx's error if it had to cut, or an
// error removing the directory. Calling it again (or Close) returns the
// first result. When no client ever connected it makes no goroutine hop.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown(ctx, ctx) })
	return s.closeErr
}

// Close cuts open connections at once, which is not an error, hands what
// was already queued to the consumer, and removes the socket and its
// directory. It is idempotent.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.closeOnce.Do(func() { s.closeErr = s.shutdown(ctx, context.Background()) })
	if s.closeErr != nil && !errors.Is(s.closeErr, context.Canceled) {
		return s.closeErr
	}
	return nil
}

// shutdown gives connections until ctx is done, and the delivery of the
// queue until drainCtx is done.
func (s *Server) shutdown(ctx, drainCtx context.Context) error {
	s.mu.Lock()
	s.shut = true
	if !s.served && ctx.Err() == nil && pollIn(s.fd) {
		// A client connected before Serve: read what it wrote.
		s.serveLocked()
	}
	served := s.served
	s.mu.Unlock()
	var err error
	if served {
		err = s.stopAccepting(ctx)
	} else if cerr := syscall.Close(s.fd); cerr != nil {
		err = cerr
	}

	s.mu.Lock()
	s.closing = true
	idle := len(s.conns) == 0
	s.mu.Unlock()
	var cut error
	if idle {
		s.connWG.Wait() // at most a connection goroutine returning
	} else {
		cut = s.awaitConns(ctx)
	}
	if derr := s.drainQueue(drainCtx); cut == nil {
		cut = derr
	}
	if rmErr := removeSocketDir(s.dir, s.path); rmErr != nil && err == nil {
		err = fmt.Errorf("remove socket directory: %w", rmErr)
	}
	s.lock.release()
	if err != nil {
		return fmt.Errorf("close intake: %w", err)
	}
	if cut != nil {
		return fmt.Errorf("close intake: connections cut: %w", cut)
	}
	return nil
}

// stopAccepting ends the accept goroutine: at once when the backlog is
// empty (or ctx is done), else once no connection has come for
// backlogGrace or ctx ends, since a child may have connected, written and
// exited just before the end of the run. It returns the error closing the
// listener, or the one that kept the accept goroutine from serving.
func (s *Server) stopAccepting(ctx context.Context) error {
	<-s.ready
	if s.serveErr != nil {
		s.acceptWG.Wait()
		return fmt.Errorf("serve: %w", s.serveErr)
	}
	if ctx.Err() != nil || !s.backlogPending() {
		s.acceptCut.Store(true)
		close(s.stop)
		err := s.ln.Close() // wakes the accept goroutine with ErrClosed
		s.acceptWG.Wait()
		return err
	}
	close(s.stop)
	s.extendAccept()
	accepted := make(chan struct{})
	go func() { s.acceptWG.Wait(); close(accepted) }()
	select {
	case <-accepted:
	case <-ctx.Done():
		s.acceptCut.Store(true)
		s.extendAccept()
		<-accepted
	}
	return s.ln.Close()
}

// awaitConns waits for open connections to end, and cuts them when ctx
// ends first, returning ctx's error.
func (s *Server) awaitConns(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.connWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// drainQueue hands the rest of the queue to the consumer, dropping and
// counting what is left when ctx ends (and returning ctx's error). It
// returns at once when no connection was ever served.
func (s *Server) drainQueue(ctx context.Context) error {
	started := true
	s.drainOnce.Do(func() { started = false })
	if !started {
		return nil
	}
	close(s.queue)
	select {
	case <-s.drainDone:
		return nil
	case <-ctx.Done():
		s.discard.Store(true)
		<-s.drainDone
		return ctx.Err()
	}
}

// backlogPending reports whether a connection is waiting in the listener's
// backlog, so that Shutdown waits for the backlog only when there is one.
func (s *Server) backlogPending() bool {
	raw, err := s.ln.SyscallConn()
	if err != nil {
		return true
	}
	pending := true
	_ = raw.Control(func(fd uintptr) { pending = pollIn(int(fd)) })
	return pending
}

// pollIn reports whether fd is readable now (for a listener: a connection
// is waiting); true when that cannot be told.
func pollIn(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err != nil || n > 0
}

// extendAccept sets the listener's deadline while shutting down: another
// backlogGrace, or the past once acceptCut is set. It is called by the
// accept goroutine after each connection and by shutdown; acceptCut is
// stored before the deadline, so the last call always sees it.
func (s *Server) extendAccept() {
	if s.acceptCut.Load() {
		_ = s.ln.SetDeadline(time.Unix(1, 0))
		return
	}
	_ = s.ln.SetDeadline(time.Now().Add(backlogGrace))
	if s.acceptCut.Load() {
		_ = s.ln.SetDeadline(time.Unix(1, 0))
	}
}

// fileListener hands the bound socket fd to the runtime's poller. fd is
// closed in every case (the listener holds a duplicate).
func fileListener(fd int, path string) (*net.UnixListener, error) {
	f := os.NewFile(uintptr(fd), path)
	l, err := net.FileListener(f)
	_ = f.Close()
	if err != nil {
		return nil, err
	}
	ul, ok := l.(*net.UnixListener)
	if !ok {
		_ = l.Close()
		return nil, fmt.Errorf("socket %s is not a unix listener", path)
	}
	return ul, nil
}

// removeSocketDir removes the socket and its directory: two system calls
// when nothing else is in it.
func removeSocketDir(dir, path string) error {
	if os.Remove(path) == nil && syscall.Rmdir(dir) == nil {
		return nil
	}
	return os.RemoveAll(dir)
}
