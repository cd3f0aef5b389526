package signalspb

// GetMetricId returns x.MetricId.
func (x *Metric) GetMetricId() string {
	if x != nil {
		return x.MetricId
	}
	return ""
}

// GetName returns x.Name.
func (x *Metric) GetName() string {
	if x != nil {
		return x.Name
	}
	return ""
}

// GetTags returns x.Tags.
func (x *Metric) GetTags() []*Tag {
	if x != nil {
		return x.Tags
	}
	return nil
}

// GetType returns x.Type.
func (x *Metric) GetType() Metric_MetricType {
	if x != nil {
		return x.Type
	}
	return 0
}

// GetUnit returns x.Unit.
func (x *Metric) GetUnit() string {
	if x != nil {
		return x.Unit
	}
	return ""
}

// GetDatapoints returns x.Datapoints.
func (x *Metric) GetDatapoints() []*DataPoint {
	if x != nil {
		return x.Datapoints
	}
	return nil
}

// GetFields returns x.Fields.
func (x *Metric) GetFields() []*ProfileField {
	if x != nil {
		return x.Fields
	}
	return nil
}

// GetValue returns x.Value.
func (x *DataPoint) GetValue() isDataPoint_Value {
	if x != nil {
		return x.Value
	}
	return nil
}

// GetMeasurementTs returns x.MeasurementTs.
func (x *DataPoint) GetMeasurementTs() int64 {
	if x != nil {
		return x.MeasurementTs
	}
	return 0
}

// GetCount returns x.Count.
func (x *DataPoint_Summary) GetCount() int64 {
	if x != nil {
		return x.Count
	}
	return 0
}

// GetSum returns x.Sum.
func (x *DataPoint_Summary) GetSum() float64 {
	if x != nil {
		return x.Sum
	}
	return 0
}

// GetSum2 returns x.Sum2.
func (x *DataPoint_Summary) GetSum2() float64 {
	if x != nil {
		return x.Sum2
	}
	return 0
}

// GetBins returns x.Bins.
func (x *DataPoint_Histogram) GetBins() []float64 {
	if x != nil {
		return x.Bins
	}
	return nil
}

// GetCounts returns x.Counts.
func (x *DataPoint_Histogram) GetCounts() []int64 {
	if x != nil {
		return x.Counts
	}
	return nil
}

// GetFieldIds returns x.FieldIds.
func (x *DataPoint_Profile) GetFieldIds() []uint64 {
	if x != nil {
		return x.FieldIds
	}
	return nil
}

// GetValues returns x.Values.
func (x *DataPoint_Profile) GetValues() []float64 {
	if x != nil {
		return x.Values
	}
	return nil
}

// GetFieldId returns x.FieldId.
func (x *ProfileField) GetFieldId() uint64 {
	if x != nil {
		return x.FieldId
	}
	return 0
}

// GetType returns x.Type.
func (x *ProfileField) GetType() ProfileField_FieldType {
	if x != nil {
		return x.Type
	}
	return 0
}

// GetDescriptor_ returns x.Descriptor_.
func (x *ProfileField) GetDescriptor_() map[string]string {
	if x != nil {
		return x.Descriptor_
	}
	return nil
}

// GetGauge returns the gauge case of x.Value, or 0.
func (x *DataPoint) GetGauge() float64 {
	if v, ok := x.GetValue().(*DataPoint_Gauge); ok {
		return v.Gauge
	}
	return 0
}

// GetTotal returns the total case of x.Value, or 0.
func (x *DataPoint) GetTotal() float64 {
	if v, ok := x.GetValue().(*DataPoint_Total); ok {
		return v.Total
	}
	return 0
}

// GetSummary returns the summary case of x.Value, or nil.
func (x *DataPoint) GetSummary() *DataPoint_Summary {
	if v, ok := x.GetValue().(*DataPoint_Summary_); ok {
		return v.Summary
	}
	return nil
}

// GetHistogram returns the histogram case of x.Value, or nil.
func (x *DataPoint) GetHistogram() *DataPoint_Histogram {
	if v, ok := x.GetValue().(*DataPoint_Histogram_); ok {
		return v.Histogram
	}
	return nil
}

// GetProfile returns the profile case of x.Value, or nil.
func (x *DataPoint) GetProfile() *DataPoint_Profile {
	if v, ok := x.GetValue().(*DataPoint_Profile_); ok {
		return v.Profile
	}
	return nil
}
