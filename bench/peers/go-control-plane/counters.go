package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

// xdsCounters mirrors XdsCounters of src/xds/engine-status.ts, field for field, so run.ts reads
// both servers' stats the same way.
type xdsCounters struct {
	Responses      int64 `json:"responses"`
	ResourcesSent  int64 `json:"resourcesSent"`
	BytesSent      int64 `json:"bytesSent"`
	Acks           int64 `json:"acks"`
	Nacks          int64 `json:"nacks"`
	StaleNonces    int64 `json:"staleNonces"`
	StreamsOpened  int64 `json:"streamsOpened"`
	StreamsClosed  int64 `json:"streamsClosed"`
	ProtocolErrors int64 `json:"protocolErrors"`
	// Subscriptions counts requests without a response nonce: a stream's first request of a type
	// (or a change of its names). A fresh process that N engines reconnect to sees 2N.
	Subscriptions int64 `json:"subscriptions"`
}

// streamState is what the callbacks remember per stream. go-control-plane calls a stream's
// callbacks from that stream's own goroutine, so the fields need no lock.
type streamState struct {
	namespaces []string
	nodeID     string
	// inFlight is the nonce of the unacknowledged response per type URL: go-control-plane's delta
	// server has at most one per type, because a new watch is only created by the next request.
	// Its state-of-the-world server may call the response callback from another goroutine than
	// the request callback, hence the lock.
	mu       sync.Mutex
	inFlight map[string]string
}

// engineID is an engine's SPIFFE ID (src/certs/identity.ts): the namespace is the identity.
var engineID = regexp.MustCompile(`^spiffe://microgateway\.airlock\.com/ns/([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)/engine$`)

// bookkeeping counts responses, ACKs and NACKs through go-control-plane's callbacks, which is how
// its users observe the protocol (the delta server itself does not look at error_detail), and
// applies our authorization rule: a node id `<pod>.<namespace>` must match the namespace of the
// client certificate.
type bookkeeping struct {
	c       xdsCounters
	streams sync.Map // int64 -> *streamState (delta streams)
	sotw    sync.Map // int64 -> *streamState (state-of-the-world streams; their ids are counted apart)
	// settleAt and settleSubs are the ACK and subscription counts the driver waits for (0: none);
	// onSettled fires once both are reached.
	settleMu   sync.Mutex
	settleAt   int64
	settleSubs int64
	settling   bool
	onSettled  func(acks int64)
	// tlsLogged makes the first stream say what TLS parameters the engines negotiated.
	tlsLogged sync.Once
}

// callbacks wires the bookkeeping into go-control-plane's server callbacks.
func (b *bookkeeping) callbacks() serverv3.CallbackFuncs {
	return serverv3.CallbackFuncs{
		DeltaStreamOpenFunc:     b.open,
		DeltaStreamClosedFunc:   b.closed,
		StreamDeltaRequestFunc:  b.request,
		StreamDeltaResponseFunc: b.response,
		StreamOpenFunc:          b.openSotw,
		StreamClosedFunc:        b.closedSotw,
		StreamRequestFunc:       b.requestSotw,
		StreamResponseFunc:      b.responseSotw,
	}
}

func (b *bookkeeping) openSotw(ctx context.Context, id int64, _ string) error {
	atomic.AddInt64(&b.c.StreamsOpened, 1)
	b.sotw.Store(id, &streamState{namespaces: peerNamespaces(ctx), inFlight: map[string]string{}})
	b.tlsLogged.Do(func() { logTLS(ctx) })
	return nil
}

func (b *bookkeeping) closedSotw(id int64, _ *core.Node) {
	atomic.AddInt64(&b.c.StreamsClosed, 1)
	b.sotw.Delete(id)
}

func (b *bookkeeping) requestSotw(id int64, req *discovery.DiscoveryRequest) error {
	v, ok := b.sotw.Load(id)
	if !ok {
		return status.Error(codes.Internal, "request on an unknown stream")
	}
	return b.track(v.(*streamState), req.GetNode().GetId(), req.GetTypeUrl(), req.GetResponseNonce(), req.GetErrorDetail() != nil)
}

func (b *bookkeeping) responseSotw(_ context.Context, id int64, _ *discovery.DiscoveryRequest, resp *discovery.DiscoveryResponse) {
	atomic.AddInt64(&b.c.Responses, 1)
	atomic.AddInt64(&b.c.ResourcesSent, int64(len(resp.GetResources())))
	var bytes int64
	for _, r := range resp.GetResources() {
		bytes += int64(len(r.GetValue()))
	}
	atomic.AddInt64(&b.c.BytesSent, bytes)
	if v, ok := b.sotw.Load(id); ok {
		s := v.(*streamState)
		s.mu.Lock()
		s.inFlight[resp.GetTypeUrl()] = resp.GetNonce()
		s.mu.Unlock()
	}
}

func (b *bookkeeping) open(ctx context.Context, id int64, _ string) error {
	atomic.AddInt64(&b.c.StreamsOpened, 1)
	b.streams.Store(id, &streamState{namespaces: peerNamespaces(ctx), inFlight: map[string]string{}})
	b.tlsLogged.Do(func() { logTLS(ctx) })
	return nil
}

func (b *bookkeeping) closed(id int64, _ *core.Node) {
	atomic.AddInt64(&b.c.StreamsClosed, 1)
	b.streams.Delete(id)
}

func (b *bookkeeping) request(id int64, req *discovery.DeltaDiscoveryRequest) error {
	v, ok := b.streams.Load(id)
	if !ok {
		return status.Error(codes.Internal, "request on an unknown stream")
	}
	return b.track(v.(*streamState), req.GetNode().GetId(), req.GetTypeUrl(), req.GetResponseNonce(), req.GetErrorDetail() != nil)
}

// track applies one request of either protocol: node binding, subscription, ACK or NACK.
func (b *bookkeeping) track(s *streamState, nodeID, typeURL, nonce string, nack bool) error {
	if err := s.bindNode(nodeID); err != nil {
		atomic.AddInt64(&b.c.ProtocolErrors, 1)
		return err
	}
	if nonce == "" {
		atomic.AddInt64(&b.c.Subscriptions, 1)
		b.checkSettled()
		return nil
	}
	s.mu.Lock()
	current := s.inFlight[typeURL]
	if current == nonce {
		delete(s.inFlight, typeURL)
	}
	s.mu.Unlock()
	if current != nonce {
		atomic.AddInt64(&b.c.StaleNonces, 1)
		return nil
	}
	if nack {
		atomic.AddInt64(&b.c.Nacks, 1)
		return nil
	}
	atomic.AddInt64(&b.c.Acks, 1)
	b.checkSettled()
	return nil
}

func (b *bookkeeping) response(id int64, _ *discovery.DeltaDiscoveryRequest, resp *discovery.DeltaDiscoveryResponse) {
	atomic.AddInt64(&b.c.Responses, 1)
	atomic.AddInt64(&b.c.ResourcesSent, int64(len(resp.GetResources())))
	var bytes int64
	for _, r := range resp.GetResources() {
		bytes += int64(len(r.GetResource().GetValue()))
	}
	atomic.AddInt64(&b.c.BytesSent, bytes)
	if v, ok := b.streams.Load(id); ok {
		s := v.(*streamState)
		s.mu.Lock()
		s.inFlight[resp.GetTypeUrl()] = resp.GetNonce()
		s.mu.Unlock()
	}
}

// settle makes onSettled fire once `acks` ACKs and `subs` subscriptions have been processed (now,
// if they already have).
func (b *bookkeeping) settle(acks, subs int64) {
	b.settleMu.Lock()
	b.settleAt, b.settleSubs, b.settling = acks, subs, true
	b.settleMu.Unlock()
	b.checkSettled()
}

func (b *bookkeeping) checkSettled() {
	b.settleMu.Lock()
	defer b.settleMu.Unlock()
	if !b.settling {
		return
	}
	acks := atomic.LoadInt64(&b.c.Acks)
	if acks < b.settleAt || atomic.LoadInt64(&b.c.Subscriptions) < b.settleSubs {
		return
	}
	b.settling = false
	b.onSettled(acks)
}

// snapshot reads every counter.
func (b *bookkeeping) snapshot() xdsCounters {
	return xdsCounters{
		Responses:      atomic.LoadInt64(&b.c.Responses),
		ResourcesSent:  atomic.LoadInt64(&b.c.ResourcesSent),
		BytesSent:      atomic.LoadInt64(&b.c.BytesSent),
		Acks:           atomic.LoadInt64(&b.c.Acks),
		Nacks:          atomic.LoadInt64(&b.c.Nacks),
		StaleNonces:    atomic.LoadInt64(&b.c.StaleNonces),
		StreamsOpened:  atomic.LoadInt64(&b.c.StreamsOpened),
		StreamsClosed:  atomic.LoadInt64(&b.c.StreamsClosed),
		ProtocolErrors: atomic.LoadInt64(&b.c.ProtocolErrors),
		Subscriptions:  atomic.LoadInt64(&b.c.Subscriptions),
	}
}

// bindNode checks the first request's node id against the certificate's namespaces (as
// namespaceAuthorizer in src/xds/server.ts does) and refuses a node id that changes later.
func (s *streamState) bindNode(id string) error {
	if s.nodeID != "" {
		if id != "" && id != s.nodeID {
			return status.Errorf(codes.InvalidArgument, "node.id changed on an open stream from %q to %q", s.nodeID, id)
		}
		return nil
	}
	if id == "" {
		return status.Error(codes.InvalidArgument, "the first DeltaDiscoveryRequest must carry node.id")
	}
	dot := strings.LastIndexByte(id, '.')
	if dot <= 0 || dot == len(id)-1 {
		return status.Errorf(codes.InvalidArgument, "node.id %q must be <pod>.<namespace>", id)
	}
	namespace := id[dot+1:]
	for _, n := range s.namespaces {
		if n == namespace {
			s.nodeID = id
			return nil
		}
	}
	return status.Error(codes.PermissionDenied, fmt.Sprintf(
		"client certificate (namespaces %v) may not read the configuration of node %q", s.namespaces, id))
}

// peerNamespaces are the namespaces named by the engine SPIFFE IDs of the client certificate.
func peerNamespaces(ctx context.Context) []string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return nil
	}
	var out []string
	for _, u := range info.State.PeerCertificates[0].URIs {
		if m := engineID.FindStringSubmatch(u.String()); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// logTLS writes the negotiated TLS version, cipher suite and key exchange group to stderr: the
// handshake is most of the cold start's CPU, and the group decides much of its cost.
func logTLS(ctx context.Context) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return
	}
	if info, ok := p.AuthInfo.(credentials.TLSInfo); ok {
		st := info.State
		fmt.Fprintf(os.Stderr, "tls: %s, %s, key exchange %s\n",
			tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.CurveID)
	}
}
