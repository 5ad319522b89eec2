package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	// Registers the Envoy types our resources are, so anypb can find them by type URL.
	_ "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// exportedResource is one entry of fleet.json (bench/peers/export-fleet.ts, ExportedResource).
type exportedResource struct {
	TypeURL string `json:"typeUrl"`
	Name    string `json:"name"`
	// Version is our server's content version; go-control-plane computes its own.
	Version string `json:"version"`
	Size    int    `json:"size"`
	File    string `json:"file"`
}

// exportedFleet is fleet.json (ExportedFleet): the node ids and, per DenyRules mode, the
// resources every node gets.
type exportedFleet struct {
	Nodes       []string                      `json:"nodes"`
	InitialMode string                        `json:"initialMode"`
	Modes       map[string][]exportedResource `json:"modes"`
}

// variant is the encoded resources of one mode, kept as bytes: a change decodes them afresh, the
// way a translation produces new typed messages for every change.
type variant struct {
	resources []exportedResource
	bytes     [][]byte
}

// fleet is what the benchmark serves: the node ids and the encoded resources of each mode.
type fleet struct {
	nodes       []string
	initialMode string
	modes       map[string]variant
}

// loadFleet reads fleet.json and every resource file it names from dir.
func loadFleet(dir string) (*fleet, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "fleet.json"))
	if err != nil {
		return nil, err
	}
	var exported exportedFleet
	if err := json.Unmarshal(raw, &exported); err != nil {
		return nil, fmt.Errorf("fleet.json: %w", err)
	}
	f := &fleet{nodes: exported.Nodes, initialMode: exported.InitialMode, modes: map[string]variant{}}
	for mode, rs := range exported.Modes {
		v := variant{resources: rs}
		for _, r := range rs {
			b, err := os.ReadFile(filepath.Join(dir, r.File))
			if err != nil {
				return nil, err
			}
			if len(b) != r.Size {
				return nil, fmt.Errorf("%s: %d bytes, fleet.json says %d", r.File, len(b), r.Size)
			}
			v.bytes = append(v.bytes, b)
		}
		f.modes[mode] = v
	}
	if _, ok := f.modes[f.initialMode]; !ok {
		return nil, fmt.Errorf("fleet.json: initial mode %q has no resources", f.initialMode)
	}
	return f, nil
}

// decode turns a variant's bytes into typed Envoy messages grouped by type URL, which is what
// go-control-plane users put in snapshots.
func (v variant) decode() (map[resource.Type][]types.Resource, error) {
	out := map[resource.Type][]types.Resource{}
	for i, r := range v.resources {
		msg, err := anypb.UnmarshalNew(&anypb.Any{TypeUrl: r.TypeURL, Value: v.bytes[i]}, proto.UnmarshalOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", r.TypeURL, r.Name, err)
		}
		if got := cache.GetResourceName(msg); got != r.Name {
			return nil, fmt.Errorf("%s %q decodes to a resource named %q", r.TypeURL, r.Name, got)
		}
		out[r.TypeURL] = append(out[r.TypeURL], msg)
	}
	return out, nil
}

// versionOf is the delta version go-control-plane gives a resource: the hex SHA-256 of its
// deterministic marshal (cache.ConstructVersionMap). Engines see this, not our version.
func versionOf(r types.Resource) (string, error) {
	b, err := cache.MarshalResource(r)
	if err != nil {
		return "", err
	}
	return cache.HashResource(b), nil
}
