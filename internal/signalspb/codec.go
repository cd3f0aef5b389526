package signalspb

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *UploadRequest) Unmarshal(b []byte) error {
	*x = UploadRequest{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *UploadRequest) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *UploadResponse) Unmarshal(b []byte) error {
	*x = UploadResponse{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *UploadResponse) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *Tag) Unmarshal(b []byte) error {
	*x = Tag{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *Tag) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *Metric) Unmarshal(b []byte) error {
	*x = Metric{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *Metric) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *DataPoint) Unmarshal(b []byte) error {
	*x = DataPoint{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *DataPoint) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *DataPoint_Summary) Unmarshal(b []byte) error {
	*x = DataPoint_Summary{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *DataPoint_Summary) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *DataPoint_Histogram) Unmarshal(b []byte) error {
	*x = DataPoint_Histogram{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *DataPoint_Histogram) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *DataPoint_Profile) Unmarshal(b []byte) error {
	*x = DataPoint_Profile{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *DataPoint_Profile) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *ProfileField) Unmarshal(b []byte) error {
	*x = ProfileField{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *ProfileField) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *Span) Unmarshal(b []byte) error {
	*x = Span{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *Span) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *SpanEvent) Unmarshal(b []byte) error {
	*x = SpanEvent{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *SpanEvent) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *Attribute) Unmarshal(b []byte) error {
	*x = Attribute{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *Attribute) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *Counter) Unmarshal(b []byte) error {
	*x = Counter{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *Counter) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *LogBatch) Unmarshal(b []byte) error {
	*x = LogBatch{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *LogBatch) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *LogEntry) Unmarshal(b []byte) error {
	*x = LogEntry{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *LogEntry) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *Issue) Unmarshal(b []byte) error {
	*x = Issue{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *Issue) Marshal() []byte {
	return x.AppendMarshal(nil)
}

// Unmarshal replaces x with the message encoded in b (see the package doc).
// The error wraps ErrMalformed; x is then partly decoded.
func (x *Resource) Unmarshal(b []byte) error {
	*x = Resource{}
	return decode(b, x)
}

// Marshal returns the encoding of x (see the package doc).
func (x *Resource) Marshal() []byte {
	return x.AppendMarshal(nil)
}
