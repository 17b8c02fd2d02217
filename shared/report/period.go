package report

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Kind is a report kind.
type Kind string

// Kinds.
const (
	Monthly   Kind = "monthly"
	Quarterly Kind = "quarterly"
)

// Period is one report period: [From, To) in UTC, named by ID (2026-03 or
// 2026-Q1).
type Period struct {
	Kind Kind      `json:"kind"`
	ID   string    `json:"id"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Expected forms, for error messages.
const (
	MonthForm   = "YYYY-MM (e.g. 2026-03)"
	QuarterForm = "YYYY-Qn with n 1 to 4 (e.g. 2026-Q1)"
)

var (
	monthRE   = regexp.MustCompile(`^(\d{4})-(\d{2})$`)
	quarterRE = regexp.MustCompile(`^(\d{4})-Q([1-4])$`)
)

// ErrBadPeriod is returned for a period string not in its expected form.
var ErrBadPeriod = errors.New("bad report period")

// Years reports accept: before Microsoft 365 or far ahead is a typo.
const (
	minYear = 2000
	maxYear = 2999
)

// ParseMonth reads YYYY-MM.
func ParseMonth(s string) (Period, error) {
	m := monthRE.FindStringSubmatch(s)
	if m == nil {
		return Period{}, fmt.Errorf("%w: month must be %s", ErrBadPeriod, MonthForm)
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	if mo < 1 || mo > 12 || y < minYear || y > maxYear {
		return Period{}, fmt.Errorf("%w: month must be %s", ErrBadPeriod, MonthForm)
	}
	return MonthOf(time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, time.UTC)), nil
}

// ParseQuarter reads YYYY-Qn.
func ParseQuarter(s string) (Period, error) {
	m := quarterRE.FindStringSubmatch(s)
	if m == nil {
		return Period{}, fmt.Errorf("%w: quarter must be %s", ErrBadPeriod, QuarterForm)
	}
	y, _ := strconv.Atoi(m[1])
	q, _ := strconv.Atoi(m[2])
	if y < minYear || y > maxYear {
		return Period{}, fmt.Errorf("%w: quarter must be %s", ErrBadPeriod, QuarterForm)
	}
	return QuarterOf(time.Date(y, time.Month(3*(q-1)+1), 1, 0, 0, 0, 0, time.UTC)), nil
}

// Parse reads a period of kind k.
func Parse(k Kind, s string) (Period, error) {
	if k == Quarterly {
		return ParseQuarter(s)
	}
	return ParseMonth(s)
}

// MonthOf is the month holding t (in UTC).
func MonthOf(t time.Time) Period {
	t = t.UTC()
	from := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return Period{Kind: Monthly, ID: from.Format("2006-01"), From: from, To: from.AddDate(0, 1, 0)}
}

// QuarterOf is the quarter holding t (in UTC).
func QuarterOf(t time.Time) Period {
	t = t.UTC()
	q := (int(t.Month()) - 1) / 3
	from := time.Date(t.Year(), time.Month(3*q+1), 1, 0, 0, 0, 0, time.UTC)
	return Period{Kind: Quarterly, ID: fmt.Sprintf("%d-Q%d", t.Year(), q+1), From: from, To: from.AddDate(0, 3, 0)}
}

// Of is the period of kind k holding t.
func Of(k Kind, t time.Time) Period {
	if k == Quarterly {
		return QuarterOf(t)
	}
	return MonthOf(t)
}

// Previous is the period before p.
func (p Period) Previous() Period { return Of(p.Kind, p.From.Add(-time.Nanosecond)) }

// Title names the period for people: "March 2026" or "Q1 2026".
func (p Period) Title() string {
	if p.Kind == Quarterly {
		return p.ID[5:] + " " + p.ID[:4]
	}
	return p.From.Format("January 2006")
}

// Days lists the period's days.
func (p Period) Days() []time.Time {
	var out []time.Time
	for d := p.From; d.Before(p.To); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
	}
	return out
}

// MaxCatchUp bounds how many missed periods one delivery run sends, so a
// tenant monitored for years that never had mail configured does not get
// years of reports at once: the newest are sent, older ones are left.
const MaxCatchUp = 3

// Due lists the periods of kind k that have ended by now, oldest first:
// always the last ended one (a month on the following 1st, a quarter on the
// 1st after it), which is sent even when it holds no data, so stakeholders
// learn monitoring was not running; and earlier ones a missed run left,
// back to the one holding since (when monitoring began), at most MaxCatchUp
// in all.
func Due(k Kind, now, since time.Time) []Period {
	p := Of(k, now).Previous()
	out := []Period{p}
	for len(out) < MaxCatchUp {
		p = p.Previous()
		if !p.To.After(since) {
			break
		}
		out = append([]Period{p}, out...)
	}
	return out
}
