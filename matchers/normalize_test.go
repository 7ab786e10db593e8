package matchers

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func exact(s string) string {
	var n Normalizer
	return string(n.Exact(nil, []byte(s)))
}

func loose(s string) string {
	var n Normalizer
	return string(n.Loose(nil, n.Exact(nil, []byte(s))))
}

func lookalike(s string) string {
	var n Normalizer
	return string(n.Lookalike(nil, n.Loose(nil, n.Exact(nil, []byte(s)))))
}

func TestExact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"ASCII lower", "farmergenocide", "farmergenocide"},
		{"ASCII mixed case", "FarmerGenocide", "farmergenocide"},
		{"ASCII upper with digits", "FARMERS2021", "farmers2021"},
		{"ASCII separators kept", "Farmer_Genocide", "farmer_genocide"},
		{"fullwidth", "ＦａｒｍｅｒＧｅｎｏｃｉｄｅ", "farmergenocide"},
		{"fullwidth digits and low line", "ｕｓｅｒ＿０１", "user_01"},
		{"mathematical bold", "𝐅𝐚𝐫𝐦𝐞𝐫", "farmer"},
		{"mathematical italic", "𝐹𝑎𝑟𝑚𝑒𝑟", "farmer"},
		{"mathematical double-struck", "𝔽𝕒𝕣𝕞𝕖𝕣", "farmer"},
		{"circled letters", "Ⓕⓐⓡⓜⓔⓡ", "farmer"},
		{"ligature", "ﬁre", "fire"},
		{"Kelvin sign", "\u212Aisan", "kisan"},
		{"sharp s", "Straße", "strasse"},
		{"capital sharp s", "STRAẞE", "strasse"},
		{"Greek final sigma folds", "ΣΟΦΙΑ", "σοφια"},
		{"Cyrillic kept", "Фермер", "фермер"},
		// Unicode folds Cherokee to its capitals.
		{"Cherokee capitals", "ᏣᎳᎩ", "ᏣᎳᎩ"},
		{"Cherokee small letters", "ꮳꮃꭹ", "ᏣᎳᎩ"},
		{"Cherokee small letter ye", "\u13F8", "\u13F0"},
		{"Devanagari vowel signs kept", "किसान", "किसान"},
		{"Devanagari composed nukta", "\u0958", "\u0915\u093C"},
		{"Devanagari decomposed nukta", "\u0915\u093C", "\u0915\u093C"},
		{"Gurmukhi composed nukta", "\u0A36", "\u0A38\u0A3C"},
		{"Gurmukhi decomposed nukta", "\u0A38\u0A3C", "\u0A38\u0A3C"},
		{"Gurmukhi word", "ਕਿਸਾਨ", "ਕਿਸਾਨ"},
		{"Tamil", "விவசாயி", "விவசாயி"},
		{"Latin composed and decomposed", "Cafe\u0301", "café"},
		{"only invisible", "\u200B\u2060\uFEFF", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exact(tt.in); got != tt.want {
				t.Errorf("Exact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// invisibles are one of each kind of default-ignorable character that can
// hide inside a token.
var invisibles = []struct {
	name string
	r    rune
}{
	{"zero width space", 0x200B},
	{"zero width non-joiner", 0x200C},
	{"zero width joiner", 0x200D},
	{"left-to-right mark", 0x200E},
	{"soft hyphen", 0x00AD},
	{"combining grapheme joiner", 0x034F},
	{"Arabic letter mark", 0x061C},
	{"Mongolian vowel separator", 0x180E},
	{"word joiner", 0x2060},
	{"invisible times", 0x2062},
	{"variation selector 16", 0xFE0F},
	{"variation selector 17", 0xE0100},
	{"right-to-left override", 0x202E},
	{"left-to-right isolate", 0x2066},
	{"pop directional isolate", 0x2069},
	{"byte order mark", 0xFEFF},
	{"tag latin capital A", 0xE0041},
	{"cancel tag", 0xE007F},
	{"Hangul filler", 0x3164},
	{"halfwidth Hangul filler", 0xFFA0},
}

func TestExactRemovesInvisible(t *testing.T) {
	for _, inv := range invisibles {
		t.Run(inv.name, func(t *testing.T) {
			if !IsInvisible(inv.r) {
				t.Errorf("IsInvisible(%U) = false, want true", inv.r)
			}
			for _, in := range []string{
				"Farmer" + string(inv.r) + "Genocide",
				string(inv.r) + "FarmerGenocide",
				"FarmerGenocide" + string(inv.r),
				"Ｆａｒｍｅｒ" + string(inv.r) + string(inv.r) + "Genocide",
			} {
				if got, want := exact(in), "farmergenocide"; got != want {
					t.Errorf("Exact(%q) = %q, want %q", in, got, want)
				}
			}
			// A mark after the invisible character still attaches to the
			// letter before it.
			in := "कि" + string(inv.r) + "सान"
			if got, want := exact(in), "किसान"; got != want {
				t.Errorf("Exact(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestIsInvisible(t *testing.T) {
	tests := []struct {
		r    rune
		want bool
	}{
		{'a', false},
		{' ', false},
		{0xA0, false},   // no-break space is a space, not invisible
		{0x093C, false}, // Devanagari nukta is a mark
		{0x0A3C, false}, // Gurmukhi nukta
		{0x0301, false}, // combining acute
		{0x2009, false}, // thin space
		{0x200B, true},
		{0x00AD, true},
		{0xE0041, true},
		{0xE0FFF, true},
		{0xF0000, false},
	}
	for _, tt := range tests {
		if got := IsInvisible(tt.r); got != tt.want {
			t.Errorf("IsInvisible(%U) = %v, want %v", tt.r, got, tt.want)
		}
	}
}

func TestExactKeepsMarks(t *testing.T) {
	// Words that differ only in a vowel sign or nukta must keep distinct
	// keys at every tier.
	tests := []struct {
		name string
		a, b string
	}{
		{"Devanagari vowel signs dropped", "किसान", "कसन"},
		{"Devanagari one vowel sign", "किसान", "कसान"},
		{"Devanagari vowel sign changed", "किसान", "कीसान"},
		{"Devanagari nukta", "ज़मीन", "जमीन"},
		{"Gurmukhi vowel sign", "ਕਿਸਾਨ", "ਕਸਾਨ"},
		{"Gurmukhi nukta", "ਸ਼ੇਰ", "ਸੇਰ"},
		{"Tamil vowel sign", "விவசாயி", "விவசாய"},
		{"Latin accent", "résumé", "resume"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if exact(tt.a) == exact(tt.b) {
				t.Errorf("Exact(%q) == Exact(%q) == %q, want them distinct", tt.a, tt.b, exact(tt.a))
			}
			if loose(tt.a) == loose(tt.b) {
				t.Errorf("Loose(%q) == Loose(%q) == %q, want them distinct", tt.a, tt.b, loose(tt.a))
			}
		})
	}
}

func TestExactEqualSpellings(t *testing.T) {
	tests := []struct {
		name string
		a, b string
	}{
		{"Devanagari qa", "\u0958", "\u0915\u093C"},
		{"Devanagari za in a word", "\u095Bमीन", "\u091C\u093Cमीन"},
		{"Gurmukhi sha", "\u0A36", "\u0A38\u0A3C"},
		{"Gurmukhi sha in a word", "\u0A36ੇਰ", "\u0A38\u0A3Cੇਰ"},
		{"Hangul syllable and jamo", "\uD55C", "\u1112\u1161\u11AB"},
		{"fullwidth and ASCII", "＃ＦａｒｍｅｒＧｅｎｏｃｉｄｅ", "#farmergenocide"},
		{"zero width space inside Devanagari", "किसान", "कि\u200Bसान"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := exact(tt.a), exact(tt.b); got != want {
				t.Errorf("Exact(%q) = %q, want Exact(%q) = %q", tt.a, got, tt.b, want)
			}
		})
	}
}

func TestLoose(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"underscore", "Farmer_Genocide", "farmergenocide"},
		{"middle dot", "farmer·genocide", "farmergenocide"},
		{"katakana middle dot", "farmer・genocide", "farmergenocide"},
		{"hyphen", "farmer-genocide", "farmergenocide"},
		{"full stop", "farmer.genocide", "farmergenocide"},
		{"space", "farmer genocide", "farmergenocide"},
		{"no-break space", "farmer\u00A0genocide", "farmergenocide"},
		{"ideographic space", "farmer\u3000genocide", "farmergenocide"},
		{"apostrophe and quotes", `farmer's "genocide"`, "farmersgenocide"},
		{"fullwidth low line", "ｆａｒｍｅｒ＿ｇｅｎｏｃｉｄｅ", "farmergenocide"},
		{"en dash", "farmer–genocide", "farmergenocide"},
		{"digits kept", "farmers_2021", "farmers2021"},
		{"symbols kept", "a+b=c", "a+b=c"},
		{"Devanagari marks kept", "किसान_आंदोलन", "किसानआंदोलन"},
		{"Gurmukhi marks kept", "ਕਿਸਾਨ·ਮੋਰਚਾ", "ਕਿਸਾਨਮੋਰਚਾ"},
		{"Devanagari danda dropped", "किसान।", "किसान"},
		{"only separators", "_-·. ", ""},
		{"no separators", "farmergenocide", "farmergenocide"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loose(tt.in); got != tt.want {
				t.Errorf("Loose(Exact(%q)) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLookalike(t *testing.T) {
	same := []struct {
		name string
		a, b string
	}{
		{"Cyrillic a", "f\u0430rmer", "farmer"},
		{"Cyrillic o and e", "g\u043Ev\u0435rnment", "government"},
		{"Greek omicron", "g\u03BFvernment", "government"},
		{"digit zero for o", "g0vernment", "government"},
		{"digit one for l", "fie1d", "field"},
		{"rn for m", "farrner", "farmer"},
		{"case", "FARMER", "farmer"},
		{"fullwidth with Cyrillic", "ｆ\u0430ｒｍｅｒ", "farmer"},
		{"separators", "far_mer", "farmer"},
	}
	for _, tt := range same {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := lookalike(tt.a), lookalike(tt.b); got != want {
				t.Errorf("Lookalike(%q) = %q, want Lookalike(%q) = %q", tt.a, got, tt.b, want)
			}
			if exact(tt.a) == exact(tt.b) && tt.name != "case" {
				t.Errorf("Exact(%q) == Exact(%q): the lookalike tier is not needed for this case", tt.a, tt.b)
			}
		})
	}
	differ := []struct {
		name string
		a, b string
	}{
		{"different words", "farmer", "former"},
		{"extra letter", "farmers", "farmer"},
		{"Devanagari vowel sign", "किसान", "कसान"},
	}
	for _, tt := range differ {
		t.Run(tt.name, func(t *testing.T) {
			if got := lookalike(tt.a); got == lookalike(tt.b) {
				t.Errorf("Lookalike(%q) == Lookalike(%q) == %q, want distinct", tt.a, tt.b, got)
			}
		})
	}
}

func TestKey(t *testing.T) {
	var n Normalizer
	for _, in := range []string{"Farmer_Genocide", "ＦａｒｍｅｒＧｅｎｏｃｉｄｅ", "f\u0430rm\u200Ber", "किसान_आंदोलन", ""} {
		t.Run(in, func(t *testing.T) {
			wants := [numTiers]string{exact(in), loose(in), lookalike(in)}
			for tier, want := range wants {
				got := n.Key([]byte("prefix:"), []byte(in), Tier(tier))
				if string(got) != "prefix:"+want {
					t.Errorf("Key(%q, %v) = %q, want %q", in, Tier(tier), got, "prefix:"+want)
				}
			}
		})
	}
}

func TestTierNames(t *testing.T) {
	for _, tier := range []Tier{TierExact, TierLoose, TierLookalike} {
		got, ok := ParseTier(tier.String())
		if !ok || got != tier {
			t.Errorf("ParseTier(%q) = %v, %v; want %v, true", tier.String(), got, ok, tier)
		}
	}
	if _, ok := ParseTier("fuzzy"); ok {
		t.Errorf("ParseTier(%q) succeeded, want failure", "fuzzy")
	}
	if got, want := Tier(9).String(), "unknown"; got != want {
		t.Errorf("Tier(9).String() = %q, want %q", got, want)
	}
}

// TestNormalizerAppends checks that the key is appended after dst's
// contents and that one Normalizer gives the same keys whatever it
// computed before (its scratch buffers do not leak into results).
func TestNormalizerAppends(t *testing.T) {
	var n Normalizer
	inputs := normalizeCorpus()
	for _, in := range inputs {
		dst := n.Exact([]byte("keep"), []byte(in))
		if !bytes.HasPrefix(dst, []byte("keep")) || string(dst[4:]) != exact(in) {
			t.Errorf("Exact(%q, %q) = %q, want %q", "keep", in, dst, "keep"+exact(in))
		}
		dst = n.Loose([]byte("keep"), []byte(exact(in)))
		if string(dst) != "keep"+loose(in) {
			t.Errorf("Loose(%q, Exact(%q)) = %q, want %q", "keep", in, dst, "keep"+loose(in))
		}
	}
}

// normalizeCorpus returns hand-written inputs and random strings drawn from
// an alphabet of characters the normalizer treats specially.
func normalizeCorpus() []string {
	in := []string{
		"", "a", "A", "ＦａｒｍｅｒＧｅｎｏｃｉｄｅ", "𝐅𝐚𝐫𝐦𝐞𝐫", "Ⓕⓐⓡⓜⓔⓡ", "Straße", "ẞ",
		"\u0958", "\u0915\u093C", "\u0A36", "किसान", "ਸ਼ੇਰ", "ΐ", "\u0390", "α\u0345", "ᾼ",
		"İstanbul", "ǰ", "ﬅ", "㎒", "¼", "\u1E9B\u0323", "\uFDFA", "x\U000E0041y", "Ꭰꭰ",
		"\u3164\uFFA0\u115F", "a\u200Bb\u00ADc", "farmer_genocide", "ｆａｒｍｅｒ＿ｇｅｎｏｃｉｄｅ",
		// More than 30 marks in a row: NFKC inserts U+034F, itself invisible.
		"a" + strings.Repeat("\u0301", 40), strings.Repeat("\u0316\u0301", 33),
	}
	alphabet := []rune("aAzZ09_-.· #@ßẞſKΣσςΐΰ\u0345\u0300\u0301\u0307\u0308" +
		"\u093C\u0915\u0958\u093F\u0A36\u0A38\u0A3C\u0B95\u0BBF\u1100\u1161\u11A8\uAC00" +
		"\u200B\u200C\u200D\u00AD\u2060\uFE0F\u202E\u2066\uFEFF\u3164\uFFA0" +
		"ＡａＦ＿０Ⓐⓐﬁﬀ㎒¼²ǅǄǆΩΩKÅ\u0130\u0131\u03D0\u1E9E\uFB05\uAB70\u13F8\U0001D400\U0001D41A\U000E0041\U000E0100")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(8) + 1 {
			if rng.IntN(8) == 0 {
				// Any valid code point, to go beyond the alphabet.
				r := rune(rng.IntN(0x10FFFF))
				if utf8.ValidRune(r) {
					b.WriteRune(r)
				}
				continue
			}
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		in = append(in, b.String())
	}
	return in
}

func TestNormalizeProperties(t *testing.T) {
	var n Normalizer
	for _, in := range normalizeCorpus() {
		checkNormalizeProperties(t, &n, []byte(in))
	}
}

// checkNormalizeProperties checks that Exact is idempotent, and, for valid
// UTF-8, that Loose of an exact key is idempotent and an exact key itself
// and that keys are valid UTF-8. (Loose of invalid UTF-8 can join stray
// bytes around a dropped separator into a new character; tokens and list
// entries are always valid UTF-8.)
func checkNormalizeProperties(t *testing.T, n *Normalizer, in []byte) {
	t.Helper()
	e := n.Exact(nil, in)
	if e2 := n.Exact(nil, e); !bytes.Equal(e2, e) {
		t.Errorf("Exact not idempotent for %+q: Exact = %+q, Exact(Exact) = %+q", in, e, e2)
	}
	l := n.Loose(nil, e)
	k := n.Lookalike(nil, l)
	if !utf8.Valid(in) {
		return
	}
	if l2 := n.Loose(nil, l); !bytes.Equal(l2, l) {
		t.Errorf("Loose not idempotent for %+q: Loose(Exact) = %+q, Loose(Loose(Exact)) = %+q", in, l, l2)
	}
	if l2 := n.Exact(nil, l); !bytes.Equal(l2, l) {
		t.Errorf("Loose(Exact) is not an exact key for %+q: Loose(Exact) = %+q, Exact of it = %+q", in, l, l2)
	}
	for name, key := range map[string][]byte{"Exact": e, "Loose": l, "Lookalike": k} {
		if !utf8.Valid(key) {
			t.Errorf("%s(%+q) = %+q is not valid UTF-8", name, in, key)
		}
	}
}

func BenchmarkExact(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"ASCII", "FarmerGenocide"},
		{"fullwidth", "ＦａｒｍｅｒＧｅｎｏｃｉｄｅ"},
		{"Devanagari", "किसान_आंदोलन"},
		{"zero width space", "Farmer\u200bGenocide"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n Normalizer
			in := []byte(bc.in)
			var dst []byte
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				dst = n.Exact(dst[:0], in)
			}
		})
	}
}

// BenchmarkLoose measures the loose key of an exact one, ASCII and not.
func BenchmarkLoose(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"ASCII", "farmer_genocide"},
		{"Devanagari", "किसान_आंदोलन"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n Normalizer
			exact := n.Exact(nil, []byte(bc.in))
			var dst []byte
			b.ReportAllocs()
			b.SetBytes(int64(len(exact)))
			for b.Loop() {
				dst = n.Loose(dst[:0], exact)
			}
		})
	}
}

// TestExactASCII checks that the exact key of an ASCII name is Exact's,
// that it reports separators when Loose drops some, and that it refuses
// names that are not ASCII.
func TestExactASCII(t *testing.T) {
	var n Normalizer
	check := func(src []byte) {
		t.Helper()
		got, separators, ascii := appendExactASCII([]byte("x"), src)
		if !isASCII(src) {
			if string(got) != "x" || separators || ascii {
				t.Fatalf("appendExactASCII(%q) = %q, %t, %t, want \"x\", false, false", src, got, separators, ascii)
			}
			return
		}
		want := n.Exact(nil, src)
		wantSeparators := len(n.Loose(nil, want)) != len(want)
		if string(got) != "x"+string(want) || separators != wantSeparators || !ascii {
			t.Fatalf("appendExactASCII(%q) = %q, %t, %t, want %q, %t, true", src, got[1:], separators, ascii, want, wantSeparators)
		}
	}
	for c := range 256 {
		check([]byte{byte(c)})
		check([]byte{'a', byte(c), '_'})
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		src := make([]byte, r.IntN(24))
		for i := range src {
			src[i] = byte(r.IntN(utf8.RuneSelf))
		}
		check(src)
	}
}

// BenchmarkExactASCII measures the exact key of a handle as lookupName
// makes it.
func BenchmarkExactASCII(b *testing.B) {
	in := []byte("Fict_User_0007")
	var dst []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		dst, _, _ = appendExactASCII(dst[:0], in)
	}
}

// TestIsASCII checks isASCII on every length to 40 with one non-ASCII
// byte at each place, and with none.
func TestIsASCII(t *testing.T) {
	for n := range 41 {
		b := bytes.Repeat([]byte{'a'}, n)
		if !isASCII(b) {
			t.Fatalf("isASCII(%q) = false, want true", b)
		}
		for i := range n {
			b[i] = 0x80
			if isASCII(b) {
				t.Fatalf("isASCII(%q) = true, want false", b)
			}
			b[i] = 'a'
		}
	}
}
