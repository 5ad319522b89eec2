package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// cpuTime is process CPU in microseconds, the unit of Node's process.cpuUsage().
type cpuTime struct {
	User   int64 `json:"user"`
	System int64 `json:"system"`
}

// processCPU is getrusage(RUSAGE_SELF): all threads of the process, since it started.
func processCPU() cpuTime {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuTime{}
	}
	return cpuTime{User: ru.Utime.Nano() / 1000, System: ru.Stime.Nano() / 1000}
}

// memory is the process's resident set and the Go memory in use.
type memory struct {
	rss int64
	// used is live heap objects plus goroutine stacks: everything this program holds, where Bun's
	// heapUsed counts only the JavaScript heap.
	used int64
}

// memoryNow reads RSS from /proc/self/statm. With gc it first collects and returns freed memory
// to the OS (debug.FreeOSMemory); without, the Go runtime gives pages back lazily, so RSS would
// also hold garbage and free spans up to twice the live heap (GOGC=100).
func memoryNow(gc bool) memory {
	if gc {
		debug.FreeOSMemory()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{rss: residentBytes(), used: int64(ms.HeapAlloc + ms.StackInuse)}
}

func residentBytes() int64 {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(raw))
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
