package matchers

import (
	"bufio"
	"compress/gzip"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// referenceConfusables parses the pinned confusables.txt that the table was
// generated from.
func referenceConfusables(t testing.TB) map[rune]string {
	f, err := os.Open("internal/confusablesgen/confusables-" + confusablesVersion + ".txt.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	m := map[rune]string{}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Split(line, ";")
		if len(fields) < 3 {
			continue
		}
		from, err := strconv.ParseUint(strings.TrimSpace(fields[0]), 16, 32)
		if err != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		var to strings.Builder
		for _, cp := range strings.Fields(fields[1]) {
			r, err := strconv.ParseUint(cp, 16, 32)
			if err != nil {
				t.Fatalf("bad line %q", sc.Text())
			}
			to.WriteRune(rune(r))
		}
		m[rune(from)] = to.String()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestConfusablesTableMatchesSource(t *testing.T) {
	ref := referenceConfusables(t)
	if len(ref) != len(confusableFrom) {
		t.Fatalf("source maps %d code points, table %d", len(ref), len(confusableFrom))
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		got, ok := confusablePrototype(r)
		want, wantOK := ref[r]
		if got != want || ok != wantOK {
			t.Fatalf("confusablePrototype(U+%04X) = %q, %v; want %q, %v", r, got, ok, want, wantOK)
		}
	}
}

// TestUnicodeVersionsAgree checks that every Unicode table the normalizer
// uses is of one version: Go's unicode package (letters, marks, scripts,
// and the default-ignorable table below), x/text's normalization and case
// folding, x/net's IDNA mapping, and the confusables table.
func TestUnicodeVersionsAgree(t *testing.T) {
	versions := map[string]string{
		"unicode":                 unicode.Version,
		"x/text/unicode/norm":     norm.Version,
		"x/text/cases":            cases.UnicodeVersion,
		"confusables (generated)": confusablesVersion,
		"x/net/idna":              idna.UnicodeVersion,
	}
	for name, v := range versions {
		if v != unicode.Version {
			t.Errorf("%s is Unicode %s, Go's unicode package %s", name, v, unicode.Version)
		}
	}
}

// TestDefaultIgnorableMatchesUnicode derives Default_Ignorable_Code_Point
// from Go's unicode tables as DerivedCoreProperties.txt defines it and
// compares it with the table IsInvisible uses.
func TestDefaultIgnorableMatchesUnicode(t *testing.T) {
	derived := func(r rune) bool {
		if unicode.Is(unicode.White_Space, r) || (0xFFF9 <= r && r <= 0xFFFB) ||
			(0x13430 <= r && r <= 0x1343F) || unicode.Is(unicode.Prepended_Concatenation_Mark, r) {
			return false
		}
		return unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Cf, r) ||
			unicode.Is(unicode.Variation_Selector, r)
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if got, want := IsInvisible(r), derived(r); got != want {
			t.Errorf("IsInvisible(U+%04X) = %v, Unicode %s says %v", r, got, unicode.Version, want)
		}
	}
}

// referenceSkeleton is UTS #39's definition, on strings.
func referenceSkeleton(ref map[rune]string, s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if p, ok := ref[r]; ok {
			b.WriteString(p)
		} else {
			b.WriteRune(r)
		}
	}
	return norm.NFD.String(b.String())
}

func TestSkeletonMatchesDefinition(t *testing.T) {
	ref := referenceConfusables(t)
	inputs := []string{
		"", "paypal", "pаypаl", "𝔭𝒶ỿ𝕡𝕒ℓ", "exаmple", "farmer", "fаrmer", "ｆａｒｍｅｒ", "Ǆemal",
		"किसान", "ਕਿਸਾਨ", "Ⅻ", "straße", "İstanbul", "ﬁle", "0l1I|", "m rn", "\u0301a", "é", "e\u0301",
		"中国", "日本語カタカナ", "ไทย", "\uFFFD", "a\u200Db",
	}
	for r := rune(0x80); r < 0x3000; r += 7 {
		inputs = append(inputs, "x"+string(r)+"y")
	}
	var n Normalizer
	for _, in := range inputs {
		got := string(n.appendSkeleton(nil, []byte(in)))
		if want := referenceSkeleton(ref, in); got != want {
			t.Errorf("skeleton(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLookalikeKeys(t *testing.T) {
	var n Normalizer
	key := func(s string) string {
		loose := n.Loose(nil, n.Exact(nil, []byte(s)))
		return string(n.Lookalike(nil, loose))
	}
	same := [][2]string{
		{"farmer", "fаrmer"},   // Cyrillic а
		{"farmer", "farrner"},  // rn for m
		{"paypal", "𝔭𝒶ỿ𝕡𝕒ℓ"},   // styled letters
		{"example", "ехаmple"}, // Cyrillic е х а
		{"google", "g00gle"},   // zeros for o
		{"mil", "rnIl"},        // I for l
	}
	for _, p := range same {
		if a, b := key(p[0]), key(p[1]); a != b {
			t.Errorf("lookalike keys of %q (%q) and %q (%q) differ", p[0], a, p[1], b)
		}
	}
	differ := [][2]string{{"farmer", "farmen"}, {"किसान", "किसन"}, {"example", "exampel"}}
	for _, p := range differ {
		if a, b := key(p[0]), key(p[1]); a == b {
			t.Errorf("lookalike keys of %q and %q are both %q", p[0], p[1], a)
		}
	}
}

func TestLookalikeAllocs(t *testing.T) {
	var n Normalizer
	inputs := [][]byte{[]byte("farmer"), []byte("fаrmer"), []byte("𝔭𝒶ỿ𝕡𝕒ℓ"), []byte("किसान नरसंहार")}
	var dst []byte
	run := func() {
		for _, in := range inputs {
			dst = n.Lookalike(dst[:0], in)
		}
	}
	run()
	if allocs := testing.AllocsPerRun(100, run); allocs != 0 {
		t.Errorf("Lookalike allocates %v times per run, want 0", allocs)
	}
}
