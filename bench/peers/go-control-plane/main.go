// Command go-control-plane-xds is the peer of bench/xds/server.ts: the same benchmark resources
// served by envoyproxy/go-control-plane's delta ADS server the way its users wire it (one
// snapshot per node id in a SnapshotCache with ads=true, server.NewServer, grpc-go with mTLS),
// driven by bench/xds/run.ts over the same JSON-line protocol (bench/xds/messages.ts).
//
//	go-control-plane-xds --resources DIR
//
// DIR is written by bench/peers/export-fleet.ts: fleet.json, the encoded resources of both
// DenyRules modes, the CA, the engines' client certificate and the server certificate. The
// program deletes DIR when it exits, as our server deletes its certificate folder.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/log"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

// The gRPC options of go-control-plane's example server (internal/example/server.go).
const (
	grpcKeepaliveTime        = 30 * time.Second
	grpcKeepaliveTimeout     = 5 * time.Second
	grpcKeepaliveMinTime     = 30 * time.Second
	grpcMaxConcurrentStreams = 1000000
)

func main() {
	dir := flag.String("resources", "", "directory written by bench/peers/export-fleet.ts")
	profile := flag.String("profile", "", "write PATH.cpu.pprof (whole run) and PATH.heap.pprof (at each full-GC stats)")
	mode := flag.String("mode", "", "DenyRules mode to start in (default: fleet.json's initialMode); a restarted server starts where the fleet was")
	keep := flag.Bool("keep", false, "leave DIR in place on exit (the driver restarts the server from it, then deletes it)")
	flag.Parse()
	if *dir == "" {
		fail(errors.New("--resources <dir> is required"))
	}
	prof := &profiler{prefix: *profile}
	remove := func() {
		if !*keep {
			os.RemoveAll(*dir)
		}
	}
	if err := run(*dir, *mode, prof, remove); err != nil {
		remove()
		fail(err)
	}
}

func run(dir, mode string, prof *profiler, remove func()) error {
	if err := prof.start(); err != nil {
		return err
	}
	start := wallMs()
	f, err := loadFleet(dir)
	if err != nil {
		return err
	}
	logger := log.LoggerFuncs{
		WarnFunc:  func(format string, args ...any) { fmt.Fprintf(os.Stderr, "warn: "+format+"\n", args...) },
		ErrorFunc: func(format string, args ...any) { fmt.Fprintf(os.Stderr, "error: "+format+"\n", args...) },
	}
	snapshots := cache.NewSnapshotCache(true, cache.IDHash{}, logger)
	fl := &fleetServer{fleet: f, cache: snapshots}
	if mode == "" {
		mode = f.initialMode
	}
	if _, err := fl.apply(mode); err != nil {
		return err
	}
	setupMs := wallMs() - start
	if err := fl.reportRemarshal(); err != nil {
		return err
	}

	creds, err := serverCredentials(dir)
	if err != nil {
		return err
	}
	book := &bookkeeping{onSettled: func(acks int64) {
		emit(map[string]any{"event": "settled", "at": wallMs(), "acks": acks})
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	xds := serverv3.NewServer(ctx, snapshots, book.callbacks())
	grpcServer := grpc.NewServer(
		grpc.Creds(creds),
		grpc.MaxConcurrentStreams(grpcMaxConcurrentStreams),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: grpcKeepaliveTime, Timeout: grpcKeepaliveTimeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: grpcKeepaliveMinTime, PermitWithoutStream: true}),
	)
	discovery.RegisterAggregatedDiscoveryServiceServer(grpcServer, xds)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() {
		if err := grpcServer.Serve(lis); err != nil {
			fmt.Fprintf(os.Stderr, "grpc: %v\n", err)
		}
	}()

	var once sync.Once
	exit := func() {
		once.Do(func() {
			grpcServer.Stop()
			prof.stop()
			remove()
			os.Exit(0)
		})
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		exit()
	}()

	emit(map[string]any{
		"event":        "ready",
		"port":         lis.Addr().(*net.TCPAddr).Port,
		"certDir":      dir,
		"pods":         len(f.nodes),
		"setupMs":      setupMs,
		"routeVersion": fl.routeVersion,
		"routeNames":   fl.routeNames,
	})

	lines := bufio.NewScanner(os.Stdin)
	lines.Buffer(make([]byte, 64*1024), 1024*1024)
	for lines.Scan() {
		if len(lines.Bytes()) == 0 {
			continue
		}
		var c command
		if err := json.Unmarshal(lines.Bytes(), &c); err != nil {
			emit(failed(fmt.Errorf("command %q: %w", lines.Text(), err)))
			continue
		}
		switch c.Cmd {
		case "change":
			receivedAt := wallMs()
			t, err := fl.apply(c.Mode)
			if err != nil {
				emit(failed(err))
				continue
			}
			emit(map[string]any{
				"event":             "changed",
				"receivedAt":        receivedAt,
				"changedNodes":      t.changedNodes,
				"routeVersion":      fl.routeVersion,
				"modelMs":           0,
				"translateEncodeMs": t.decodeMs,
				"setNodeMs":         t.setSnapshotMs,
				"totalMs":           t.decodeMs + t.setSnapshotMs,
			})
		case "prepare-pod":
			// Nothing to prepare: change-pod decodes the mode's resources, as a translation would.
			emit(map[string]any{"event": "prepared"})
		case "change-pod":
			receivedAt := wallMs()
			t, version, err := fl.applyPod(c.Index, c.Mode)
			if err != nil {
				emit(failed(err))
				continue
			}
			emit(map[string]any{
				"event":             "changed",
				"receivedAt":        receivedAt,
				"changedNodes":      t.changedNodes,
				"routeVersion":      version,
				"modelMs":           0,
				"translateEncodeMs": t.decodeMs,
				"setNodeMs":         t.setSnapshotMs,
				"totalMs":           t.decodeMs + t.setSnapshotMs,
			})
		case "stats":
			cpu := processCPU()
			mem := memoryNow(c.GC)
			if c.GC {
				prof.heap()
			}
			emit(map[string]any{
				"event":             "stats",
				"at":                wallMs(),
				"cpu":               cpu,
				"rss":               mem.rss,
				"heapUsed":          mem.used,
				"counters":          book.snapshot(),
				"distinctResources": fl.distinctResources(),
			})
		case "settle":
			book.settle(c.Acks, c.Subscriptions)
		case "exit":
			exit()
		default:
			emit(failed(fmt.Errorf("unknown command %q", c.Cmd)))
		}
	}
	// stdin closed: the driver is gone, and a benchmark child must not outlive it.
	exit()
	return nil
}

// command is one line from run.ts (ServerCommand in bench/xds/messages.ts).
type command struct {
	Cmd  string `json:"cmd"`
	Mode string `json:"mode"`
	GC   bool   `json:"gc"`
	Acks int64  `json:"acks"`
	// Subscriptions (settle) and Index (change-pod) as in bench/xds/messages.ts.
	Subscriptions int64 `json:"subscriptions"`
	Index         int   `json:"index"`
}
