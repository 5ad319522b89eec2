package main

import (
	"encoding/json"
	"os"
	"sync"
	"time"
)

// wallMs is milliseconds since the Unix epoch, comparable with bench/support/clock.ts wallMs()
// (performance.timeOrigin + performance.now()) in the driver and the engines.
func wallMs() float64 {
	return float64(time.Now().UnixNano()) / 1e6
}

var stdout = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

// emit writes one event line for the driver; stdout carries nothing else.
func emit(event any) {
	stdout.Lock()
	defer stdout.Unlock()
	if err := stdout.enc.Encode(event); err != nil {
		os.Exit(1)
	}
}

func failed(err error) map[string]any {
	return map[string]any{"event": "failed", "message": err.Error()}
}

// fail reports an error the program cannot go on from, and exits.
func fail(err error) {
	emit(failed(err))
	os.Exit(1)
}
