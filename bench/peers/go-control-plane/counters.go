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
}

// streamState is what the callbacks remember per stream. go-control-plane calls a stream's
// callbacks from that stream's own goroutine, so the fields need no lock.
type streamState struct {
	namespaces []string
	nodeID     string
	// inFlight is the nonce of the unacknowledged response per type URL: go-control-plane's delta
	// server has at most one per type, because a new watch is only created by the next request.
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
	streams sync.Map // int64 -> *streamState
	// settleAt is the ACK count the driver waits for (0: none); onSettled fires once it is reached.
	settleAt  atomic.Int64
	onSettled func(acks int64)
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
	s := v.(*streamState)
	if err := s.bindNode(req.GetNode().GetId()); err != nil {
		atomic.AddInt64(&b.c.ProtocolErrors, 1)
		return err
	}
	if req.GetResponseNonce() == "" {
		return nil
	}
	if s.inFlight[req.GetTypeUrl()] != req.GetResponseNonce() {
		atomic.AddInt64(&b.c.StaleNonces, 1)
		return nil
	}
	delete(s.inFlight, req.GetTypeUrl())
	if req.GetErrorDetail() != nil {
		atomic.AddInt64(&b.c.Nacks, 1)
		return nil
	}
	acks := atomic.AddInt64(&b.c.Acks, 1)
	b.checkSettled(acks)
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
		v.(*streamState).inFlight[resp.GetTypeUrl()] = resp.GetNonce()
	}
}

// settle makes onSettled fire once `acks` ACKs have been processed (now, if they already have).
func (b *bookkeeping) settle(acks int64) {
	b.settleAt.Store(acks)
	b.checkSettled(atomic.LoadInt64(&b.c.Acks))
}

func (b *bookkeeping) checkSettled(acks int64) {
	target := b.settleAt.Load()
	if target == 0 || acks < target {
		return
	}
	if b.settleAt.CompareAndSwap(target, 0) {
		b.onSettled(acks)
	}
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
