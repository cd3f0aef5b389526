// Package signalspb is the Graphsignal signals API (graphsignal-signals.proto,
// the field names and numbers the Graphsignal SDK sends): the UploadRequest
// that the SDK posts to {api_base}/api/v1/signals/ and that graphsignal's own
// uploader sends to the Graphsignal API.
//
// The types are plain Go structs with a hand-written codec built on
// internal/wire alone, so the product binary does not link (or initialise)
// any of google.golang.org/protobuf. Names and getters are those
// protoc-gen-go would generate. Every message reachable from UploadRequest is
// here; SignalRecord (the Graphsignal server's storage record) is not.
//
// Decoding follows protobuf-go's proto3 semantics exactly (the tests fuzz it
// against the generated code): Unmarshal resets the message; unknown fields,
// and known fields with an unexpected wire type, are skipped (groups included,
// nested at most wire.DefaultRecursionLimit deep); the last value of a
// scalar wins; repeated scalars are accepted packed and unpacked; a message
// case of a oneof merges into the value when the oneof holds that case already
// and replaces any other case; strings must be valid UTF-8. Malformed input
// returns an error wrapping ErrMalformed, never panics, and allocates no more
// than the input's length implies. Marshal writes fields in field-number order
// (a oneof after the other fields), packs repeated scalars, omits proto3 zero
// values and sorts map keys: the same bytes as protobuf-go's deterministic
// Marshal.
//
// MergeTags works on the encoding itself rather than the structs: it merges
// tags into a request and keeps every other byte, fields this package does
// not know included, for requests that graphsignal forwards as received.
//
// The protoc-gen-go code for the same .proto is kept in signalspbgen for tests
// only (the reference the codec is checked against). It was produced with
// protoc 3.21.12 (Debian protobuf-compiler) and protoc-gen-go v1.36.12
// (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12).
// After changing the .proto: go generate ./internal/signalspb, then update
// the structs and codec here until the tests pass (TestProtoMatchesGenerated
// fails while the generated code lags the .proto).
package signalspb

//go:generate protoc --go_out=signalspbgen --go_opt=paths=source_relative --go_opt=Mgraphsignal-signals.proto=github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen;signalspbgen graphsignal-signals.proto
