package cases_test

import (
	"testing"
	"time"

	"flagstream/pipeline/cases"
)

func BenchmarkApply(b *testing.B) {
	e := handleEvidence(b, meity)
	in := e.input()
	opened, _, err := cases.Apply(nil, in, t0, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("opened", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, out, _ := cases.Apply(nil, in, t0, cfg); len(out.Events) != 1 {
				b.Fatal("no opened event")
			}
		}
	})
	b.Run("counted", func(b *testing.B) {
		// The common case: evidence inside the update interval, no
		// event.
		b.ReportAllocs()
		for b.Loop() {
			if _, out, _ := cases.Apply(opened, in, t0.Add(time.Second), cfg); len(out.Events) != 0 {
				b.Fatal("an event inside the interval")
			}
		}
	})
	b.Run("updated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, out, _ := cases.Apply(opened, in, t0.Add(time.Hour), cfg); len(out.Events) != 1 {
				b.Fatal("no updated event")
			}
		}
	})
	b.Run("reassigned_again", func(b *testing.B) {
		other := e.by("9999", "Kisan_Ekta").input()
		held, _, _ := cases.Apply(opened, other, t0, cfg)
		b.ReportAllocs()
		for b.Loop() {
			if next, _, _ := cases.Apply(held, other, t0.Add(time.Second), cfg); next != held {
				b.Fatal("state changed")
			}
		}
	})
}

func BenchmarkProcessorApply(b *testing.B) {
	p := cases.NewProcessor(cfg)
	var inputs []cases.Input
	for _, d := range []cases.Demand{meity, netzdg} {
		for _, h := range []string{"@a", "@b", "@c", "@d", "@e", "@f", "@g", "@h"} {
			inputs = append(inputs, evidence(b, d, cases.EntryHandle, h).by("1111", h[1:]).input())
		}
	}
	now := t0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := p.Apply(inputs[i%len(inputs)], now); err != nil {
			b.Fatal(err)
		}
		i++
		now = now.Add(time.Millisecond)
	}
}

func BenchmarkEventAppend(b *testing.B) {
	_, out, err := cases.Apply(nil, handleEvidence(b, meity).input(), t0, cfg)
	if err != nil {
		b.Fatal(err)
	}
	ev := out.Events[0]
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = ev.Append(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkInputAppend(b *testing.B) {
	in := handleEvidence(b, meity).input()
	buf := make([]byte, 0, 4096)
	var err error
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = in.Append(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeInput(b *testing.B) {
	in := handleEvidence(b, meity).input()
	rec, err := in.Append(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(rec)))
	var d cases.InputDecoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkState(b *testing.B) {
	s, _, err := cases.Apply(nil, handleEvidence(b, meity).input(), t0, cfg)
	if err != nil {
		b.Fatal(err)
	}
	rec, err := s.Append(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("append", func(b *testing.B) {
		buf := make([]byte, 0, 4096)
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = s.Append(buf[:0])
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cases.DecodeState(nil, rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCaseOf(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cases.CaseOf("IN-MEITY-2021-02-04", cases.EntryHandle, "@Kisan_Ekta"); err != nil {
			b.Fatal(err)
		}
	}
}
