package console

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"m365security/shared/assess"
	"m365security/shared/principal"
	"m365security/shared/records"
	"m365security/shared/settings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// API calls the product's JSON API in-process with the person's request
// as context (its sign-in headers travel with it), so console writes take
// the same validation and recording path as API clients, and in Azure need
// no function key in the browser. It returns the status, headers and body.
type API func(r *http.Request, method, target string, body []byte) (int, http.Header, []byte)

// Deps is what the console reads and calls.
type Deps struct {
	Assess  *assess.Service
	Records *records.Records
	// Tenants are the monitored tenant ids, in configuration order.
	Tenants []string
	// Auth is the AUTH setting (principal.ModeNone or ModeAppService).
	Auth string
	// Hosted is true under the Functions host: there the console refuses to
	// serve unless App Service Authentication signs people in.
	Hosted   bool
	Defaults settings.Defaults
	API      API
	Now      func() time.Time
	Log      *slog.Logger
	Version  string
}

// Console serves the pages.
type Console struct {
	d     Deps
	pages map[string]*template.Template
	mux   *http.ServeMux
	h     http.Handler
}

// CSP is the Content-Security-Policy of every page: nothing but this app's
// own stylesheet and icon, no script at all, forms posting only here, and
// no framing.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// New parses the templates and builds the routes.
func New(d Deps) (*Console, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	c := &Console{d: d, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	if err := c.parse(); err != nil {
		return nil, err
	}
	c.routes()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusForbidden, "This form was sent from another site, so it was refused (cross-site request forgery protection).")
	}))
	c.h = c.headers(cop.Handler(c.gate(c.mux)))
	return c, nil
}

func (c *Console) parse() error {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return fmt.Errorf("parse console layout: %w", err)
	}
	entries, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := strings.TrimSuffix(strings.TrimPrefix(e, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, e)
		if err != nil {
			return fmt.Errorf("parse console page %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return nil
}

// ServeHTTP serves a console page.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.h.ServeHTTP(w, r) }

// headers sets what every console answer carries.
func (c *Console) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// gate lets a request in only where the console may answer it: in Azure
// only behind App Service Authentication, and then only for a signed-in
// person. Standalone mode listens on loopback only.
func (c *Console) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/favicon.ico" {
			next.ServeHTTP(w, r)
			return
		}
		if c.d.Hosted && c.d.Auth != principal.ModeAppService {
			c.fail(w, r, http.StatusForbidden, "The console is off: in Azure it needs App Service Authentication (AUTH=appservice), so that only signed-in people see tenant data.")
			return
		}
		if _, _, err := principal.FromRequest(r, c.d.Auth); err != nil {
			c.fail(w, r, http.StatusUnauthorized, "You are not signed in. Open the console through the app's sign-in.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// handler is a page that returns its error; errors are rendered once.
type handler func(w http.ResponseWriter, r *http.Request) error

func (c *Console) handle(pattern string, h handler) {
	c.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				c.d.Log.Error("console page panicked", "path", r.URL.Path, "panic", fmt.Sprint(p))
				c.fail(w, r, http.StatusInternalServerError, "Something went wrong rendering this page; the function log has the details.")
			}
		}()
		err := h(w, r)
		if err == nil {
			return
		}
		var pe *pageError
		if errors.As(err, &pe) {
			c.fail(w, r, pe.status, pe.msg)
			return
		}
		if r.Context().Err() != nil {
			return
		}
		c.d.Log.Error("console page failed", "path", r.URL.Path, "error", err.Error())
		c.fail(w, r, http.StatusInternalServerError, "This page could not be loaded; the function log has the details.")
	}))
}

func (c *Console) routes() {
	c.handle("GET /{$}", c.home)
	c.handle("GET /tenants", c.summary)
	c.handle("GET /controls", c.controlsPage)
	c.handle("GET /controls/{id}", c.controlPage)
	c.handle("GET /mfa", c.mfaPage)
	c.handle("GET /mfa/export.csv", c.mfaCSV)
	c.handle("GET /devices", c.devicesPage)
	c.handle("GET /incidents", c.incidentsPage)
	c.handle("GET /incidents/{id}", c.incidentPage)
	c.handle("POST /incidents/{id}/actions/{actionId}/{decision}", c.decide)
	c.handle("GET /exceptions", c.exceptionsPage)
	c.handle("POST /exceptions", c.createException)
	c.handle("POST /exceptions/{id}/revoke", c.revokeException)
	c.handle("GET /reports", c.reportsPage)
	c.handle("GET /reports/{kind}", c.reportView)
	c.handle("GET /settings", c.settingsPage)
	c.handle("POST /settings/targets", c.saveTargets)
	c.handle("POST /settings/tenant", c.saveSettings)
	static, _ := fs.Sub(staticFS, "static")
	c.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	// Browsers ask for /favicon.ico on pages without an icon link (a
	// report, an error from the platform); answer it rather than 404.
	c.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, static, "favicon.svg")
	})
	c.handle("/", func(w http.ResponseWriter, r *http.Request) error {
		return &pageError{http.StatusNotFound, "There is no console page at this address."}
	})
}

// pageError is a failure to show the person as it is.
type pageError struct {
	status int
	msg    string
}

func (e *pageError) Error() string { return e.msg }

func notFound(format string, args ...any) error {
	return &pageError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return &pageError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// Page is what every template gets: the frame and the page's own data.
type Page struct {
	Title   string
	Nav     string
	Tenant  string
	Tenants []string
	User    UserView
	Flash   string
	Error   string
	Version string
	Data    any
}

// UserView says who is signed in, as the header shows it.
type UserView struct {
	Name     string
	Verified bool
	// Stated is true when decisions record a name the person types
	// (AUTH=none): the forms then ask for it.
	Stated bool
}

func (c *Console) user(r *http.Request) UserView {
	p, ok, _ := principal.FromRequest(r, c.d.Auth)
	if ok {
		return UserView{Name: p.Name, Verified: true}
	}
	return UserView{Stated: true}
}

// flashes are the messages a redirect after a form may show, by code, so a
// query string cannot put words on the page.
var flashes = map[string]string{
	"created":        "The exception was created.",
	"revoked":        "The exception was revoked.",
	"approved":       "The action was approved.",
	"rejected":       "The action was rejected.",
	"undone":         "The action was undone.",
	"targetsSaved":   "The targets were saved.",
	"settingsSaved":  "The settings were saved.",
	"reportsMissing": "Reports are not available in this build yet.",
}

func (c *Console) page(r *http.Request, nav, title, tenant string, data any) Page {
	return Page{Title: title, Nav: nav, Tenant: tenant, Tenants: c.d.Tenants, User: c.user(r),
		Flash: flashes[r.URL.Query().Get("done")], Version: c.d.Version, Data: data}
}

func (c *Console) render(w http.ResponseWriter, status int, name string, p Page) error {
	t, ok := c.pages[name]
	if !ok {
		return fmt.Errorf("no console template %q", name)
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
	return nil
}

// fail renders the error page; its message is fixed text or escaped.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := c.page(r, "", http.StatusText(status), c.tenantOrEmpty(r), nil)
	p.Error = msg
	if err := c.render(w, status, "error", p); err != nil {
		http.Error(w, msg, status)
	}
}

// tenantOrEmpty is the request's tenant when it is a monitored one.
func (c *Console) tenantOrEmpty(r *http.Request) string {
	t, err := c.tenant(r)
	if err != nil {
		return ""
	}
	return t
}

// tenant reads ?tenant=; with one tenant monitored it may be left out.
func (c *Console) tenant(r *http.Request) (string, error) {
	t := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("tenant")))
	if t == "" {
		if len(c.d.Tenants) == 1 {
			return c.d.Tenants[0], nil
		}
		return "", badRequest("Choose a tenant first.")
	}
	if !slices.Contains(c.d.Tenants, t) {
		return "", notFound("That tenant is not monitored by this deployment.")
	}
	return t, nil
}

// apiError reads the contract's error message from an API answer.
func apiError(status int, body []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	return fmt.Sprintf("the API answered %d %s", status, http.StatusText(status))
}

// missingRoute reports whether an API answer says the route does not exist
// in this build (its feature has not landed).
func missingRoute(status int, body []byte) bool {
	return status == http.StatusNotFound && strings.Contains(string(body), `"no route `)
}

// redirect answers a form with 303 to a console page of the tenant.
func redirect(w http.ResponseWriter, r *http.Request, path, tenant, done string) {
	q := url.Values{"tenant": {tenant}}
	if done != "" {
		q.Set("done", done)
	}
	http.Redirect(w, r, path+"?"+q.Encode(), http.StatusSeeOther)
}

var funcs = template.FuncMap{
	"spark": Sparkline,
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "never"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil || v.IsZero() {
				return "never"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"date": func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"join": strings.Join,
	"pct":  func(v float64) string { return fmt.Sprintf("%.0f", v*100) },
	"days": func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"evidence": func(v any) string {
		switch x := v.(type) {
		case string:
			return x
		case nil:
			return "none"
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	},
	"link": Link,
	"seg":  url.PathEscape,
	"eq2":  func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) },
	"list": func(v ...string) []string { return v },
	"add":  func(a, b int) int { return a + b },
	"has":  slices.Contains[[]string, string],
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}

// Link builds a console address from a path and query pairs, leaving out
// empty values. Templates put it whole in an href, where html/template
// normalizes it; the pairs are encoded here.
func Link(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}
