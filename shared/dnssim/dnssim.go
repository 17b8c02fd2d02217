// Package dnssim is a small authoritative DNS server on loopback for the
// demo and tests: it serves the records it is given (zone-file lines) over
// UDP and TCP, answers NXDOMAIN for names it does not hold, and can be told
// to answer SERVFAIL for a name or to never answer it (a timeout). It is a
// real DNS server (github.com/miekg/dns), so clients are tested on the wire.
package dnssim

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Server serves a fixed set of records.
type Server struct {
	mu       sync.RWMutex
	records  map[string][]dns.RR // by lower-case FQDN
	servfail map[string]bool
	drop     map[string]bool
	queries  map[string]int

	udp, tcp *dns.Server
	addr     string
}

// New parses records (zone-file lines such as
// `example.com. 300 IN TXT "v=spf1 -all"`).
func New(records []string) (*Server, error) {
	s := &Server{records: map[string][]dns.RR{}, servfail: map[string]bool{}, drop: map[string]bool{}, queries: map[string]int{}}
	var errs []error
	for _, line := range records {
		rr, err := dns.NewRR(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("record %q: %w", line, err))
			continue
		}
		if rr == nil {
			continue
		}
		name := strings.ToLower(rr.Header().Name)
		s.records[name] = append(s.records[name], rr)
	}
	return s, errors.Join(errs...)
}

// ServFail makes the server answer SERVFAIL for name.
func (s *Server) ServFail(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servfail[dns.CanonicalName(name)] = true
}

// Drop makes the server never answer questions about name.
func (s *Server) Drop(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop[dns.CanonicalName(name)] = true
}

// Queries returns how many questions about name arrived.
func (s *Server) Queries(name string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.queries[dns.CanonicalName(name)]
}

// Start listens on a free loopback port, UDP and TCP on the same port.
func (s *Server) Start() error {
	for range 5 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listen udp: %w", err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			// The port is taken for TCP: try another.
			pc.Close()
			continue
		}
		s.addr = pc.LocalAddr().String()
		h := dns.HandlerFunc(s.serve)
		s.udp = &dns.Server{PacketConn: pc, Handler: h}
		s.tcp = &dns.Server{Listener: l, Handler: h}
		started := make(chan struct{}, 2)
		s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
		s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
		go func() { _ = s.udp.ActivateAndServe() }()
		go func() { _ = s.tcp.ActivateAndServe() }()
		<-started
		<-started
		return nil
	}
	return errors.New("no loopback port free for both UDP and TCP")
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// Close stops the server.
func (s *Server) Close() error {
	var errs []error
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		if srv != nil {
			errs = append(errs, srv.Shutdown())
		}
	}
	return errors.Join(errs...)
}

func (s *Server) serve(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	if len(q.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	qn := strings.ToLower(q.Question[0].Name)
	qt := q.Question[0].Qtype
	s.mu.Lock()
	s.queries[qn]++
	drop, fail := s.drop[qn], s.servfail[qn]
	rrs, exists := s.records[qn]
	s.mu.Unlock()
	switch {
	case drop:
		return
	case fail:
		m.Rcode = dns.RcodeServerFailure
	case !exists:
		m.Rcode = dns.RcodeNameError
	default:
		for _, rr := range rrs {
			// A CNAME answers every type; its target is out of this
			// server's hands, so the client follows it.
			if rr.Header().Rrtype == qt || rr.Header().Rrtype == dns.TypeCNAME {
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
		}
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		// What does not fit the client's buffer goes truncated (TC set), so
		// the client retries over TCP as with any real server.
		size := dns.MinMsgSize
		if o := q.IsEdns0(); o != nil {
			size = int(o.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}
