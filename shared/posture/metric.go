package posture

import "time"

// Metric statuses.
const (
	Measured = "measured"
	Unknown  = "unknown"
)

// Metric units.
const (
	UnitRatio   = "ratio"
	UnitMinutes = "minutes"
	UnitPoints  = "points"
	UnitCount   = "count"
	UnitDays    = "days"
)

// Metric is one success metric (README, Metrics). A metric that could not
// be measured has Status Unknown, a Reason and no Value: it is never 0.
type Metric struct {
	Status      string   `json:"status"`
	Value       *float64 `json:"value,omitempty"`
	Numerator   *float64 `json:"numerator,omitempty"`
	Denominator *float64 `json:"denominator,omitempty"`
	Unit        string   `json:"unit"`
	Reason      string   `json:"reason,omitempty"`
	// AsOf is when the data behind the metric was collected.
	AsOf time.Time `json:"asOf"`
	// LastMeasured carries the most recent measured value when this one is
	// unknown, so a failed collection never hides the last good value.
	LastMeasured *Metric `json:"lastMeasured,omitempty"`
	// Unmeasured is set on a ratio whose denominator is only what its source
	// can measure (endpointProtectionCoverage): the items left out of the
	// denominator, counted per platform with the reason. It is present,
	// possibly with total 0, whenever the items were read, also when the
	// ratio itself is unknown.
	Unmeasured *Unmeasured `json:"unmeasured,omitempty"`
}

// Unmeasured counts the items a ratio could not measure, per platform.
type Unmeasured struct {
	Total      int                        `json:"total"`
	ByPlatform map[string]UnmeasuredCount `json:"byPlatform"`
}

// UnmeasuredCount is one platform's unmeasured items and why they could not
// be measured.
type UnmeasuredCount struct {
	Count  int    `json:"count"`
	Reason string `json:"reason"`
}

// NewUnmeasured returns an empty count: nothing left out yet.
func NewUnmeasured() *Unmeasured {
	return &Unmeasured{ByPlatform: map[string]UnmeasuredCount{}}
}

// Add counts one unmeasured item of platform; the platform's first reason is
// kept.
func (u *Unmeasured) Add(platform, reason string) {
	c := u.ByPlatform[platform]
	if c.Count == 0 {
		c.Reason = reason
	}
	c.Count++
	u.ByPlatform[platform] = c
	u.Total++
}

// Ratio builds a measured ratio metric; a zero denominator is unknown with
// the given reason, since 0/0 is not 0%.
func Ratio(num, den int, asOf time.Time, emptyReason string) Metric {
	if den == 0 {
		return UnknownMetric(UnitRatio, emptyReason, asOf)
	}
	v, n, d := float64(num)/float64(den), float64(num), float64(den)
	return Metric{Status: Measured, Value: &v, Numerator: &n, Denominator: &d, Unit: UnitRatio, AsOf: asOf}
}

// RatioF is Ratio over real numbers (Secure Score points).
func RatioF(num, den float64, asOf time.Time, emptyReason string) Metric {
	if den == 0 {
		return UnknownMetric(UnitRatio, emptyReason, asOf)
	}
	v := num / den
	return Metric{Status: Measured, Value: &v, Numerator: &num, Denominator: &den, Unit: UnitRatio, AsOf: asOf}
}

// Value builds a measured scalar metric.
func Value(v float64, unit string, asOf time.Time) Metric {
	return Metric{Status: Measured, Value: &v, Unit: unit, AsOf: asOf}
}

// UnknownMetric builds an unknown metric with its reason.
func UnknownMetric(unit, reason string, asOf time.Time) Metric {
	return Metric{Status: Unknown, Unit: unit, Reason: reason, AsOf: asOf}
}

// IsMeasured reports whether the metric has a value.
func (m Metric) IsMeasured() bool { return m.Status == Measured && m.Value != nil }

// Metric names (README, Metrics).
const (
	MetricMFARegistration    = "mfaRegistration"
	MetricMFAEnforcement     = "mfaEnforcement"
	MetricMFACoverage        = "mfaCoverage"
	MetricAdminMFACoverage   = "adminMfaCoverage"
	MetricDeviceCompliance   = "deviceCompliance"
	MetricEndpointProtection = "endpointProtectionCoverage"
	MetricSecureScore        = "secureScore"
	MetricMTTD               = "meanTimeToDetectMinutes"
	MetricMTTRespond         = "meanTimeToRespondMinutes"
	MetricMTTResolve         = "meanTimeToResolveMinutes"
	MetricRestoreTestSuccess = "restoreTestSuccess"
	MetricDaysSinceRestore   = "daysSinceRestoreTest"
	MetricOpenIncidents      = "openIncidents"
	MetricPendingApprovals   = "pendingApprovals"
	MetricMailAuthenticated  = "mailDomainsAuthenticated"
)

// AreaMetrics lists which metrics each collection area produces.
var AreaMetrics = map[Area][]string{
	AreaIdentity:    {MetricMFARegistration, MetricMFAEnforcement, MetricMFACoverage, MetricAdminMFACoverage},
	AreaDevices:     {MetricDeviceCompliance, MetricEndpointProtection},
	AreaSecureScore: {MetricSecureScore},
	AreaEmail:       {MetricMailAuthenticated},
}
