package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/valyala/fastjson"
)

// FuzzKeySet builds an object from the fuzzer's names (split at '|') and
// checks keySet against a map: it finds a repeat exactly when there is one,
// whatever the escaping of the names.
func FuzzKeySet(f *testing.F) {
	f.Add([]byte("a|b|c"), false)
	f.Add([]byte("a|b|a"), true)
	f.Add([]byte("id|id_str|screen_name|name|screen_name"), true)
	f.Add(bytes.Repeat([]byte("k|"), 40), false)
	f.Add([]byte("1|2|3|4|5|6|7|8|9|10|11|12|13|14|15|16|17|18|1"), true)
	var colliding []byte
	for i := range 60 {
		colliding = fmt.Appendf(colliding, "aaaaaaaa%02dbbbbbbbb|", i)
	}
	f.Add(colliding, false)
	f.Add(append(colliding, "aaaaaaaa07bbbbbbbb"...), false)
	var many []byte
	for i := range 300 {
		many = fmt.Appendf(many, "n%d|", i)
	}
	f.Add(append(many, "n7"...), false)
	f.Add(many[:len(many)-1], false)
	var (
		k  keySet
		ns nameSet
		p  fastjson.Parser
	)
	f.Fuzz(func(t *testing.T, names []byte, escape bool) {
		var obj []byte
		seen := map[string]bool{}
		var want []byte
		obj = append(obj, '{')
		for i, name := range bytes.Split(names, []byte("|")) {
			if i > 0 {
				obj = append(obj, ',')
			}
			var enc []byte
			if escape {
				enc = []byte(strconv.QuoteToASCII(string(name)))
			} else {
				enc, _ = json.Marshal(string(name))
			}
			obj = append(append(obj, enc...), ":0"...)
			// The name as a JSON parser reads it back.
			var back string
			if err := json.Unmarshal(enc, &back); err != nil {
				t.Skip()
			}
			if seen[back] && want == nil {
				want = []byte(back)
			}
			seen[back] = true
		}
		obj = append(obj, '}')
		v, err := p.ParseBytes(obj)
		if err != nil {
			t.Skip() // names fastjson's parser refuses
		}
		o, _ := v.Object()
		got := k.repeated(o)
		if (got == nil) != (want == nil) {
			t.Fatalf("repeated(%s) = %q, want a repeat: %v", obj, got, want != nil)
		}
		if got != nil && !seen[string(got)] {
			t.Fatalf("repeated(%s) = %q, not a name of the object", obj, got)
		}
		// nameSet, on the names as written (the on-demand reader gives
		// up on escaped ones), finds a repeat exactly when there is one.
		var buf []byte
		var at [][2]int
		raw := map[string]bool{}
		rawRepeat := false
		for _, name := range bytes.Split(names, []byte("|")) {
			at = append(at, [2]int{len(buf), len(buf) + len(name)})
			buf = append(buf, name...)
			rawRepeat = rawRepeat || raw[string(name)]
			raw[string(name)] = true
		}
		ns.start()
		early := false
		for _, a := range at {
			early = ns.add(buf, a[0], a[1]) || early
		}
		if got := ns.finish(buf) || early; got != rawRepeat {
			t.Fatalf("nameSet on %q: repeat %t, want %t", names, got, rawRepeat)
		}
	})
}
