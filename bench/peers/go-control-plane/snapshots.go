package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// fleetServer keeps every node's snapshot in go-control-plane's SnapshotCache.
type fleetServer struct {
	fleet *fleet
	cache cache.SnapshotCache
	// resources are the typed messages every node's snapshot holds now (all nodes share them).
	resources       map[resource.Type][]types.Resource
	routeVersion    string
	routeNames      []string
	snapshotVersion int
}

// changeTimings says where a change's time went.
type changeTimings struct {
	changedNodes  int
	decodeMs      float64
	setSnapshotMs float64
}

// apply decodes the resources of `mode` into new typed messages (what a translation would hand
// over) and gives every node a new snapshot holding them, as go-control-plane users do after a
// configuration change. SetSnapshot answers the node's open delta watches synchronously: it
// hashes the snapshot's resources (ConstructVersionMap) and queues each stream's response.
func (s *fleetServer) apply(mode string) (changeTimings, error) {
	v, ok := s.fleet.modes[mode]
	if !ok {
		return changeTimings{}, fmt.Errorf("change: no resources for mode %q", mode)
	}
	t0 := wallMs()
	resources, err := v.decode()
	if err != nil {
		return changeTimings{}, err
	}
	t1 := wallMs()
	s.snapshotVersion++
	version := fmt.Sprint(s.snapshotVersion)
	ctx := context.Background()
	for _, node := range s.fleet.nodes {
		snap, err := cache.NewSnapshot(version, resources)
		if err != nil {
			return changeTimings{}, err
		}
		if err := s.cache.SetSnapshot(ctx, node, snap); err != nil {
			return changeTimings{}, fmt.Errorf("SetSnapshot %s: %w", node, err)
		}
	}
	t2 := wallMs()
	// The DenyRules mode is in the route configuration (served over RDS), not in the listener.
	routes := resources[resource.RouteType]
	if len(routes) != 1 {
		return changeTimings{}, fmt.Errorf("mode %s: expected one route configuration, found %d", mode, len(routes))
	}
	routeVersion, err := versionOf(routes[0])
	if err != nil {
		return changeTimings{}, err
	}
	changed := 0
	if routeVersion != s.routeVersion {
		changed = len(s.fleet.nodes)
	}
	s.routeVersion, s.resources = routeVersion, resources
	s.routeNames = []string{cache.GetResourceName(routes[0])}
	return changeTimings{changedNodes: changed, decodeMs: t1 - t0, setSnapshotMs: t2 - t1}, nil
}

// applyPod gives one node a new snapshot with the resources of `mode` (decoded afresh) and leaves
// every other node alone: a change that concerns one pod. Returns the node's route configuration version.
func (s *fleetServer) applyPod(index int, mode string) (changeTimings, string, error) {
	if index < 0 || index >= len(s.fleet.nodes) {
		return changeTimings{}, "", fmt.Errorf("change-pod: no pod %d", index)
	}
	v, ok := s.fleet.modes[mode]
	if !ok {
		return changeTimings{}, "", fmt.Errorf("change-pod: no resources for mode %q", mode)
	}
	t0 := wallMs()
	resources, err := v.decode()
	if err != nil {
		return changeTimings{}, "", err
	}
	t1 := wallMs()
	s.snapshotVersion++
	snap, err := cache.NewSnapshot(fmt.Sprint(s.snapshotVersion), resources)
	if err != nil {
		return changeTimings{}, "", err
	}
	if err := s.cache.SetSnapshot(context.Background(), s.fleet.nodes[index], snap); err != nil {
		return changeTimings{}, "", err
	}
	t2 := wallMs()
	version, err := versionOf(resources[resource.RouteType][0])
	if err != nil {
		return changeTimings{}, "", err
	}
	return changeTimings{changedNodes: 1, decodeMs: t1 - t0, setSnapshotMs: t2 - t1}, version, nil
}

// distinctResources counts the typed resources the snapshots hold (shared by all nodes).
func (s *fleetServer) distinctResources() int {
	n := 0
	for _, rs := range s.resources {
		n += len(rs)
	}
	return n
}

// reportRemarshal says on stderr whether go-control-plane's deterministic marshal of the decoded
// resources gives back our bytes, i.e. whether the engines receive byte-identical resources.
func (s *fleetServer) reportRemarshal() error {
	for mode, v := range s.fleet.modes {
		decoded, err := v.decode()
		if err != nil {
			return err
		}
		next := map[resource.Type]int{}
		for i, r := range v.resources {
			msg := decoded[r.TypeURL][next[r.TypeURL]]
			next[r.TypeURL]++
			b, err := cache.MarshalResource(msg)
			if err != nil {
				return err
			}
			same := "identical"
			if !bytes.Equal(b, v.bytes[i]) {
				same = fmt.Sprintf("DIFFERENT (%d B vs our %d B)", len(b), len(v.bytes[i]))
			}
			fmt.Fprintf(os.Stderr, "go-control-plane: %s %s %s re-marshals to %s bytes\n", mode, r.TypeURL, r.Name, same)
		}
	}
	return nil
}
