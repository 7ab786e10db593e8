package bench

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
)

// ConsumerConfig configures the bare consumer.
type ConsumerConfig struct {
	Brokers []string
	Topic   string
	Group   string
	Records int // records to read
}

// ConsumerResult is what the bare consumer measured, from its second
// record on (the first waits for the group to be joined): records read
// since, the wall time, the rate and the process's CPU time meanwhile.
type ConsumerResult struct {
	// Startup is the time from the start of Consume to the first record:
	// joining the group, the first fetch.
	Startup    float64 `json:"startup_seconds"`
	Records    int     `json:"records"`
	Seconds    float64 `json:"seconds"`
	Rate       float64 `json:"rate"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

// Consume reads cfg.Records records with a bare kafka-go consumer group
// and does nothing else with them: the ceiling that any processor built on
// kafka-go can reach on the same broker. It is the consumer of the
// independent measurement (../shared/bench/baseline), written again: a
// kafka.Reader with MinBytes 1, MaxBytes 16 MiB and CommitInterval 1 s,
// starting at the first offset, FetchMessage and CommitMessages for each
// record.
func Consume(ctx context.Context, cfg ConsumerConfig) (ConsumerResult, error) {
	if cfg.Records < 2 {
		return ConsumerResult{}, fmt.Errorf("bench consumer: at least 2 records to read, not %d", cfg.Records)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Brokers, GroupID: cfg.Group, Topic: cfg.Topic,
		MinBytes: 1, MaxBytes: 16 << 20, StartOffset: kafka.FirstOffset, CommitInterval: time.Second})
	defer r.Close()
	begin := time.Now()
	var start time.Time
	var cpu0 time.Duration
	for i := range cfg.Records {
		if i == 1 {
			start, cpu0 = time.Now(), processCPU()
		}
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return ConsumerResult{}, fmt.Errorf("bench consumer: fetch: %w", err)
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			return ConsumerResult{}, fmt.Errorf("bench consumer: commit: %w", err)
		}
	}
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	n := cfg.Records - 1
	return ConsumerResult{Startup: start.Sub(begin).Seconds(), Records: n, Seconds: elapsed.Seconds(), Rate: float64(n) / elapsed.Seconds(),
		CPUSeconds: cpu.Seconds()}, nil
}

// processCPU returns the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
