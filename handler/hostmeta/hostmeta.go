// Package hostmeta reads what the Functions host reads: host.json and each
// function folder's function.json. The handler derives its routes, schedules
// and queue subscriptions from it, so a function cannot exist on one side only.
package hostmeta

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Binding types the product uses.
const (
	TimerTrigger      = "timerTrigger"
	ServiceBusTrigger = "serviceBusTrigger"
	HTTPTrigger       = "httpTrigger"
	HTTPOutput        = "http"
)

// Binding is one entry of a function.json "bindings" array. Only the fields
// the product relies on are typed.
type Binding struct {
	Type         string   `json:"type"`
	Direction    string   `json:"direction"`
	Name         string   `json:"name"`
	Schedule     string   `json:"schedule,omitempty"`
	RunOnStartup bool     `json:"runOnStartup,omitempty"`
	UseMonitor   *bool    `json:"useMonitor,omitempty"`
	QueueName    string   `json:"queueName,omitempty"`
	Connection   string   `json:"connection,omitempty"`
	AuthLevel    string   `json:"authLevel,omitempty"`
	Methods      []string `json:"methods,omitempty"`
	Route        string   `json:"route,omitempty"`
}

// Function is one function folder.
type Function struct {
	Name     string    `json:"-"`
	Bindings []Binding `json:"bindings"`
	Disabled bool      `json:"disabled,omitempty"`
}

// Trigger returns the function's single trigger binding.
func (f Function) Trigger() Binding {
	for _, b := range f.Bindings {
		if b.Direction == "in" && strings.HasSuffix(b.Type, "Trigger") {
			return b
		}
	}
	return Binding{}
}

// Host is the part of host.json the product relies on.
type Host struct {
	Version         string `json:"version"`
	FunctionTimeout string `json:"functionTimeout"`
	CustomHandler   struct {
		Description struct {
			DefaultExecutablePath string   `json:"defaultExecutablePath"`
			WorkingDirectory      string   `json:"workingDirectory"`
			Arguments             []string `json:"arguments"`
		} `json:"description"`
		EnableForwardingHTTPRequest bool `json:"enableForwardingHttpRequest"`
	} `json:"customHandler"`
	ExtensionBundle struct {
		ID      string `json:"id"`
		Version string `json:"version"`
	} `json:"extensionBundle"`
	Extensions struct {
		HTTP struct {
			RoutePrefix *string `json:"routePrefix"`
		} `json:"http"`
		ServiceBus struct {
			AutoCompleteMessages *bool `json:"autoCompleteMessages"`
			MaxConcurrentCalls   int   `json:"maxConcurrentCalls"`
			// MaxAutoLockRenewalDuration is how long the host keeps renewing a
			// message's lock while its function runs (hh:mm:ss).
			MaxAutoLockRenewalDuration string `json:"maxAutoLockRenewalDuration"`
		} `json:"serviceBus"`
	} `json:"extensions"`
}

// RoutePrefix returns the HTTP route prefix, "api" unless host.json says otherwise.
func (h Host) RoutePrefix() string {
	if p := h.Extensions.HTTP.RoutePrefix; p != nil {
		return *p
	}
	return "api"
}

// App is host.json plus every function, sorted by name.
type App struct {
	Root      string
	Host      Host
	Functions []Function
}

// Function returns the named function.
func (a App) Function(name string) (Function, bool) {
	for _, f := range a.Functions {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// Locate finds the app root from dir: a deployed app keeps function folders
// beside host.json; the repository keeps them under functions/. It returns the
// directory holding host.json and the directory holding the function folders.
func Locate(dir string) (hostDir, functionsDir string, err error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "host.json")); err == nil {
			if st, err := os.Stat(filepath.Join(d, "functions")); err == nil && st.IsDir() {
				return d, filepath.Join(d, "functions"), nil
			}
			return d, d, nil
		}
		if filepath.Dir(d) == d {
			return "", "", fmt.Errorf("no host.json in %s or any parent directory", dir)
		}
	}
}

// Load reads host.json from hostDir and every <name>/function.json under
// functionsDir, and validates them. getenv expands %SETTING% references in
// schedules as the host does.
func Load(hostDir, functionsDir string, getenv func(string) string) (App, error) {
	app := App{Root: hostDir}
	b, err := os.ReadFile(filepath.Join(hostDir, "host.json"))
	if err != nil {
		return app, fmt.Errorf("read host.json: %w", err)
	}
	if err := strictUnmarshal(b, &app.Host); err != nil {
		return app, fmt.Errorf("parse host.json: %w", err)
	}
	entries, err := os.ReadDir(functionsDir)
	if err != nil {
		return app, fmt.Errorf("read function folders: %w", err)
	}
	var errs []error
	for _, e := range entries {
		p := filepath.Join(functionsDir, e.Name(), "function.json")
		if !e.IsDir() {
			continue
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue // bin/, node_modules and the like beside a deployed app
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", p, err))
			continue
		}
		f := Function{Name: e.Name()}
		if err := strictUnmarshal(b, &f); err != nil {
			errs = append(errs, fmt.Errorf("parse %s: %w", p, err))
			continue
		}
		if err := f.validate(getenv); err != nil {
			errs = append(errs, fmt.Errorf("function %s: %w", f.Name, err))
			continue
		}
		app.Functions = append(app.Functions, f)
	}
	sort.Slice(app.Functions, func(i, j int) bool { return app.Functions[i].Name < app.Functions[j].Name })
	if len(app.Functions) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("no function folders under %s", functionsDir))
	}
	return app, errors.Join(errs...)
}

// strictUnmarshal decodes JSON; unknown fields are allowed (the host defines
// many we do not use) but trailing garbage is not.
func strictUnmarshal(b []byte, v any) error {
	if !json.Valid(b) {
		return errors.New("not valid JSON")
	}
	return json.Unmarshal(b, v)
}

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,127}$`)

func (f Function) validate(getenv func(string) string) error {
	if !nameRE.MatchString(f.Name) {
		return fmt.Errorf("folder name %q is not a valid function name", f.Name)
	}
	var triggers []Binding
	for _, b := range f.Bindings {
		if b.Direction != "in" && b.Direction != "out" && b.Direction != "inout" {
			return fmt.Errorf("binding %q has direction %q", b.Name, b.Direction)
		}
		if b.Name == "" || b.Type == "" {
			return errors.New("a binding lacks a name or type")
		}
		if strings.HasSuffix(b.Type, "Trigger") {
			if b.Direction != "in" {
				return fmt.Errorf("trigger %q must have direction in", b.Name)
			}
			triggers = append(triggers, b)
		}
	}
	if len(triggers) != 1 {
		return fmt.Errorf("has %d trigger bindings, want exactly 1", len(triggers))
	}
	t := triggers[0]
	switch t.Type {
	case TimerTrigger:
		if _, err := ParseSchedule(Expand(t.Schedule, getenv)); err != nil {
			return fmt.Errorf("schedule %q: %w", t.Schedule, err)
		}
	case ServiceBusTrigger:
		if t.QueueName == "" {
			return errors.New("serviceBusTrigger needs a queueName")
		}
		if t.Connection == "" {
			return errors.New("serviceBusTrigger needs a connection setting name")
		}
	case HTTPTrigger:
		switch t.AuthLevel {
		case "anonymous", "function", "admin":
		default:
			return fmt.Errorf("httpTrigger authLevel %q is not anonymous, function or admin", t.AuthLevel)
		}
		if len(t.Methods) == 0 {
			return errors.New("httpTrigger must list its methods")
		}
		for _, m := range t.Methods {
			if !httpMethods[strings.ToLower(m)] {
				return fmt.Errorf("httpTrigger method %q is not an HTTP method", m)
			}
		}
		if t.Route == "" {
			return errors.New("httpTrigger must declare a route")
		}
		var out int
		for _, b := range f.Bindings {
			if b.Direction == "out" {
				out++
				if b.Type != HTTPOutput {
					return fmt.Errorf("http function has a %s output; forwarding needs http in and out only", b.Type)
				}
			}
		}
		if out != 1 || len(f.Bindings) != 2 {
			return errors.New("http function must have exactly an httpTrigger and one http output to be forwarded")
		}
	default:
		return fmt.Errorf("trigger type %q is not used by this product", t.Type)
	}
	return nil
}

// httpMethods are the values the host accepts in "methods".
var httpMethods = map[string]bool{"get": true, "post": true, "put": true, "delete": true,
	"patch": true, "head": true, "options": true, "trace": true}

var settingRE = regexp.MustCompile(`%([A-Za-z0-9_]+)%`)

// Expand replaces %SETTING% with the setting's value, as the host does for
// binding expressions.
func Expand(s string, getenv func(string) string) string {
	return settingRE.ReplaceAllStringFunc(s, func(m string) string {
		return getenv(strings.Trim(m, "%"))
	})
}

// Schedule is a parsed six-field NCRONTAB expression, evaluated in UTC.
type Schedule struct {
	spec *cron.SpecSchedule
}

var ncrontab = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// starBit is robfig/cron's marker for a field written as "*" (spec.go).
const starBit = 1 << 63

// ParseSchedule parses a six-field NCRONTAB expression
// ({second} {minute} {hour} {day} {month} {day-of-week}). Five-field cron
// lines are refused: they are the classic copy-paste bug. So are schedules
// that never fire and robfig-only syntax ("?", descriptors) the host rejects.
func ParseSchedule(expr string) (Schedule, error) {
	if n := len(strings.Fields(expr)); n != 6 {
		return Schedule{}, fmt.Errorf("NCRONTAB needs 6 fields, got %d", n)
	}
	if strings.Contains(expr, "?") {
		return Schedule{}, errors.New(`NCRONTAB has no "?" wildcard; use "*"`)
	}
	s, err := ncrontab.Parse(expr)
	if err != nil {
		return Schedule{}, err
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return Schedule{}, fmt.Errorf("%q is not a field schedule", expr)
	}
	// NCRONTAB fires only on days matching both the day-of-month and the
	// day-of-week fields ("0 0 9 1-7 * Mon" is the first Monday), where
	// classic cron, and robfig, fire on either when both are restricted.
	// robfig switches to "both" as soon as either field carries its star
	// marker, which no day bit uses.
	spec.Dom |= starBit
	sched := Schedule{spec: spec}
	if sched.Next(time.Now()).IsZero() {
		return Schedule{}, errors.New("schedule has no occurrence in the next five years")
	}
	return sched, nil
}

// Next returns the first occurrence strictly after t, in UTC, or the zero
// time when there is none within five years.
func (s Schedule) Next(t time.Time) time.Time {
	if s.spec == nil {
		return time.Time{}
	}
	return s.spec.Next(t.UTC())
}
