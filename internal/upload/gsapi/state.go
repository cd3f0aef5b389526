package gsapi

import (
	"encoding/json"
	"fmt"

	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
)

var _ upload.StateKeeper = (*Sender)(nil)

// savedState is the JSON of State: the last accepted point of each counter
// and histogram series, and the runs whose run span was delivered.
type savedState struct {
	Points map[string]savedPoint `json:"points"`
	Done   []telemetry.TraceID   `json:"done,omitempty"`
}

type savedPoint struct {
	Trace   telemetry.TraceID `json:"trace"`
	Value   float64           `json:"value,omitempty"`
	Buckets []float64         `json:"buckets,omitempty"`
	Counts  []uint64          `json:"counts,omitempty"`
	Count   uint64            `json:"count,omitempty"`
	Sum     float64           `json:"sum,omitempty"`
}

// State implements upload.StateKeeper: the series state that makes the
// next points of counters and histograms increases (docs/upload.md).
func (s *Sender) State() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := savedState{Points: make(map[string]savedPoint, len(s.sent.points))}
	for k, p := range s.sent.points {
		st.Points[k] = savedPoint{Trace: p.trace, Value: p.value, Buckets: p.buckets, Counts: p.counts, Count: p.count, Sum: p.sum}
	}
	for t := range s.sent.done {
		st.Done = append(st.Done, t)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("graphsignal api state: %w", err)
	}
	return b, nil
}

// Restore implements upload.StateKeeper: it adds a State's series to what
// the Sender knows, within the same bound as what it sends.
func (s *Sender) Restore(state []byte) error {
	var st savedState
	if err := json.Unmarshal(state, &st); err != nil {
		return fmt.Errorf("graphsignal api state: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := newMapper(s.now(), s.cpuFactor, s.sent, nil)
	for k, p := range st.Points {
		m.next[k] = seriesPoint{trace: p.Trace, value: p.Value, buckets: p.Buckets, counts: p.Counts, count: p.Count, sum: p.Sum}
	}
	m.runs = st.Done
	m.commit(s.sent, maxSeries)
	return nil
}
