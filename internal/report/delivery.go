package report

import (
	"fmt"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Delivery is where one run's records stand for one remote destination
// (docs/upload.md, "Delivery"): `show` lists them under each run that had
// a destination.
type Delivery struct {
	// Destination is the destination's kind and endpoint, never a
	// credential ("Graphsignal API https://api.graphsignal.com").
	Destination string
	// State is DeliveryDelivered, DeliveryRefused, DeliveryPending or
	// DeliveryDropped.
	State string
	// Acknowledged is how many bytes of the run's journal the destination
	// acknowledged; Size is the journal's size (pending only: a delivered
	// or dropped journal may be gone).
	Acknowledged int64
	Size         int64
	// Why says why it was dropped (spool bounds), or why the destination
	// refused records (Refused); "" otherwise.
	Why string
	// Refused is how many records the destination refused as invalid or
	// too large (so far, when pending).
	Refused int64
}

// The states of a Delivery.
const (
	DeliveryDelivered = "delivered"
	DeliveryRefused   = "refused" // delivered to its end, some records refused
	DeliveryPending   = "pending"
	DeliveryDropped   = "dropped"
)

// Deliveries are the Delivery of each run, by run span id.
type Deliveries map[telemetry.SpanID][]Delivery

// deliveryText is the one line `show` prints per run and destination.
func deliveryText(d Delivery) string {
	refused := ""
	if d.Refused > 0 {
		refused = fmt.Sprintf("; %s refused (%s)", Plural(int(d.Refused), "record"), clean(d.Why))
	}
	switch d.State {
	case DeliveryRefused:
		return fmt.Sprintf("%s: answered, but %s refused (%s); they are dropped", clean(d.Destination), Plural(int(d.Refused), "record"), clean(d.Why))
	case DeliveryPending:
		left := d.Size - d.Acknowledged
		if left <= 0 {
			return fmt.Sprintf("%s: pending (graphsignal upload sends it)%s", clean(d.Destination), refused)
		}
		return fmt.Sprintf("%s: pending, %s of %s left (graphsignal upload sends it)%s",
			clean(d.Destination), Bytes(left), Bytes(d.Size), refused)
	case DeliveryDropped:
		if d.Why != "" {
			return fmt.Sprintf("%s: dropped (%s)", clean(d.Destination), clean(d.Why))
		}
		return fmt.Sprintf("%s: dropped", clean(d.Destination))
	}
	return fmt.Sprintf("%s: %s", clean(d.Destination), clean(d.State))
}

// deliveryJSON is one entry of a run's "delivery" list (docs/json.md).
type deliveryJSON struct {
	Destination       string  `json:"destination"`
	State             string  `json:"state"`
	AcknowledgedBytes int64   `json:"acknowledged_bytes"`
	PendingBytes      int64   `json:"pending_bytes"`
	RefusedRecords    int64   `json:"refused_records"`
	Reason            *string `json:"reason"`
}

func deliveryDoc(ds []Delivery) []deliveryJSON {
	out := make([]deliveryJSON, 0, len(ds))
	for _, d := range ds {
		j := deliveryJSON{Destination: d.Destination, State: d.State, AcknowledgedBytes: d.Acknowledged, RefusedRecords: d.Refused, Reason: sp(d.Why)}
		if d.State == DeliveryPending {
			j.PendingBytes = max(d.Size-d.Acknowledged, 0)
		}
		out = append(out, j)
	}
	return out
}
