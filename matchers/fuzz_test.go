package matchers

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzNormalize(f *testing.F) {
	for _, s := range normalizeCorpus()[:200] {
		f.Add(s)
	}
	f.Add("a\xffb\xc0")
	f.Fuzz(func(t *testing.T, s string) {
		var n Normalizer
		checkNormalizeProperties(t, &n, []byte(s))
		// Key agrees with the tiers computed one by one.
		e := n.Exact(nil, []byte(s))
		l := n.Loose(nil, e)
		k := n.Lookalike(nil, l)
		for tier, want := range [][]byte{e, l, k} {
			if got := n.Key(nil, []byte(s), Tier(tier)); !bytes.Equal(got, want) {
				t.Errorf("Key(%+q, %v) = %+q, want %+q", s, Tier(tier), got, want)
			}
		}
	})
}

func FuzzExtract(f *testing.F) {
	for _, s := range extractCorpus {
		f.Add(s)
	}
	f.Add("#\ufe0f\u20e3 #\u200b\u20e3 @\u200b@x ＠＠ｘ")
	f.Fuzz(func(t *testing.T, s string) {
		text := []byte(s)
		checkExtractInvariants(t, text)
		if name, ok := ExtractReply(text); ok && (len(name) == 0 || len(name) > 20) {
			t.Errorf("ExtractReply(%+q) = %q, want 1 to 20 characters", s, name)
		}
	})
}

func FuzzLinks(f *testing.F) {
	for _, s := range []string{
		"see https://news.example.org/story?id=1 now",
		"example．org ｅｘａｍｐｌｅ。ｏｒｇ exam\u200bple.org.",
		"jane.doe@example.org https://example.org@evil.example.com/x",
		"http://[2001:db8::1]:8080/x a..b.c https://user:pw@host.example/",
		"(example.org/a.b), \"example.org/x?\" 1.2.3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text := []byte(s)
		links := ExtractLinks(nil, text)
		var n Normalizer
		end := 0
		for i, l := range links {
			if !(end <= l.Start && l.Start <= l.Host && l.Host < l.HostEnd && l.HostEnd <= l.End && l.End <= len(text)) {
				t.Fatalf("ExtractLinks(%+q): link %d %+v out of order or overlapping (previous end %d, len %d)", s, i, l, end, len(text))
			}
			end = l.End
			checkHost(t, &n, text[l.Host:l.HostEnd])
		}
		host := HostOfURL(text)
		if len(host) > 0 && !bytes.Contains(text, host) {
			t.Errorf("HostOfURL(%+q) = %+q, not part of the URL", s, host)
		}
		checkHost(t, &n, host)
	})
}

// checkHost checks NormalizeHost and ParentDomains on a host.
func checkHost(t *testing.T, n *Normalizer, host []byte) {
	t.Helper()
	norm := NormalizeHost(n, nil, host)
	if utf8.Valid(host) && !utf8.Valid(norm) {
		t.Errorf("NormalizeHost(%+q) = %+q is not valid UTF-8", host, norm)
	}
	if bytes.HasSuffix(norm, []byte(".")) {
		t.Errorf("NormalizeHost(%+q) = %+q ends in a dot", host, norm)
	}
	calls := 0
	ParentDomains(norm, func(d []byte) bool {
		calls++
		if !bytes.HasSuffix(norm, d) || len(d) == 0 && len(norm) > 0 {
			t.Errorf("ParentDomains(%+q) gave %+q, not a suffix", norm, d)
		}
		return true
	})
	if calls == 0 || calls > bytes.Count(norm, []byte("."))+1 {
		t.Errorf("ParentDomains(%+q) called fn %d times", norm, calls)
	}
}

// FuzzNormalizeHost checks the IDNA key of any host: stable, free of a
// trailing dot, ASCII when the host is valid, the same through the cache,
// and a fixed point for valid hosts; and that its lookalike key can be
// computed.
func FuzzNormalizeHost(f *testing.F) {
	for _, s := range []string{"пример.рф", "XN--E1AFMKFD.XN--P1AI", "straße.de", "exаmple.org", "exam\u200dple.org",
		"xn--zz.example", "a..b", ".", "", "ｅｘａｍｐｌｅ。ｏｒｇ", "\u0644\u0627.example", "r3---sn.example", "xn--", "ß.ß.ß"} {
		f.Add(s)
	}
	var n, fresh Normalizer
	f.Fuzz(func(t *testing.T, host string) {
		key, valid := n.hostKey(nil, []byte(host))
		again, validAgain := n.hostKey(nil, []byte(host))
		if !bytes.Equal(key, again) || valid != validAgain {
			t.Fatalf("hostKey(%+q) = %+q, %v, then %+q, %v", host, key, valid, again, validAgain)
		}
		if uncached, v := (&Normalizer{}).hostKey(nil, []byte(host)); !bytes.Equal(key, uncached) || v != valid {
			t.Fatalf("hostKey(%+q) = %+q, %v cached, %+q, %v fresh", host, key, valid, uncached, v)
		}
		if bytes.HasSuffix(key, []byte(".")) {
			t.Errorf("hostKey(%+q) = %+q ends in a dot", host, key)
		}
		if utf8.ValidString(host) && !utf8.Valid(key) {
			t.Errorf("hostKey(%+q) = %+q is not valid UTF-8", host, key)
		}
		if valid {
			if !isASCII(key) {
				t.Errorf("hostKey(%+q) = %+q, valid but not ASCII", host, key)
			}
			if k2, v2 := fresh.hostKey(nil, key); !bytes.Equal(k2, key) || !v2 {
				t.Errorf("hostKey(%+q) = %+q, whose own key is %+q (valid %v)", host, key, k2, v2)
			}
		}
		n.AppendHostLookalike(nil, key)
		checkHost(t, &n, []byte(host))
	})
}

// FuzzTextsFile checks the reading of texts files and the texts in them:
// every text EachTextLine gives is trimmed, not a comment, on an
// increasing line that holds it; a text's key, word count and shingles are
// stable, and a text that is valid compiles into a snapshot where it
// matches itself at similarity 1.
func FuzzTextsFile(f *testing.F) {
	f.Add([]byte("# claims\n\nThe government has secretly added a tracking chemical to the new vaccine\n  We are # 1 in the world and nobody can tell us otherwise ever  \r\n#\n"))
	f.Add([]byte("RT @x: short one https://t.co/x\n农民抗议农民抗议农民抗议\nकिसान आंदोलन जारी है दिल्ली की सीमाओं पर हज़ारों किसान\n"))
	f.Add([]byte("\xff\xfe\n#\tcomment\n" + strings.Repeat("word ", 900)))
	f.Add([]byte("rt ://x a:// b (https://t.co/y) www. WWW.X.Y wwwx.y @a@b c Rt y y rt a:/ b c:// d e f g h\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Split(data, []byte("\n"))
		last := 0
		var (
			n  Normalizer
			sh shingler
		)
		EachTextLine(data, func(line int, text []byte) {
			if line <= last || line > len(lines) {
				t.Fatalf("line %d after %d, of %d", line, last, len(lines))
			}
			last = line
			if len(text) == 0 || !bytes.Equal(text, bytes.TrimSpace(text)) || !bytes.Contains(lines[line-1], text) {
				t.Fatalf("line %d: text %q is not the trimmed line %q", line, text, lines[line-1])
			}
			if text[0] == '#' && (len(text) == 1 || text[1] == ' ' || text[1] == '\t') {
				t.Fatalf("line %d: comment %q given as a text", line, text)
			}
			key, err := appendTextKey(nil, &n, text)
			again, err2 := appendTextKey(nil, &n, text)
			if !bytes.Equal(key, again) || (err == nil) != (err2 == nil) {
				t.Fatalf("appendTextKey(%q) unstable", text)
			}
			a := slices.Clone(sh.shingle(&n, text))
			if b := sh.shingle(&n, text); !slices.Equal(a, b) {
				t.Fatalf("shingles of %q unstable", text)
			}
			var w Words
			w.Split(&n, text)
			if b := sh.shingleSplit(&n, text, &w); !slices.Equal(a, b) {
				t.Fatalf("shingles of %q differ when given it split", text)
			}
			sh.wordHashes(&n, text, nil)
			fast := slices.Clone(sh.hashes)
			sh.anyText(&n, text, nil)
			if !slices.Equal(fast, sh.hashes) {
				t.Fatalf("words of %q differ between the ASCII and the general reading", text)
			}
			if err != nil || !utf8.Valid(text) {
				return
			}
			if w := sh.textWords(&n, text); w < TextMinWords {
				t.Fatalf("text %q of %d words accepted", text, w)
			}
			var d Demand
			d.ID, d.Jurisdictions = "F-1", []string{"IN"}
			d.Entries.Add(Entry{Kind: EntryText, Value: string(text)})
			s, _, err := Compile([]Demand{d}, time.Time{})
			if err != nil {
				t.Fatalf("Compile(%q): %v", text, err)
			}
			var m Matcher
			hits := m.Match(s, &Post{Parts: []Part{{In: InTweet, Tweet: &Tweet{Text: text}}}}, nil)
			if len(hits) != 1 || hits[0].Similarity != 1 {
				t.Fatalf("text %q matching itself: %d hits %+v", text, len(hits), hits)
			}
		})
	})
}

// FuzzTextCandidate checks the filter's early ruling-out (candidate)
// against the plain reading: all the words, all the distinct shingles,
// then the misses counted. A post the plain reading keeps must be kept,
// with the same shingles; one it rules out must be ruled out.
func FuzzTextCandidate(f *testing.F) {
	claims := []string{
		"the government has secretly added a tracking chemical to the new vaccine",
		"banks will freeze all savings accounts over ten thousand on monday morning",
		"farmers plan a march to the capital on republic day with their tractors",
	}
	var (
		n    Normalizer
		sh   shingler
		pool textPool
	)
	for i, c := range claims {
		pool.add(uint32(i), slices.Clone(sh.shingle(&n, []byte(c))))
	}
	x := buildTextIndex(&pool, nil, func(uint32) float64 { return DefaultTextSimilarity })
	for _, c := range claims {
		f.Add([]byte("RT @x: " + strings.ToUpper(c) + " https://t.co/x"))
		f.Add([]byte(c[:len(c)/2] + " and then something else entirely different from it"))
	}
	f.Add([]byte("a b https://x.y/z c d www.q.r e @f g rt h"))
	f.Add([]byte("Farmers plan a march, to the Capital: on republic day!! with tractors ünd"))
	f.Fuzz(func(t *testing.T, text []byte) {
		sh.wordHashes(&n, text, nil)
		want, misses, _ := sh.distinctIn(nil)
		want = slices.Clone(want)
		for _, h := range want {
			if !x.mayHave(h) {
				misses++
			}
		}
		allowed, ok := x.allowedMisses(len(want))
		keep := len(want) > 0 && ok && misses <= allowed
		got, gotKeep := sh.candidate(&n, text, nil, x)
		if gotKeep != keep {
			t.Fatalf("candidate(%q) keeps %t, want %t (%d shingles, %d missing)", text, gotKeep, keep, len(want), misses)
		}
		if keep && !slices.Equal(got, want) {
			t.Fatalf("candidate(%q) shingles %x, want %x", text, got, want)
		}
	})
}
