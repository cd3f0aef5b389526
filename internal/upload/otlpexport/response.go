package otlpexport

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/graphsignal/graphsignal/internal/wire"
)

// partialSuccess is the partial_success of an Export*ServiceResponse:
// rejected counts the spans, data points or log records refused.
type partialSuccess struct {
	rejected int
	message  string
}

var errBadResponse = errors.New("malformed OTLP response")

// parsePartialSuccess decodes the partial_success of a protobuf
// Export{Trace,Metrics,Logs}ServiceResponse: field 1, a message whose field
// 1 is the int64 count of rejected records and field 2 the error message
// (the same numbers for the three signals). As in protobuf-go, unknown
// fields and known fields of another wire type are skipped, and repeated
// occurrences merge.
func parsePartialSuccess(b []byte) (partialSuccess, error) {
	var ps partialSuccess
	var rejected int64
	err := eachField(b, func(num wire.Number, typ wire.Type, v []byte, x uint64) error {
		if num != 1 || typ != wire.BytesType {
			return nil
		}
		return eachField(v, func(num wire.Number, typ wire.Type, v []byte, x uint64) error {
			switch {
			case num == 1 && typ == wire.VarintType:
				rejected = int64(x)
			case num == 2 && typ == wire.BytesType:
				ps.message = string(v)
			}
			return nil
		})
	})
	if err != nil {
		return partialSuccess{}, err
	}
	ps.rejected = clampCount(rejected)
	return ps, nil
}

// parseStatusMessage returns the message (field 2) of a google.rpc.Status,
// the body of a refused OTLP/HTTP protobuf request, or "".
func parseStatusMessage(b []byte) string {
	var msg string
	err := eachField(b, func(num wire.Number, typ wire.Type, v []byte, _ uint64) error {
		if num == 2 && typ == wire.BytesType {
			msg = string(v)
		}
		return nil
	})
	if err != nil {
		return ""
	}
	return msg
}

// eachField calls fn for every field of the message b: with the value for
// length-delimited fields, the number for varint and fixed ones.
func eachField(b []byte, fn func(num wire.Number, typ wire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := wire.ConsumeTag(b)
		if n < 0 {
			return errBadResponse
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case wire.VarintType:
			x, n = wire.ConsumeVarint(b)
		case wire.BytesType:
			v, n = wire.ConsumeBytes(b)
		case wire.Fixed32Type:
			var x32 uint32
			x32, n = wire.ConsumeFixed32(b)
			x = uint64(x32)
		case wire.Fixed64Type:
			x, n = wire.ConsumeFixed64(b)
		default:
			n = wire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errBadResponse
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// parsePartialSuccessJSON decodes the partial_success of an OTLP/JSON
// response. Field names may be lowerCamelCase or the proto names, and the
// int64 count a string or a number, as protojson accepts; the count's name
// is that of kind's response.
func parsePartialSuccessJSON(b []byte, kind signalKind) (partialSuccess, error) {
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(b, &resp); err != nil {
		return partialSuccess{}, errBadResponse
	}
	raw := first(resp, "partialSuccess", "partial_success")
	if raw == nil || string(raw) == "null" {
		return partialSuccess{}, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return partialSuccess{}, errBadResponse
	}
	var ps partialSuccess
	names := [...][2]string{
		tracesKind:  {"rejectedSpans", "rejected_spans"},
		metricsKind: {"rejectedDataPoints", "rejected_data_points"},
		logsKind:    {"rejectedLogRecords", "rejected_log_records"},
	}[kind]
	if r := first(fields, names[0], names[1]); r != nil {
		n, err := jsonInt(r)
		if err != nil {
			return partialSuccess{}, err
		}
		ps.rejected = clampCount(n)
	}
	if m := first(fields, "errorMessage", "error_message"); m != nil {
		if err := json.Unmarshal(m, &ps.message); err != nil {
			return partialSuccess{}, errBadResponse
		}
	}
	return ps, nil
}

// parseStatusMessageJSON returns the message of a google.rpc.Status in
// JSON, or "".
func parseStatusMessageJSON(b []byte) string {
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &st) != nil {
		return ""
	}
	return st.Message
}

func first(m map[string]json.RawMessage, keys ...string) json.RawMessage {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return nil
}

// jsonInt reads an int64 written as a JSON number or string.
func jsonInt(raw json.RawMessage) (int64, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, errBadResponse
		}
		return n, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, errBadResponse
	}
	i, err := n.Int64()
	if err != nil {
		return 0, errBadResponse
	}
	return i, nil
}

// clampCount turns a count from the wire into a non-negative int.
func clampCount(n int64) int {
	if n < 0 {
		return 0
	}
	if n > 1<<31-1 {
		return 1<<31 - 1
	}
	return int(n)
}
