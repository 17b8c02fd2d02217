package maildns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Lookuper answers one DNS question. The checks depend on this, not on the
// wire client, so they run against any resolver.
type Lookuper interface {
	// Lookup returns the answer; NXDOMAIN and an empty answer are answers,
	// not errors. It returns an error wrapping ErrLookup when no server
	// gave an answer (SERVFAIL, REFUSED, timeout).
	Lookup(ctx context.Context, name string, qtype uint16) (Answer, error)
}

// Answer is what a server said about one name and type.
type Answer struct {
	// NXDomain is true when the name does not exist.
	NXDomain bool
	// TXT holds each TXT record of the answer, its strings joined.
	TXT []string
	// CNAME is the alias the queried name points at, when it is one.
	CNAME string
}

// ErrLookup marks a question no server answered.
var ErrLookup = errors.New("dns lookup failed")

// Resolver defaults: a per-try timeout short enough that a dead server
// costs a few seconds per domain, and three tries across the servers.
const (
	DefaultTimeout  = 2 * time.Second
	DefaultAttempts = 3
)

// Resolver asks recursive (or authoritative) servers over UDP, retrying on
// timeouts and server failures and falling back to TCP for truncated
// answers.
type Resolver struct {
	servers  []string
	timeout  time.Duration
	attempts int
	udp, tcp *dns.Client
}

var _ Lookuper = (*Resolver)(nil)

// NewResolver returns a resolver for servers (host:port). timeout and
// attempts of 0 take the defaults. With no servers every lookup fails with
// the reason noServers gives.
func NewResolver(servers []string, timeout time.Duration, attempts int) *Resolver {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	return &Resolver{servers: servers, timeout: timeout, attempts: attempts,
		udp: &dns.Client{Net: "udp", Timeout: timeout, UDPSize: dns.DefaultMsgSize},
		tcp: &dns.Client{Net: "tcp", Timeout: timeout}}
}

// SystemServers reads the servers of a resolv.conf file (host:port).
func SystemServers(path string) ([]string, error) {
	cfg, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	out := make([]string, 0, len(cfg.Servers))
	for _, s := range cfg.Servers {
		out = append(out, net.JoinHostPort(s, cfg.Port))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s names no nameserver", path)
	}
	return out, nil
}

// Lookup asks each server in turn, up to attempts tries in all.
func (r *Resolver) Lookup(ctx context.Context, name string, qtype uint16) (Answer, error) {
	if len(r.servers) == 0 {
		return Answer{}, fmt.Errorf("%w: no DNS server configured", ErrLookup)
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.RecursionDesired = true
	q.SetEdns0(dns.DefaultMsgSize, false)
	var last error
	for i := range r.attempts {
		if err := ctx.Err(); err != nil {
			return Answer{}, fmt.Errorf("%w: %s %s: %w", ErrLookup, dns.TypeToString[qtype], name, err)
		}
		server := r.servers[i%len(r.servers)]
		resp, err := r.exchange(ctx, q, server)
		if err != nil {
			last = err
			continue
		}
		switch resp.Rcode {
		case dns.RcodeSuccess:
			return answerOf(resp, q.Question[0].Name), nil
		case dns.RcodeNameError:
			return Answer{NXDomain: true}, nil
		}
		last = fmt.Errorf("%s answered %s", server, dns.RcodeToString[resp.Rcode])
	}
	return Answer{}, fmt.Errorf("%w: %s %s after %d tries: %w", ErrLookup, dns.TypeToString[qtype], name, r.attempts, last)
}

func (r *Resolver) exchange(ctx context.Context, q *dns.Msg, server string) (*dns.Msg, error) {
	tctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	resp, _, err := r.udp.ExchangeContext(tctx, q, server)
	if err == nil && resp.Truncated {
		// The answer did not fit a datagram: TCP carries it whole.
		resp, _, err = r.tcp.ExchangeContext(tctx, q, server)
	}
	if err != nil {
		return nil, fmt.Errorf("ask %s: %w", server, err)
	}
	return resp, nil
}

func answerOf(m *dns.Msg, qname string) Answer {
	var a Answer
	for _, rr := range m.Answer {
		switch v := rr.(type) {
		case *dns.TXT:
			a.TXT = append(a.TXT, strings.Join(v.Txt, ""))
		case *dns.CNAME:
			if strings.EqualFold(v.Hdr.Name, qname) {
				a.CNAME = strings.TrimSuffix(v.Target, ".")
			}
		}
	}
	return a
}
