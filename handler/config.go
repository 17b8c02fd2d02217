package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"m365security/shared/settings"
	"m365security/shared/signals"
)

// Secret holds a value that must never reach logs, reports or error text.
type Secret string

// String redacts the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// LogValue redacts the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON redacts the secret in JSON output.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Reveal returns the secret for the one call that needs it.
func (s Secret) Reveal() string { return string(s) }

// Config is every app setting the handler reads (CONTRACT section 2).
type Config struct {
	Port           int
	Tenants        []string
	GraphEndpoint  string
	GraphAuth      string
	Demo           bool
	Store          string
	StorePath      string
	CosmosEndpoint string
	CosmosDatabase string
	CosmosKey      Secret
	Queue          string
	// ServiceBusNamespace is ServiceBusConnection__fullyQualifiedNamespace.
	ServiceBusNamespace string
	LocalScheduler      bool
	ClientState         Secret
	// ResponderClientID names the separate identity every Graph write uses
	// (RESPONDER_CLIENT_ID); empty: writes are refused with that reason.
	ResponderClientID string
	// PublicBaseURL is where Graph reaches the notification routes
	// (PUBLIC_BASE_URL; in Azure https://$WEBSITE_HOSTNAME). Empty: no
	// subscriptions are created, and collection health says why.
	PublicBaseURL string
	// MailSender is the mailbox reports and incident notices are sent
	// from (MAIL_SENDER); empty: nothing is mailed, and the send log says why.
	MailSender string
	// Recipients default the tenants' report and incident recipients.
	Recipients settings.Defaults
	// DNSResolver is host:port of the DNS server for mail-domain checks;
	// empty: the system resolver.
	DNSResolver string
	// Auth is none (decisions record the stated `by`, unverified) or
	// appservice (trust App Service Authentication's principal header).
	Auth string
	// Hosted is true under the Functions host (FUNCTIONS_WORKER_RUNTIME or
	// WEBSITE_INSTANCE_ID set):
	// the host fires timers and delivers Service Bus messages itself.
	Hosted bool
}

// settings lists every setting loadConfig reads, so a test can keep
// local.settings.sample.json complete.
var settingNames = []string{
	"FUNCTIONS_CUSTOMHANDLER_PORT", "M365_TENANTS", "GRAPH_ENDPOINT", "GRAPH_AUTH", "DEMO",
	"STORE", "STORE_PATH", "COSMOS_ENDPOINT", "COSMOS_DATABASE", "COSMOS_KEY", "QUEUE",
	"ServiceBusConnection__fullyQualifiedNamespace", "LOCAL_SCHEDULER", "NOTIFICATION_CLIENT_STATE",
	"FUNCTIONS_WORKER_RUNTIME", "WEBSITE_INSTANCE_ID", "GRAPH_APP_CLIENT_ID", "RESPONDER_CLIENT_ID",
	"PUBLIC_BASE_URL", "WEBSITE_HOSTNAME", "MAIL_SENDER", "REPORT_RECIPIENTS", "INCIDENT_RECIPIENTS",
	"DNS_RESOLVER", "AUTH",
}

const defaultGraphEndpoint = "https://graph.microsoft.com"

var tenantRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// loadConfig reads settings through getenv, applies defaults and validates
// everything, returning one error line per problem, each naming its setting.
func loadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", setting, fmt.Sprintf(format, args...)))
	}
	oneOf := func(setting, def string, allowed ...string) string {
		v := strings.TrimSpace(getenv(setting))
		if v == "" {
			return def
		}
		for _, a := range allowed {
			if strings.EqualFold(v, a) {
				return a
			}
		}
		bad(setting, "%q is not one of %s", v, strings.Join(allowed, ", "))
		return def
	}

	// Flex Consumption does not expose FUNCTIONS_WORKER_RUNTIME to the
	// process; WEBSITE_INSTANCE_ID is set on every Azure Functions instance.
	c := Config{Hosted: getenv("FUNCTIONS_WORKER_RUNTIME") != "" || getenv("WEBSITE_INSTANCE_ID") != ""}

	// When a Key Vault reference does not resolve, App Service passes the
	// reference text itself as the value; used as a secret it would be a
	// guessable constant, so start-up fails closed instead.
	for _, k := range settingNames {
		if v := strings.TrimSpace(getenv(k)); strings.HasPrefix(strings.ToLower(v), "@microsoft.keyvault(") {
			bad(k, "is an unresolved Key Vault reference: the platform could not read the secret (check that the app's identity may read it and that the reference names an existing secret)")
		}
	}

	c.Port = 7071
	if v := strings.TrimSpace(getenv("FUNCTIONS_CUSTOMHANDLER_PORT")); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			bad("FUNCTIONS_CUSTOMHANDLER_PORT", "%q is not a TCP port", v)
		} else {
			c.Port = p
		}
	}

	c.Demo = oneOf("DEMO", "0", "0", "1") == "1"

	for _, t := range strings.Split(getenv("M365_TENANTS"), ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		switch {
		case t == "":
		case !tenantRE.MatchString(t):
			bad("M365_TENANTS", "%q is not a tenant id (a GUID)", t)
		case contains(c.Tenants, t):
			bad("M365_TENANTS", "tenant %s is listed twice", t)
		default:
			c.Tenants = append(c.Tenants, t)
		}
	}
	if len(c.Tenants) == 0 && !c.Demo && strings.TrimSpace(getenv("M365_TENANTS")) == "" {
		bad("M365_TENANTS", "is required: list the tenant ids to monitor, comma-separated")
	}

	graphSet := strings.TrimSpace(getenv("GRAPH_ENDPOINT")) != ""
	authSet := strings.TrimSpace(getenv("GRAPH_AUTH")) != ""
	c.GraphEndpoint = strings.TrimRight(strings.TrimSpace(getenv("GRAPH_ENDPOINT")), "/")
	if c.GraphEndpoint == "" {
		c.GraphEndpoint = defaultGraphEndpoint
	}
	authDefault := "azure"
	if c.Demo {
		authDefault = "none"
	}
	c.GraphAuth = oneOf("GRAPH_AUTH", authDefault, "azure", "none")
	switch {
	case c.Demo && graphSet:
		bad("GRAPH_ENDPOINT", "must be unset when DEMO=1: the demo tenant simulator provides the endpoint")
	case c.Demo && authSet && c.GraphAuth != "none":
		bad("GRAPH_AUTH", "must be none when DEMO=1: the demo tenant takes no token")
	case !c.Demo:
		if err := checkGraphEndpoint(c.GraphEndpoint, c.GraphAuth); err != nil {
			bad("GRAPH_ENDPOINT", "%v", err)
		}
	}

	c.Store = oneOf("STORE", "embedded", "embedded", "cosmos")
	c.StorePath = strings.TrimSpace(getenv("STORE_PATH"))
	if c.StorePath == "" {
		c.StorePath = "./data/store.db"
	}
	c.CosmosEndpoint = strings.TrimSpace(getenv("COSMOS_ENDPOINT"))
	c.CosmosDatabase = strings.TrimSpace(getenv("COSMOS_DATABASE"))
	if c.CosmosDatabase == "" {
		c.CosmosDatabase = "m365security"
	}
	c.CosmosKey = Secret(strings.TrimSpace(getenv("COSMOS_KEY")))
	if c.Store == "cosmos" {
		if c.CosmosEndpoint == "" {
			bad("COSMOS_ENDPOINT", "is required when STORE=cosmos")
		} else if u, err := url.Parse(c.CosmosEndpoint); err != nil || u.Scheme != "https" || u.Host == "" {
			bad("COSMOS_ENDPOINT", "%q is not an https URL", c.CosmosEndpoint)
		}
	}

	queueDefault := "inprocess"
	if c.Hosted {
		queueDefault = "servicebus"
	}
	c.Queue = oneOf("QUEUE", queueDefault, "inprocess", "servicebus")
	c.ServiceBusNamespace = strings.TrimSpace(getenv("ServiceBusConnection__fullyQualifiedNamespace"))
	if c.Queue == "servicebus" && c.ServiceBusNamespace == "" {
		bad("ServiceBusConnection__fullyQualifiedNamespace", "is required when QUEUE=servicebus")
	}

	c.LocalScheduler = oneOf("LOCAL_SCHEDULER", "on", "on", "off") == "on"

	c.ClientState = Secret(getenv("NOTIFICATION_CLIENT_STATE"))
	switch {
	case len(c.ClientState) > 128:
		bad("NOTIFICATION_CLIENT_STATE", "is longer than Graph's 128-character limit")
	case c.ClientState == "" && !c.Demo:
		bad("NOTIFICATION_CLIENT_STATE", "is required: Graph echoes it in every change notification and the webhook rejects items without it")
	}

	c.ResponderClientID = strings.ToLower(strings.TrimSpace(getenv("RESPONDER_CLIENT_ID")))
	if c.ResponderClientID != "" && !tenantRE.MatchString(c.ResponderClientID) {
		bad("RESPONDER_CLIENT_ID", "%q is not a client id (a GUID)", c.ResponderClientID)
	}

	c.PublicBaseURL = strings.TrimRight(strings.TrimSpace(getenv("PUBLIC_BASE_URL")), "/")
	if c.PublicBaseURL == "" && c.Hosted && strings.TrimSpace(getenv("WEBSITE_HOSTNAME")) != "" {
		c.PublicBaseURL = "https://" + strings.TrimSpace(getenv("WEBSITE_HOSTNAME"))
	}
	if c.PublicBaseURL != "" {
		if err := signals.CheckBaseURL(c.PublicBaseURL); err != nil {
			bad("PUBLIC_BASE_URL", "%v", err)
		}
	}

	c.MailSender = strings.TrimSpace(getenv("MAIL_SENDER"))
	if c.MailSender != "" && !tenantRE.MatchString(c.MailSender) {
		if p, err := mail.ParseAddress(c.MailSender); err != nil || p.Address != c.MailSender {
			bad("MAIL_SENDER", "%q is neither a mailbox address (UPN) nor an object id", c.MailSender)
		}
	}
	var err error
	if c.Recipients.ReportRecipients, err = settings.ParseRecipients(getenv("REPORT_RECIPIENTS")); err != nil {
		bad("REPORT_RECIPIENTS", "%v", err)
	}
	if c.Recipients.IncidentRecipients, err = settings.ParseRecipients(getenv("INCIDENT_RECIPIENTS")); err != nil {
		bad("INCIDENT_RECIPIENTS", "%v", err)
	}

	c.DNSResolver = strings.TrimSpace(getenv("DNS_RESOLVER"))
	if c.DNSResolver != "" {
		if host, port, err := net.SplitHostPort(c.DNSResolver); err != nil || host == "" || port == "" {
			bad("DNS_RESOLVER", "%q is not host:port", c.DNSResolver)
		} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			bad("DNS_RESOLVER", "%q: %q is not a port", c.DNSResolver, port)
		}
	}

	c.Auth = oneOf("AUTH", "none", "none", "appservice")
	return c, errors.Join(errs...)
}

// checkGraphEndpoint refuses GRAPH_AUTH=none anywhere but a loopback
// simulator: sending unauthenticated calls to Microsoft would fail obscurely,
// and plain HTTP to a remote host would leak tenant data.
func checkGraphEndpoint(endpoint, auth string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an http(s) URL", endpoint)
	}
	if p := strings.TrimRight(u.Path, "/"); p != "" {
		return fmt.Errorf("%q must be the Graph root without a path or version; the product appends /v1.0", endpoint)
	}
	host := u.Hostname()
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	microsoft := strings.HasSuffix(host, ".microsoft.com") || strings.HasSuffix(host, ".microsoft.us") ||
		strings.HasSuffix(host, ".microsoftgraph.chinacloudapi.cn") || host == "microsoftgraph.chinacloudapi.cn"
	switch {
	case auth == "none" && microsoft:
		return fmt.Errorf("GRAPH_AUTH=none cannot be used with Microsoft Graph (%s); use GRAPH_AUTH=azure", host)
	case auth == "none" && !loopback:
		return fmt.Errorf("GRAPH_AUTH=none is only for a simulator on loopback, not %s", host)
	case auth == "azure" && u.Scheme != "https":
		return fmt.Errorf("GRAPH_AUTH=azure needs an https endpoint, got %s", u.Scheme)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
