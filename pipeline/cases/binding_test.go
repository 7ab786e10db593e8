package cases_test

import (
	"strings"
	"testing"
	"time"

	"flagstream/pipeline/cases"
)

// checkBinding checks that a binding to publish validates against the
// published schema and survives the bindings topic.
func checkBinding(t *testing.T, b *cases.Binding) {
	t.Helper()
	line, err := b.Append(nil)
	if err != nil {
		t.Fatalf("Binding.Append: %v", err)
	}
	if err := validate(schema(t, "binding.schema.json"), line); err != nil {
		t.Errorf("binding does not validate: %v\n%s", err, line)
	}
	key, err := b.Key()
	if err != nil {
		t.Fatalf("Key: %v", err)
	}
	back, err := cases.DecodeBinding([]byte(key), line)
	if err != nil {
		t.Fatalf("DecodeBinding: %v\n%s", err, line)
	}
	if back != *b {
		t.Errorf("round trip: %+v, want %+v", back, *b)
	}
}

func TestBinding(t *testing.T) {
	b := cases.Binding{Handle: "Kisan_Ekta", UserID: "1234567890", FirstSeen: time.Date(2021, 2, 4, 9, 0, 0, 0, time.UTC), TweetID: "1357254297624866818", Source: cases.BindingLearned}
	checkBinding(t, &b)
	line, _ := b.Append(nil)
	const want = `{"schema":"flagstream.binding/v1","handle":"Kisan_Ekta","user_id":"1234567890","first_seen":"2021-02-04T09:00:00Z","tweet_id":"1357254297624866818","source":"learned"}` + "\n"
	if string(line) != want {
		t.Errorf("Append = %s, want %s", line, want)
	}
	if k, _ := b.Key(); k != "kisan_ekta" {
		t.Errorf("Key = %q, want kisan_ekta", k)
	}
	p := b
	p.Source = cases.BindingPinned
	checkBinding(t, &p)
}

func TestDecodeBindingRefuses(t *testing.T) {
	good := `{"schema":"flagstream.binding/v1","handle":"Kisan_Ekta","user_id":"1234567890","first_seen":"2021-02-04T09:00:00Z","tweet_id":"1","source":"learned"}`
	if _, err := cases.DecodeBinding([]byte("kisan_ekta"), []byte(good)); err != nil {
		t.Fatalf("good binding: %v", err)
	}
	if _, err := cases.DecodeBinding(nil, []byte(strings.Replace(good, `"source"`, `"extra":1,"source"`, 1))); err != nil {
		t.Errorf("a binding with a field added by a later version: %v", err)
	}
	for _, tc := range []struct{ name, key, value string }{
		{"not JSON", "", "kisan_ekta=1234567890"},
		{"wrong schema", "", strings.Replace(good, "binding/v1", "binding/v2", 1)},
		{"handle with @", "", strings.Replace(good, `"Kisan_Ekta"`, `"@Kisan_Ekta"`, 1)},
		{"handle too long", "", strings.Replace(good, `"Kisan_Ekta"`, `"Kisan_Ekta_too_long"`, 1)},
		{"user id with leading zeros", "", strings.Replace(good, `"1234567890"`, `"01234567890"`, 1)},
		{"user id not numeric", "", strings.Replace(good, `"1234567890"`, `"kisan"`, 1)},
		{"unknown source", "", strings.Replace(good, `"learned"`, `"guessed"`, 1)},
		{"no first_seen", "", strings.Replace(good, `"first_seen":"2021-02-04T09:00:00Z",`, "", 1)},
		{"key of another handle", "kisan", good},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var key []byte
			if tc.key != "" {
				key = []byte(tc.key)
			}
			if _, err := cases.DecodeBinding(key, []byte(tc.value)); cases.ReasonOf(err) != cases.ReasonInvalidBinding {
				t.Errorf("DecodeBinding: %v, want reason invalid_binding", err)
			}
			if tc.key == "" {
				if err := validate(schema(t, "binding.schema.json"), []byte(tc.value)); err == nil {
					t.Errorf("the schema accepts it")
				}
			}
		})
	}
}

// FuzzDecodeBinding decodes arbitrary records of the bindings topic, as
// every instance's follower does: it never panics, refuses with
// ReasonInvalidBinding, and what it accepts is a valid binding that
// round-trips through Append and DecodeBinding under its key.
func FuzzDecodeBinding(f *testing.F) {
	f.Add([]byte("kisan_ekta"), []byte(`{"schema":"flagstream.binding/v1","handle":"Kisan_Ekta","user_id":"1234567890","first_seen":"2021-02-04T09:00:00Z","tweet_id":"1","source":"learned"}`))
	f.Add([]byte(""), []byte(`{"schema":"flagstream.binding/v1","handle":"a","user_id":"01","first_seen":"2021-02-04T09:00:00+05:30","source":"pinned","extra":[1]}`))
	f.Add([]byte("x"), []byte(`{"schema":"flagstream.binding/v1","handle":"x","user_id":"18446744073709551616","first_seen":null,"source":"learned"}`))
	f.Add([]byte("x"), []byte(`[]`))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		var k []byte
		if len(key) > 0 {
			k = key
		}
		b, err := cases.DecodeBinding(k, value)
		if err != nil {
			if cases.ReasonOf(err) != cases.ReasonInvalidBinding {
				t.Fatalf("refused with %v, want reason %s", err, cases.ReasonInvalidBinding)
			}
			return
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("accepted an invalid binding %+v: %v", b, err)
		}
		line, err := b.Append(nil)
		if err != nil {
			t.Fatalf("Append of an accepted binding: %v", err)
		}
		bk, _ := b.Key()
		back, err := cases.DecodeBinding([]byte(bk), line)
		if err != nil || back != b {
			t.Fatalf("round trip: %+v, %v; want %+v", back, err, b)
		}
	})
}
