package cases

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestJSONWriterTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2021, 2, 4, 9, 0, 0, 0, time.UTC),
		time.Date(2021, 2, 4, 9, 0, 0, 120_000_000, time.UTC),
		time.Date(2021, 2, 4, 9, 0, 0, 1, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		var w jsonWriter
		w.time(tm)
		want, err := json.Marshal(tm)
		if err != nil {
			t.Fatal(err)
		}
		if w.err != nil || !bytes.Equal(w.b, want) {
			t.Errorf("time(%v) = %s, %v; want %s", tm, w.b, w.err, want)
		}
	}
	var w jsonWriter
	w.time(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	if w.err == nil {
		t.Error("time in the year 10000: no error")
	}
}
