package hostmeta_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/handler/hostmeta"
)

// mustRepoRoot walks up from the test's directory to the one holding go.mod.
func mustRepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	require.NoError(tb, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(tb, dir, parent, "no go.mod above the test directory")
		dir = parent
	}
}

// noSettings is getenv for an app whose schedules must be literal.
func noSettings(string) string { return "" }

func mustLoadRepo(tb testing.TB) hostmeta.App {
	tb.Helper()
	root := mustRepoRoot(tb)
	app, err := hostmeta.Load(root, filepath.Join(root, "functions"), noSettings)
	require.NoError(tb, err)
	return app
}

// anonymousFunctions are the Graph-facing endpoints: Graph cannot send a
// function key, so they validate clientState themselves (CONTRACT §4).
// anonymousFunctions need no function key: Graph's webhooks, and the
// console, which a browser opens behind App Service Authentication.
var anonymousFunctions = map[string]bool{"Notifications": true, "NotificationsLifecycle": true, "Console": true}

func TestRepositoryFunctions(t *testing.T) {
	app := mustLoadRepo(t)
	root := mustRepoRoot(t)

	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	require.NoError(t, err)
	var folders []string
	for _, e := range entries {
		if e.IsDir() {
			folders = append(folders, e.Name())
		}
	}
	var loaded []string
	for _, f := range app.Functions {
		loaded = append(loaded, f.Name)
	}
	require.Equal(t, folders, loaded, "every folder under functions/ loads, in name order")

	kinds := map[string]int{}
	for _, f := range app.Functions {
		t.Run(f.Name, func(t *testing.T) {
			var triggers []hostmeta.Binding
			for _, b := range f.Bindings {
				if strings.HasSuffix(b.Type, "Trigger") {
					triggers = append(triggers, b)
				}
			}
			require.Len(t, triggers, 1, "exactly one trigger")
			tr := f.Trigger()
			require.Equal(t, triggers[0], tr)
			require.Equal(t, "in", tr.Direction)
			require.False(t, f.Disabled)
			kinds[tr.Type]++

			switch tr.Type {
			case hostmeta.TimerTrigger:
				require.Len(t, f.Bindings, 1, "timer functions have no other bindings")
				require.Equal(t, "timer", tr.Name)
				require.False(t, tr.RunOnStartup, "runOnStartup fires on every scale-out and restart")
				require.True(t, tr.UseMonitor == nil || *tr.UseMonitor, "missed slots are caught up only when monitored")
				s, err := hostmeta.ParseSchedule(hostmeta.Expand(tr.Schedule, noSettings))
				require.NoError(t, err)
				requireFiresDaily(t, s)
			case hostmeta.ServiceBusTrigger:
				require.Len(t, f.Bindings, 1)
				require.Equal(t, map[string]string{"ProcessChangeNotification": "notifications", "RunTenantWork": "tenantwork", "ExecuteResponse": "responseactions"}[f.Name], tr.QueueName)
				require.Equal(t, "ServiceBusConnection", tr.Connection)
				require.Equal(t, "msg", tr.Name)
			case hostmeta.HTTPTrigger:
				// Forwarding needs exactly httpTrigger in + http out.
				require.Len(t, f.Bindings, 2)
				out := f.Bindings[1]
				if out.Direction == "in" {
					out = f.Bindings[0]
				}
				require.Equal(t, hostmeta.HTTPOutput, out.Type)
				require.Equal(t, "out", out.Direction)
				require.NotEmpty(t, tr.Methods)
				require.NotEmpty(t, tr.Route)
				require.False(t, strings.HasPrefix(tr.Route, "/"), "routes are relative to the route prefix")
				// host.json's routePrefix is empty so that the console can
				// serve the site root; the API spells its prefix itself.
				if f.Name == "Console" {
					require.Equal(t, "{*path}", tr.Route)
				} else {
					require.True(t, strings.HasPrefix(tr.Route, "api/"), "the API keeps its /api/ paths")
				}
				want := "function"
				if anonymousFunctions[f.Name] {
					want = "anonymous"
				}
				require.Equal(t, want, tr.AuthLevel)
			default:
				require.Failf(t, "unexpected trigger", "%s has trigger %s", f.Name, tr.Type)
			}
		})
	}
	require.Positive(t, kinds[hostmeta.TimerTrigger], "the collectors are timer functions")
	require.Equal(t, 3, kinds[hostmeta.ServiceBusTrigger], "change notifications, per-tenant work and response actions")
	for name := range anonymousFunctions {
		f, ok := app.Function(name)
		require.True(t, ok, "%s exists", name)
		require.Equal(t, hostmeta.HTTPTrigger, f.Trigger().Type)
	}
}

// requireFiresDaily checks over two weeks that no gap between occurrences
// exceeds a day, so daily posture data never has holes.
func requireFiresDaily(tb testing.TB, s hostmeta.Schedule) {
	tb.Helper()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := start
	for prev.Before(start.AddDate(0, 0, 14)) {
		next := s.Next(prev)
		require.False(tb, next.IsZero())
		require.LessOrEqual(tb, next.Sub(prev), 24*time.Hour, "gap after %s", prev)
		prev = next
	}
}

func TestRepositoryHostJSON(t *testing.T) {
	app := mustLoadRepo(t)
	h := app.Host
	require.Equal(t, "2.0", h.Version)
	require.Equal(t, "handler", h.CustomHandler.Description.DefaultExecutablePath)
	require.True(t, h.CustomHandler.EnableForwardingHTTPRequest, "HTTP functions are forwarded as plain requests")
	require.Equal(t, "Microsoft.Azure.Functions.ExtensionBundle", h.ExtensionBundle.ID)
	require.Equal(t, "[4.*, 5.0.0)", h.ExtensionBundle.Version)
	require.NotNil(t, h.Extensions.HTTP.RoutePrefix)
	// The console is served at the site root, so the prefix is empty and
	// each API function spells api/ in its own route.
	require.Equal(t, "", h.RoutePrefix())
	require.NotNil(t, h.Extensions.ServiceBus.AutoCompleteMessages)
	require.True(t, *h.Extensions.ServiceBus.AutoCompleteMessages, "2xx completes, non-2xx abandons")

	timeout, err := time.Parse("15:04:05", h.FunctionTimeout)
	require.NoError(t, err, "functionTimeout is hh:mm:ss")
	d := time.Duration(timeout.Hour())*time.Hour + time.Duration(timeout.Minute())*time.Minute + time.Duration(timeout.Second())*time.Second
	require.Positive(t, d)
	require.LessOrEqual(t, d, 10*time.Minute, "Consumption allows at most 10 minutes")

	renew, err := time.Parse("15:04:05", h.Extensions.ServiceBus.MaxAutoLockRenewalDuration)
	require.NoError(t, err, "maxAutoLockRenewalDuration is hh:mm:ss")
	r := time.Duration(renew.Hour())*time.Hour + time.Duration(renew.Minute())*time.Minute + time.Duration(renew.Second())*time.Second
	require.GreaterOrEqual(t, r, d, "a tenant's work that runs up to the function timeout keeps its message lock, so it is not delivered twice at once")
}

func TestMakefilePackagesTheExecutableHostJSONNames(t *testing.T) {
	app := mustLoadRepo(t)
	b, err := os.ReadFile(filepath.Join(mustRepoRoot(t), "Makefile"))
	require.NoError(t, err)

	// The package target's recipe: the lines after "package:" up to the
	// next blank line or rule.
	lines := strings.Split(string(b), "\n")
	var recipe []string
	for i, l := range lines {
		if strings.HasPrefix(l, "package:") {
			for _, r := range lines[i+1:] {
				if !strings.HasPrefix(r, "\t") {
					break
				}
				recipe = append(recipe, r)
			}
			break
		}
	}
	require.NotEmpty(t, recipe, "Makefile has a package target")
	build := ""
	for _, r := range recipe {
		if strings.Contains(r, " build ") {
			build = r
		}
	}
	require.NotEmpty(t, build, "the package target builds the binary")
	require.Contains(t, build, "GOOS=$(PKG_GOOS)")
	require.Contains(t, build, "GOARCH=$(PKG_GOARCH)")
	require.Contains(t, string(b), "\nPKG_GOOS ?= linux\n", "linux/amd64 unless asked otherwise")
	require.Contains(t, string(b), "\nPKG_GOARCH ?= amd64\n")
	out := regexp.MustCompile(`-o\s+(\S+)`).FindStringSubmatch(build)
	require.Len(t, out, 2, "the build names its output")

	// tools/stage puts the binary beside host.json under the name host.json
	// gives (defaultExecutablePath), and the function folders with it; its
	// own tests stage this repository.
	joined := strings.Join(recipe, "\n")
	require.Contains(t, joined, "./tools/stage -binary "+out[1]+" -out dist")
	require.Equal(t, "handler", app.Host.CustomHandler.Description.DefaultExecutablePath, "tools/stage and the README expect this name")
}

const validHost = `{
  "version": "2.0",
  "customHandler": { "description": { "defaultExecutablePath": "handler" }, "enableForwardingHttpRequest": true },
  "extensionBundle": { "id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)" }
}`

const (
	validTimer = `{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"0 0 2 * * *"}]}`
	validQueue = `{"bindings":[{"type":"serviceBusTrigger","direction":"in","name":"msg","queueName":"notifications","connection":"ServiceBusConnection"}]}`
	validHTTP  = `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"function","methods":["get"],"route":"health"},{"type":"http","direction":"out","name":"res"}]}`
)

// newTestApp writes host.json and one folder per function into a temp dir
// and returns the host and functions directories.
func newTestApp(tb testing.TB, host string, functions map[string]string) (string, string) {
	tb.Helper()
	root := tb.TempDir()
	require.NoError(tb, os.WriteFile(filepath.Join(root, "host.json"), []byte(host), 0o644))
	fnDir := filepath.Join(root, "functions")
	require.NoError(tb, os.MkdirAll(fnDir, 0o755))
	for name, body := range functions {
		require.NoError(tb, os.MkdirAll(filepath.Join(fnDir, name), 0o755))
		require.NoError(tb, os.WriteFile(filepath.Join(fnDir, name, "function.json"), []byte(body), 0o644))
	}
	return root, fnDir
}

func TestLoadValidApp(t *testing.T) {
	hostDir, fnDir := newTestApp(t, validHost, map[string]string{"Timer": validTimer, "Queue": validQueue, "Health": validHTTP})
	require.NoError(t, os.MkdirAll(filepath.Join(fnDir, "bin"), 0o755)) // no function.json: skipped
	require.NoError(t, os.WriteFile(filepath.Join(fnDir, "README.md"), []byte("x"), 0o644))

	app, err := hostmeta.Load(hostDir, fnDir, noSettings)
	require.NoError(t, err)
	var names []string
	for _, f := range app.Functions {
		names = append(names, f.Name)
	}
	require.Equal(t, []string{"Health", "Queue", "Timer"}, names)
	q, ok := app.Function("Queue")
	require.True(t, ok)
	require.Equal(t, "notifications", q.Trigger().QueueName)
	_, ok = app.Function("Missing")
	require.False(t, ok)
	require.Equal(t, "api", app.Host.RoutePrefix(), "routePrefix defaults to api")
}

func TestLoadRejectsInvalidFunctions(t *testing.T) {
	tests := []struct {
		name    string
		folder  string
		json    string
		wantErr string
	}{
		{"a five-field cron is the classic copy-paste bug", "CollectX",
			`{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"0 */5 * * *"}]}`,
			"NCRONTAB needs 6 fields, got 5"},
		{"a schedule that never fires is refused", "CollectX",
			`{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"0 0 0 30 2 *"}]}`,
			"no occurrence"},
		{"an unset schedule setting is refused", "CollectX",
			`{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"%UNSET_SCHEDULE%"}]}`,
			`schedule "%UNSET_SCHEDULE%": NCRONTAB needs 6 fields, got 0`},
		{"two triggers are refused", "Both",
			`{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"0 0 2 * * *"},
			  {"type":"serviceBusTrigger","direction":"in","name":"msg","queueName":"q","connection":"c"}]}`,
			"has 2 trigger bindings, want exactly 1"},
		{"no trigger is refused", "Nothing",
			`{"bindings":[{"type":"http","direction":"out","name":"res"}]}`,
			"has 0 trigger bindings, want exactly 1"},
		{"a trigger with direction out is refused", "Backwards",
			`{"bindings":[{"type":"timerTrigger","direction":"out","name":"timer","schedule":"0 0 2 * * *"}]}`,
			`trigger "timer" must have direction in`},
		{"a binding with an unknown direction is refused", "Sideways",
			`{"bindings":[{"type":"timerTrigger","direction":"up","name":"timer","schedule":"0 0 2 * * *"}]}`,
			`binding "timer" has direction "up"`},
		{"a binding without a name is refused", "Nameless",
			`{"bindings":[{"type":"timerTrigger","direction":"in","schedule":"0 0 2 * * *"}]}`,
			"a binding lacks a name or type"},
		{"a Service Bus trigger without queueName is refused", "Responder",
			`{"bindings":[{"type":"serviceBusTrigger","direction":"in","name":"msg","connection":"ServiceBusConnection"}]}`,
			"serviceBusTrigger needs a queueName"},
		{"a Service Bus trigger without connection is refused", "Responder",
			`{"bindings":[{"type":"serviceBusTrigger","direction":"in","name":"msg","queueName":"notifications"}]}`,
			"serviceBusTrigger needs a connection setting name"},
		{"an httpTrigger without methods is refused", "Api",
			`{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"function","route":"x"},{"type":"http","direction":"out","name":"res"}]}`,
			"httpTrigger must list its methods"},
		{"an httpTrigger with a made-up method is refused", "Api",
			`{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"function","methods":["get post"],"route":"x"},{"type":"http","direction":"out","name":"res"}]}`,
			`httpTrigger method "get post" is not an HTTP method`},
		{"an httpTrigger without a route is refused", "Api",
			`{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"function","methods":["get"]},{"type":"http","direction":"out","name":"res"}]}`,
			"httpTrigger must declare a route"},
		{"a bad authLevel is refused", "Api",
			`{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"public","methods":["get"],"route":"x"},{"type":"http","direction":"out","name":"res"}]}`,
			`httpTrigger authLevel "public" is not anonymous, function or admin`},
		{"an extra output binding stops forwarding", "Api",
			`{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"function","methods":["get"],"route":"x"},{"type":"http","direction":"out","name":"res"},{"type":"queue","direction":"out","name":"q"}]}`,
			"http function has a queue output; forwarding needs http in and out only"},
		{"an extra input binding stops forwarding", "Api",
			`{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"function","methods":["get"],"route":"x"},{"type":"http","direction":"out","name":"res"},{"type":"blob","direction":"in","name":"b"}]}`,
			"http function must have exactly an httpTrigger and one http output"},
		{"an http function without an http output is refused", "Api",
			`{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"function","methods":["get"],"route":"x"}]}`,
			"http function must have exactly an httpTrigger and one http output"},
		{"an unknown trigger type is refused", "Blobby",
			`{"bindings":[{"type":"blobTrigger","direction":"in","name":"blob","path":"c/{name}"}]}`,
			`trigger type "blobTrigger" is not used by this product`},
		{"bad JSON is refused", "Broken",
			`{"bindings":[{"type":"timerTrigger",}]}`,
			"not valid JSON"},
		{"trailing garbage after the JSON is refused", "Broken",
			validTimer + `}`,
			"not valid JSON"},
		{"a folder name the host cannot use is refused", "1st-Function",
			validTimer,
			`folder name "1st-Function" is not a valid function name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hostDir, fnDir := newTestApp(t, validHost, map[string]string{tc.folder: tc.json, "Health": validHTTP})
			app, err := hostmeta.Load(hostDir, fnDir, noSettings)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.wantErr)
			require.Contains(t, err.Error(), tc.folder, "the error names the function")
			_, loaded := app.Function(tc.folder)
			require.False(t, loaded, "an invalid function is not loaded")
			_, ok := app.Function("Health")
			require.True(t, ok, "valid functions still load beside it")
		})
	}
}

func TestLoadReportsEveryInvalidFunction(t *testing.T) {
	hostDir, fnDir := newTestApp(t, validHost, map[string]string{
		"First":  `{"bindings":[]}`,
		"Second": `not json`,
	})
	_, err := hostmeta.Load(hostDir, fnDir, noSettings)
	require.Error(t, err)
	require.Contains(t, err.Error(), "function First: has 0 trigger bindings")
	require.Contains(t, err.Error(), filepath.Join("Second", "function.json"))
}

func TestLoadHostErrors(t *testing.T) {
	t.Run("a host.json that is not JSON is refused", func(t *testing.T) {
		hostDir, fnDir := newTestApp(t, `{"version": "2.0",`, map[string]string{"Timer": validTimer})
		_, err := hostmeta.Load(hostDir, fnDir, noSettings)
		require.ErrorContains(t, err, "parse host.json")
	})
	t.Run("a missing host.json is refused", func(t *testing.T) {
		_, err := hostmeta.Load(t.TempDir(), t.TempDir(), noSettings)
		require.ErrorContains(t, err, "read host.json")
	})
	t.Run("an app without functions is refused", func(t *testing.T) {
		hostDir, fnDir := newTestApp(t, validHost, nil)
		_, err := hostmeta.Load(hostDir, fnDir, noSettings)
		require.ErrorContains(t, err, "no function folders")
	})
	t.Run("an empty routePrefix is kept, not defaulted", func(t *testing.T) {
		hostDir, fnDir := newTestApp(t, `{"version":"2.0","extensions":{"http":{"routePrefix":""}}}`, map[string]string{"Timer": validTimer})
		app, err := hostmeta.Load(hostDir, fnDir, noSettings)
		require.NoError(t, err)
		require.Equal(t, "", app.Host.RoutePrefix())
	})
}

func TestLoadExpandsScheduleSettings(t *testing.T) {
	timer := `{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"%COLLECT_SCHEDULE%"}]}`
	hostDir, fnDir := newTestApp(t, validHost, map[string]string{"Collect": timer})
	getenv := func(k string) string {
		if k == "COLLECT_SCHEDULE" {
			return "0 15 3 * * *"
		}
		return ""
	}
	app, err := hostmeta.Load(hostDir, fnDir, getenv)
	require.NoError(t, err)
	f, _ := app.Function("Collect")
	require.Equal(t, "%COLLECT_SCHEDULE%", f.Trigger().Schedule, "the raw expression is kept; expansion is per use")

	_, err = hostmeta.Load(hostDir, fnDir, func(string) string { return "0 15 3 * *" })
	require.ErrorContains(t, err, "NCRONTAB needs 6 fields, got 5")
}

func TestLocate(t *testing.T) {
	t.Run("the repository keeps functions under functions/", func(t *testing.T) {
		root := mustRepoRoot(t)
		hostDir, fnDir, err := hostmeta.Locate(filepath.Join(root, "handler", "hostmeta"))
		require.NoError(t, err)
		require.Equal(t, root, hostDir)
		require.Equal(t, filepath.Join(root, "functions"), fnDir)
	})
	t.Run("a deployed app keeps function folders beside host.json", func(t *testing.T) {
		root := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(root, "host.json"), []byte(validHost), 0o644))
		sub := filepath.Join(root, "Timer")
		require.NoError(t, os.MkdirAll(sub, 0o755))
		hostDir, fnDir, err := hostmeta.Locate(sub)
		require.NoError(t, err)
		require.Equal(t, root, hostDir)
		require.Equal(t, root, fnDir)
	})
	t.Run("no host.json anywhere is an error", func(t *testing.T) {
		_, _, err := hostmeta.Locate(filepath.Join(string(filepath.Separator), "nonexistent-"+t.Name()))
		require.ErrorContains(t, err, "no host.json")
	})
}

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "0 0 2 * * *", "B_2": "x"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"a whole-value setting is replaced", "%A%", "0 0 2 * * *"},
		{"several settings in one value are replaced", "%B_2%-%B_2%", "x-x"},
		{"an unset setting becomes empty", "%NOPE%", ""},
		{"text without settings is unchanged", "0 0 2 * * *", "0 0 2 * * *"},
		{"a lone percent sign is unchanged", "50% done", "50% done"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, hostmeta.Expand(tc.in, getenv))
		})
	}
}

func TestScheduleNext(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return v
	}
	tests := []struct {
		name string
		expr string
		from string
		want []string
	}{
		{"every five minutes lands on the next multiple", "0 */5 * * * *", "2025-03-01T06:02:30Z",
			[]string{"2025-03-01T06:05:00Z", "2025-03-01T06:10:00Z"}},
		{"a daily schedule is strictly after its own slot", "0 0 2 * * *", "2025-03-01T02:00:00Z",
			[]string{"2025-03-02T02:00:00Z"}},
		{"weekdays skip the weekend", "0 30 9 * * 1-5", "2025-03-07T10:00:00Z",
			[]string{"2025-03-10T09:30:00Z", "2025-03-11T09:30:00Z"}},
		{"day-of-week names work like numbers", "0 30 9 * * Mon-Fri", "2025-03-07T10:00:00Z",
			[]string{"2025-03-10T09:30:00Z"}},
		{"day-of-week 0 is Sunday", "0 0 6 * * 0", "2025-03-01T00:00:00Z",
			[]string{"2025-03-02T06:00:00Z", "2025-03-09T06:00:00Z"}},
		{"month names work", "0 0 0 1 Jan *", "2025-03-01T00:00:00Z",
			[]string{"2026-01-01T00:00:00Z"}},
		{"day of month and day of week must both match, as in NCRONTAB", "0 0 9 1-7 * Mon", "2025-03-01T00:00:00Z",
			[]string{"2025-03-03T09:00:00Z", "2025-04-07T09:00:00Z", "2025-05-05T09:00:00Z"}},
		{"Friday the 13th is a Friday that is the 13th", "0 0 12 13 * Fri", "2025-01-01T00:00:00Z",
			[]string{"2025-06-13T12:00:00Z", "2026-02-13T12:00:00Z"}},
		{"the last day of short months is skipped for the 31st", "0 0 0 31 * *", "2025-04-01T00:00:00Z",
			[]string{"2025-05-31T00:00:00Z", "2025-07-31T00:00:00Z"}},
		{"a non-UTC start is read as the same instant, and the schedule in UTC", "0 0 2 * * *", "2025-03-01T03:30:00+02:00",
			[]string{"2025-03-01T02:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := hostmeta.ParseSchedule(tc.expr)
			require.NoError(t, err)
			from := at(tc.from)
			for _, w := range tc.want {
				next := s.Next(from)
				require.Equal(t, at(w).UTC(), next)
				require.Equal(t, time.UTC, next.Location())
				from = next
			}
		})
	}
}

func TestParseScheduleRejects(t *testing.T) {
	tests := []struct {
		name    string
		expr    string
		wantErr string
	}{
		{"five fields", "0 2 * * *", "NCRONTAB needs 6 fields, got 5"},
		{"seven fields", "0 0 2 * * * 2025", "NCRONTAB needs 6 fields, got 7"},
		{"an empty expression", "", "NCRONTAB needs 6 fields, got 0"},
		{"a robfig descriptor", "@daily", "NCRONTAB needs 6 fields, got 1"},
		{"a question-mark wildcard NCRONTAB lacks", "0 0 2 ? * *", `no "?" wildcard`},
		{"second 60", "60 0 2 * * *", "above maximum (59)"},
		{"day-of-week 7", "0 0 2 * * 7", "above maximum (6)"},
		{"a made-up day name", "0 0 2 * * Funday", "failed to parse"},
		{"February 30th never comes", "0 0 0 30 2 *", "no occurrence in the next five years"},
		{"a TimeSpan schedule, App Service only", "01:00:00", "NCRONTAB needs 6 fields, got 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hostmeta.ParseSchedule(tc.expr)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
	t.Run("the zero Schedule never fires", func(t *testing.T) {
		require.True(t, hostmeta.Schedule{}.Next(time.Now()).IsZero())
	})
}
