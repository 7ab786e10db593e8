package accounts

import (
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"flagstream/pipeline/cases"
)

var t0 = time.Date(2021, 2, 4, 10, 0, 0, 0, time.UTC)

func learned(handle, id string) cases.Binding {
	return cases.Binding{Handle: handle, UserID: id, FirstSeen: t0, TweetID: "1", Source: cases.BindingLearned}
}

func pinned(handle, id string) cases.Binding {
	b := learned(handle, id)
	b.Source = cases.BindingPinned
	return b
}

// bound returns what BoundHandles gives for id.
func bound(t *Table, id string) []string {
	var out []string
	t.BoundHandles([]byte(id), func(h []byte) { out = append(out, string(h)) })
	return out
}

func TestTable(t *testing.T) {
	tab := NewTable()
	if got := bound(tab, "1"); got != nil {
		t.Fatalf("empty table binds %v", got)
	}
	if n := tab.Apply([]cases.Binding{learned("Kisan_Ekta", "1"), learned("tractor2", "1"), learned("other", "2")}); n != 3 {
		t.Errorf("Apply changed %d, want 3", n)
	}
	for _, tc := range []struct {
		id   string
		want []string
	}{{"1", []string{"kisan_ekta", "tractor2"}}, {"2", []string{"other"}}, {"3", nil}} {
		if got := bound(tab, tc.id); !slices.Equal(got, tc.want) {
			t.Errorf("BoundHandles(%s) = %v, want %v", tc.id, got, tc.want)
		}
	}
	if id, ok := tab.UserID("kisan_ekta"); !ok || id != "1" {
		t.Errorf("UserID(kisan_ekta) = %q, %v; want 1", id, ok)
	}

	// A later binding replaces an earlier one; the same one changes nothing.
	if n := tab.Apply([]cases.Binding{learned("tractor2", "5"), learned("other", "2")}); n != 1 {
		t.Errorf("Apply changed %d, want 1", n)
	}
	if got := bound(tab, "1"); !slices.Equal(got, []string{"kisan_ekta"}) {
		t.Errorf("after rebinding tractor2: BoundHandles(1) = %v", got)
	}

	// A pinned binding in the topic is not replaced by a learned one.
	tab.Apply([]cases.Binding{pinned("other", "7"), learned("other", "8")})
	if id, _ := tab.UserID("other"); id != "7" {
		t.Errorf("a learned binding replaced a pinned one: other → %s, want 7", id)
	}
	tab.Apply([]cases.Binding{pinned("other", "9")})
	if id, _ := tab.UserID("other"); id != "9" {
		t.Errorf("a new pin did not replace the old: other → %s, want 9", id)
	}

	// The lists' pins win over the topic, and go when the lists drop them.
	tab.SetPins(map[string]string{"kisan_ekta": "42", "newpin": "42"})
	if got := bound(tab, "42"); !slices.Equal(got, []string{"kisan_ekta", "newpin"}) {
		t.Errorf("pinned: BoundHandles(42) = %v", got)
	}
	if got := bound(tab, "1"); got != nil {
		t.Errorf("a pinned handle still bound to the topic's id: %v", got)
	}
	tab.SetPins(nil)
	if got := bound(tab, "1"); !slices.Equal(got, []string{"kisan_ekta"}) {
		t.Errorf("pins removed: BoundHandles(1) = %v, want the topic's binding back", got)
	}

	tab.Remove("kisan_ekta")
	if _, ok := tab.UserID("kisan_ekta"); ok || tab.Len() != 2 {
		t.Errorf("after Remove: bound %v, %d handles", ok, tab.Len())
	}
}

func TestTableBoundHandlesAllocs(t *testing.T) {
	tab := NewTable()
	tab.Apply([]cases.Binding{learned("a", "1"), learned("b", "1")})
	id := []byte("1")
	n := 0
	fn := func(h []byte) { n += len(h) }
	if allocs := testing.AllocsPerRun(100, func() { tab.BoundHandles(id, fn) }); allocs != 0 {
		t.Errorf("BoundHandles allocates %v times per call, want 0", allocs)
	}
}

// TestTableConcurrent reads the table from many goroutines while it
// changes: under -race, the view is immutable once published.
func TestTableConcurrent(t *testing.T) {
	tab := NewTable()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				tab.BoundHandles([]byte("1"), func(h []byte) {
					if len(h) == 0 {
						t.Error("empty handle")
					}
				})
				tab.UserID("h1")
			}
		})
	}
	for i := range 200 {
		tab.Apply([]cases.Binding{learned("h"+strconv.Itoa(i%20), strconv.Itoa(1+i%3))})
		if i%50 == 0 {
			tab.SetPins(map[string]string{"h1": strconv.Itoa(i + 1)})
		}
	}
	close(stop)
	wg.Wait()
}

func BenchmarkTableBoundHandles(b *testing.B) {
	tab := NewTable()
	var bs []cases.Binding
	for i := range 2000 {
		bs = append(bs, learned("handle_"+strconv.Itoa(i), strconv.Itoa(1000+i)))
	}
	tab.Apply(bs)
	hit, miss := []byte("1500"), []byte("999999")
	n := 0
	fn := func(h []byte) { n += len(h) }
	b.ReportAllocs()
	for b.Loop() {
		tab.BoundHandles(hit, fn)
		tab.BoundHandles(miss, fn)
	}
}
