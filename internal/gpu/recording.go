package gpu

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Device tags on every gpu.* point, the Graphsignal SDK's keys.
const (
	TagDeviceIndex = "device.index"
	TagDeviceUUID  = "device.uuid"
	TagDeviceName  = "device.name"
	TagDeviceBusID = "device.bus_id"
)

// metricKinds are the kind and unit of each gpu.* series a Sample carries.
var metricKinds = map[string]struct {
	kind telemetry.MetricKind
	unit string
}{
	MetricUtilization:     {telemetry.Gauge, telemetry.UnitPercent},
	MetricMemoryAccess:    {telemetry.Gauge, telemetry.UnitPercent},
	MetricMemoryUsage:     {telemetry.Gauge, telemetry.UnitBytes},
	MetricMemoryFree:      {telemetry.Gauge, telemetry.UnitBytes},
	MetricMemoryTotal:     {telemetry.Gauge, telemetry.UnitBytes},
	MetricTemperature:     {telemetry.Gauge, UnitCelsius},
	MetricPowerUsage:      {telemetry.Gauge, UnitWatts},
	MetricPowerLimit:      {telemetry.Gauge, UnitWatts},
	MetricEnergy:          {telemetry.Counter, UnitJoules},
	MetricClockSM:         {telemetry.Gauge, UnitMegahertz},
	MetricClockMemory:     {telemetry.Gauge, UnitMegahertz},
	MetricPCIeTX:          {telemetry.Gauge, UnitBytesPerSec},
	MetricPCIeRX:          {telemetry.Gauge, UnitBytesPerSec},
	MetricNVLinkTX:        {telemetry.Gauge, UnitBytesPerSec},
	MetricNVLinkRX:        {telemetry.Gauge, UnitBytesPerSec},
	MetricECCCorrected:    {telemetry.Gauge, telemetry.UnitCount},
	MetricECCUncorrected:  {telemetry.Gauge, telemetry.UnitCount},
	MetricThrottleReasons: {telemetry.Gauge, ""},
	MetricSMActivity:      {telemetry.Gauge, telemetry.UnitPercent},
	MetricSMOccupancy:     {telemetry.Gauge, telemetry.UnitPercent},
	MetricTensorActivity:  {telemetry.Gauge, telemetry.UnitPercent},
	MetricDRAMBandwidth:   {telemetry.Gauge, telemetry.UnitPercent},
}

// RecordingConfig configures a Recording.
type RecordingConfig struct {
	// Trace is the run's trace: every record belongs to it.
	Trace telemetry.TraceID
	// RunSpan is the run span, the span of the XID error logs.
	RunSpan telemetry.SpanID
	// Out receives the records (metrics, error logs) as they are made.
	Out func(telemetry.Batch)
	// InTree reports whether a process, by its PID in NVML's namespace,
	// belongs to the program's tree; nil attributes no process (the
	// per-process series are not made).
	InTree func(pid int) bool
}

// Recording turns the sampler's report into the run's records and keeps
// the run's GPU summary. Its methods are safe for concurrent use.
type Recording struct {
	cfg RecordingConfig

	mu      sync.Mutex
	system  System
	devices []*deviceRun // in Hello's order
	byUUID  map[string]*deviceRun
	xids    []XID
	gone    []Gone
	notes   []string
	// helloSeen: the sampler's Hello came (devices or none).
	helloSeen bool
	stopped   bool
}

// deviceRun is one device's summary so far.
type deviceRun struct {
	Device
	tags              telemetry.Tags
	samples           int
	utilSum, utilPeak float64
	utilSamples       int
	memPeak           float64
	energy            float64
	haveEnergy        bool
	processMemPeak    float64
	haveProcessMemory bool
}

// NewRecording returns an empty Recording.
func NewRecording(cfg RecordingConfig) *Recording {
	return &Recording{cfg: cfg, byUUID: map[string]*deviceRun{}}
}

// Reported reports whether the sampler has said anything yet: its Hello,
// or a note of why it cannot sample.
func (r *Recording) Reported() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.devices) > 0 || len(r.notes) > 0 || r.helloSeen
}

// Stop ends the Recording: later messages are ignored (a sampler that
// outlived its Stop may still be read), so that nothing reaches Out once
// the run has ended.
func (r *Recording) Stop() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
}

// Handle takes one message of the report.
func (r *Recording) Handle(m Message) {
	r.mu.Lock()
	stopped := r.stopped
	r.mu.Unlock()
	if stopped {
		return
	}
	switch {
	case m.Hello != nil:
		r.hello(*m.Hello)
	case m.Sample != nil:
		r.sample(*m.Sample)
	case m.XID != nil:
		r.xid(*m.XID)
	case m.Gone != nil:
		r.mu.Lock()
		r.gone = append(r.gone, *m.Gone)
		r.mu.Unlock()
	case m.Note != "":
		r.mu.Lock()
		r.notes = append(r.notes, m.Note)
		r.mu.Unlock()
	}
}

func (r *Recording) hello(h Hello) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.system = h.System
	r.helloSeen = true
	for _, d := range h.Devices {
		if d.UUID == "" || r.byUUID[d.UUID] != nil {
			continue
		}
		dr := &deviceRun{Device: d, tags: telemetry.Tags{
			TagDeviceIndex: strconv.Itoa(d.Index),
			TagDeviceUUID:  d.UUID,
		}}
		if d.Name != "" {
			dr.tags[TagDeviceName] = d.Name
		}
		if d.BusID != "" {
			dr.tags[TagDeviceBusID] = d.BusID
		}
		r.devices = append(r.devices, dr)
		r.byUUID[d.UUID] = dr
	}
}

func (r *Recording) sample(s Sample) {
	r.mu.Lock()
	var out []telemetry.Metric
	point := func(dr *deviceRun, name string, kind telemetry.MetricKind, unit string, v float64) {
		out = append(out, telemetry.Metric{TraceID: r.cfg.Trace, Name: name, Kind: kind, Unit: unit,
			Tags: dr.tags.Clone(), Time: s.Time, Value: v})
	}
	for _, ds := range s.Devices {
		dr := r.byUUID[ds.UUID]
		if dr == nil {
			continue // not in Hello: not a visible device
		}
		dr.samples++
		for _, name := range sortedKeys(ds.Values) {
			k, ok := metricKinds[name]
			if !ok {
				continue
			}
			v := ds.Values[name]
			point(dr, name, k.kind, k.unit, v)
			switch name {
			case MetricUtilization:
				dr.utilSum += v
				dr.utilSamples++
				dr.utilPeak = max(dr.utilPeak, v)
			case MetricMemoryUsage:
				dr.memPeak = max(dr.memPeak, v)
			case MetricEnergy:
				dr.energy, dr.haveEnergy = v, true
			}
		}
	}
	if r.cfg.InTree != nil {
		type use struct {
			mem  float64
			util float64
			have bool // some process gave its utilisation
		}
		uses := map[string]*use{}
		for _, p := range s.Processes {
			if r.byUUID[p.UUID] == nil || !r.cfg.InTree(p.PID) {
				continue
			}
			u := uses[p.UUID]
			if u == nil {
				u = &use{}
				uses[p.UUID] = u
			}
			u.mem += float64(p.MemoryUsed)
			if p.Utilization != nil {
				u.util += *p.Utilization
				u.have = true
			}
		}
		// Every device gets a point, 0 when the tree has nothing on it:
		// the series says when the program held GPU memory and when not.
		for _, dr := range r.devices {
			u := uses[dr.UUID]
			if u == nil {
				u = &use{}
			}
			point(dr, MetricProcessMemory, telemetry.Gauge, telemetry.UnitBytes, u.mem)
			if u.have {
				point(dr, MetricProcessUtilization, telemetry.Gauge, telemetry.UnitPercent, u.util)
			}
			dr.processMemPeak = max(dr.processMemPeak, u.mem)
			dr.haveProcessMemory = true
		}
	}
	r.mu.Unlock()
	if len(out) > 0 {
		r.cfg.Out(telemetry.Batch{Metrics: out})
	}
}

// xid records an XID event: an error log now, a point of the device's
// XID counter, and an event of the run span at the end (Result).
func (r *Recording) xid(x XID) {
	r.mu.Lock()
	r.xids = append(r.xids, x)
	n := 0
	tags := telemetry.Tags{}
	for _, y := range r.xids {
		if y.UUID == x.UUID {
			n++
		}
	}
	name := ""
	if dr := r.byUUID[x.UUID]; dr != nil {
		tags = dr.tags.Clone()
		name = dr.label()
	}
	r.mu.Unlock()
	logTags := telemetry.Tags{"gpu.xid": strconv.FormatUint(x.Code, 10)}
	maps.Copy(logTags, tags)
	r.cfg.Out(telemetry.Batch{
		Metrics: []telemetry.Metric{{TraceID: r.cfg.Trace, Name: MetricXIDErrors, Kind: telemetry.Counter,
			Unit: telemetry.UnitCount, Tags: tags, Time: x.Time, Value: float64(n)}},
		Logs: []telemetry.Log{{Time: x.Time, Level: "ERROR", Message: x.Describe(name), Tags: logTags,
			TraceID: r.cfg.Trace, SpanID: r.cfg.RunSpan}},
	})
}

// label names a device for people: "GPU 3 (NVIDIA H100 80GB HBM3)".
func (d *deviceRun) label() string {
	s := d.Short()
	if d.Name != "" {
		s += " (" + d.Name + ")"
	}
	return s
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Short names a device in few words: "GPU 3", or "GPU 3 MIG-<uuid>" for
// a MIG device of GPU 3.
func (d Device) Short() string {
	s := "GPU " + strconv.Itoa(d.Index)
	if d.Parent != "" {
		s += " " + d.UUID
	}
	return s
}

// Result is the run's GPU summary.
type Result struct {
	System  System
	Devices []DeviceResult
	XIDs    []XID
	Gone    []Gone
	Notes   []string
}

// DeviceResult is one device's part of the run.
type DeviceResult struct {
	Device
	Samples int
	// UtilizationAvg and UtilizationPeak are the mean and the largest
	// gpu.utilization of the samples (NaN-free: 0 when none had it).
	UtilizationAvg, UtilizationPeak float64
	HaveUtilization                 bool
	// MemoryPeak is the largest gpu.memory.usage, in bytes.
	MemoryPeak uint64
	// Energy is the device's energy used during the run, in joules.
	Energy     float64
	HaveEnergy bool
	// ProcessMemoryPeak is the most GPU memory the program's tree held on
	// the device at once, in bytes; HaveProcessMemory is false when the
	// tree's processes could not be told apart (docs/gpu.md).
	ProcessMemoryPeak uint64
	HaveProcessMemory bool
}

// Label names the device for people: "GPU 3 (NVIDIA H100 80GB HBM3)".
func (d DeviceResult) Label() string {
	return (&deviceRun{Device: d.Device}).label()
}

// Result returns the summary so far.
func (r *Recording) Result() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{System: r.system, XIDs: slices.Clone(r.xids), Gone: slices.Clone(r.gone), Notes: slices.Clone(r.notes)}
	for _, dr := range r.devices {
		d := DeviceResult{Device: dr.Device, Samples: dr.samples, UtilizationPeak: dr.utilPeak,
			HaveUtilization: dr.utilSamples > 0, MemoryPeak: uint64(dr.memPeak),
			Energy: dr.energy, HaveEnergy: dr.haveEnergy,
			ProcessMemoryPeak: uint64(dr.processMemPeak), HaveProcessMemory: dr.haveProcessMemory}
		if dr.utilSamples > 0 {
			d.UtilizationAvg = dr.utilSum / float64(dr.utilSamples)
		}
		res.Devices = append(res.Devices, d)
	}
	return res
}

// DeviceLabel names the device of uuid as Result does, or the uuid when
// the device is not known.
func (res Result) DeviceLabel(uuid string) string {
	for _, d := range res.Devices {
		if d.UUID == uuid {
			return d.Label()
		}
	}
	if uuid == "" {
		return ""
	}
	return "GPU " + uuid
}

// Fatal returns the first XID that means a device was lost, and a Gone
// as such an XID (79) when no XID said so; ok is false when neither.
func (res Result) Fatal() (XID, bool) {
	for _, x := range res.XIDs {
		if x.Fatal() {
			return x, true
		}
	}
	if len(res.Gone) > 0 {
		g := res.Gone[0]
		return XID{Time: g.Time, UUID: g.UUID, Code: 79}, true
	}
	return XID{}, false
}

// Attributes are the run span's GPU attributes (docs/gpu.md): the driver,
// and per device its facts and its part of the run, under gpu.<n>. where
// n is the device's position in the sampler's Hello (a MIG device shares
// its GPU's NVML index, so the index is a field: gpu.<n>.index).
func (res Result) Attributes() map[string]any {
	a := map[string]any{}
	if len(res.Devices) == 0 {
		return a
	}
	a["gpu.count"] = int64(len(res.Devices))
	if v := res.System.DriverVersion; v != "" {
		a["gpu.driver.version"] = v
	}
	if v := res.System.CUDAVersion; v != "" {
		a["gpu.cuda.version"] = v
	}
	for n, d := range res.Devices {
		p := fmt.Sprintf("gpu.%d.", n)
		set := func(k string, v any) { a[p+k] = v }
		set("index", int64(d.Index))
		set("uuid", d.UUID)
		for k, v := range map[string]string{"name": d.Name, "bus_id": d.BusID, "architecture": d.Architecture,
			"compute_capability": d.ComputeCapability, "mig": d.MIG, "parent": d.Parent} {
			if v != "" {
				set(k, v)
			}
		}
		if d.MemoryTotal > 0 {
			set("memory.total", int64(d.MemoryTotal))
		}
		if d.HaveUtilization {
			set("utilization.avg", d.UtilizationAvg)
			set("utilization.peak", d.UtilizationPeak)
		}
		if d.MemoryPeak > 0 {
			set("memory.peak", int64(d.MemoryPeak))
		}
		if d.HaveEnergy {
			set("energy", d.Energy)
		}
		if d.HaveProcessMemory {
			set("process.memory.peak", int64(d.ProcessMemoryPeak))
		}
	}
	if len(res.XIDs) > 0 {
		a["gpu.xid.count"] = int64(len(res.XIDs))
	}
	return a
}

// Events are the run span's events of the GPU: one per XID and per device
// lost.
func (res Result) Events() []telemetry.Event {
	var out []telemetry.Event
	for _, x := range res.XIDs {
		attrs := map[string]any{"gpu.xid": int64(x.Code), TagDeviceUUID: x.UUID,
			"message": x.Describe(res.DeviceLabel(x.UUID))}
		if m := XIDMeaning(x.Code); m != "" {
			attrs["gpu.xid.meaning"] = m
		}
		out = append(out, telemetry.Event{Name: "gpu.xid", Time: x.Time, Attributes: attrs})
	}
	for _, g := range res.Gone {
		out = append(out, telemetry.Event{Name: "gpu.lost", Time: g.Time, Attributes: map[string]any{
			TagDeviceUUID: g.UUID, "message": res.DeviceLabel(g.UUID) + " stopped answering: " + g.Reason}})
	}
	return out
}

// Lost describes the first device lost during the run, for the run's
// error: "XID 79 on GPU 3 (NVIDIA H100): GPU has fallen off the bus".
func (res Result) Lost() (string, bool) {
	x, ok := res.Fatal()
	if !ok {
		return "", false
	}
	return x.Describe(res.DeviceLabel(x.UUID)), true
}

// ParseAttributes reads back the per-device part of Attributes from a run
// span's attributes (as stored: numbers may come back as float64), in the
// sampler's order. Counts of samples are not stored, and come back 0.
func ParseAttributes(a map[string]any) []DeviceResult {
	n, ok := intOf(a["gpu.count"])
	if !ok || n <= 0 {
		return nil
	}
	byIndex := map[int]*DeviceResult{}
	var order []int
	for key := range a {
		rest, found := strings.CutPrefix(key, "gpu.")
		if !found {
			continue
		}
		idx, field, found := strings.Cut(rest, ".")
		i, err := strconv.Atoi(idx)
		if !found || err != nil || i < 0 {
			continue
		}
		d := byIndex[i]
		if d == nil {
			d = &DeviceResult{Device: Device{Index: i}}
			byIndex[i] = d
			order = append(order, i)
		}
		v := a[key]
		str, _ := v.(string)
		num, isNum := floatOf(v)
		switch field {
		case "index":
			d.Index = int(num)
		case "uuid":
			d.UUID = str
		case "parent":
			d.Parent = str
		case "name":
			d.Name = str
		case "bus_id":
			d.BusID = str
		case "architecture":
			d.Architecture = str
		case "compute_capability":
			d.ComputeCapability = str
		case "mig":
			d.MIG = str
		case "memory.total":
			d.MemoryTotal = uint64(num)
		case "utilization.avg":
			d.UtilizationAvg, d.HaveUtilization = num, isNum
		case "utilization.peak":
			d.UtilizationPeak = num
		case "memory.peak":
			d.MemoryPeak = uint64(num)
		case "energy":
			d.Energy, d.HaveEnergy = num, isNum
		case "process.memory.peak":
			d.ProcessMemoryPeak, d.HaveProcessMemory = uint64(num), isNum
		}
	}
	slices.Sort(order)
	out := make([]DeviceResult, 0, len(order))
	for _, i := range order {
		out = append(out, *byIndex[i])
	}
	return out
}

func floatOf(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

func intOf(v any) (int64, bool) {
	f, ok := floatOf(v)
	return int64(f), ok
}
