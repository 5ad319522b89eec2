package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// profiler writes pprof profiles for `run.ts --profile` (read them with `go tool pprof`); a zero
// profiler does nothing.
type profiler struct {
	prefix string
	cpu    *os.File
}

// start begins the CPU profile, which covers the process until stop.
func (p *profiler) start() error {
	if p.prefix == "" {
		return nil
	}
	f, err := os.Create(p.prefix + ".cpu.pprof")
	if err != nil {
		return err
	}
	p.cpu = f
	return pprof.StartCPUProfile(f)
}

func (p *profiler) stop() {
	if p.cpu == nil {
		return
	}
	pprof.StopCPUProfile()
	p.cpu.Close()
}

// heap writes the live heap now (overwriting the previous one), after a GC the caller ran, and
// says how many goroutines there are: per connection and per stream, they are part of the cost.
func (p *profiler) heap() {
	if p.prefix == "" {
		return
	}
	f, err := os.Create(p.prefix + ".heap.pprof")
	if err != nil {
		fmt.Fprintf(os.Stderr, "heap profile: %v\n", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		fmt.Fprintf(os.Stderr, "heap profile: %v\n", err)
	}
	fmt.Fprintf(os.Stderr, "profile: %d goroutines\n", runtime.NumGoroutine())
}
