// Package signalspb holds the Go types of the Graphsignal signals API
// (graphsignal-signals.proto, a verbatim copy of
// shared/protocol/graphsignal-signals.proto): the UploadRequest that the
// Graphsignal SDK posts to {api_base}/api/v1/signals/ and that graphsignal's
// own uploader sends to the Graphsignal API.
//
// The .pb.go file is generated and committed, so building needs no protoc.
// It was produced with protoc 3.21.12 (libprotoc, Debian package
// protobuf-compiler) and protoc-gen-go v1.36.12
// (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12).
// To regenerate after copying a new .proto here: go generate ./internal/signalspb
package signalspb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go_opt=Mgraphsignal-signals.proto=github.com/graphsignal/graphsignal/internal/signalspb;signalspb graphsignal-signals.proto
