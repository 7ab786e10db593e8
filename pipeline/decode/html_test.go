package decode_test

import (
	"bytes"
	"html"
	"regexp"
	"strconv"
	"testing"
	"unicode/utf8"

	"flagstream/pipeline/decode"
)

func TestAppendUnescapedHTML(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "no references here", "no references here"},
		{"amp", "Q&amp;A", "Q&A"},
		{"lt gt", "&lt;3 &gt;_&lt;", "<3 >_<"},
		{"quot apos", "&quot;hi&quot; it&apos;s", `"hi" it's`},
		{"decimal", "&#64;user &#35;tag", "@user #tag"},
		{"hex", "&#x40;&#X40;&#x1F600;&#x1f600;", "@@😀😀"},
		{"leading zeros", "&#0000064;&#x000040;", "@@"},
		{"seven digits", "&#1114111;&#x10FFFF;", "\U0010FFFF\U0010FFFF"},
		{"eight digits kept", "&#00000064;&#x00000040;", "&#00000064;&#x00000040;"},
		{"zero is U+FFFD", "&#0;&#x0;", "\uFFFD\uFFFD"},
		{"surrogate is U+FFFD", "&#xD800;&#55296;&#xDFFF;", "\uFFFD\uFFFD\uFFFD"},
		{"beyond Unicode is U+FFFD", "&#x110000;&#9999999;", "\uFFFD\uFFFD"},
		{"C1 control stays a code point", "&#128;&#x9F;", "\u0080\u009F"},
		{"only one level", "&amp;amp; &amp;lt;", "&amp; &lt;"},
		{"no semicolon kept", "&amp &lt &#64 &#x40", "&amp &lt &#64 &#x40"},
		{"unknown names kept", "&nbsp; &copy; &hellip;", "&nbsp; &copy; &hellip;"},
		{"names are case-sensitive", "&AMP; &Lt; &QUOT;", "&AMP; &Lt; &QUOT;"},
		{"empty references kept", "&; &#; &#x; &#X;", "&; &#; &#x; &#X;"},
		{"bad digits kept", "&#12a; &#xG0; &#-1; &#+1;", "&#12a; &#xG0; &#-1; &#+1;"},
		{"bare ampersands", "AT&T & co &", "AT&T & co &"},
		{"ampersand before a reference", "&&amp;&&lt;", "&&&<"},
		{"space inside", "& amp; &amp ;", "& amp; &amp ;"},
		{"semicolon far away", "&amplifier;", "&amplifier;"},
		{"reference at the end", "x&gt;", "x>"},
		{"reference cut at the end", "x&g", "x&g"},
		{"multibyte around", "नमस्ते &amp; ਪੰਜਾਬ&lt;", "नमस्ते & ਪੰਜਾਬ<"},
		{"multibyte after ampersand", "&नमस्ते;", "&नमस्ते;"},
		{"invalid UTF-8 passes through", "\xff&amp;\xfe", "\xff&\xfe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(decode.AppendUnescapedHTML(nil, []byte(tc.in))); got != tc.want {
				t.Errorf("AppendUnescapedHTML(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := refUnescape([]byte(tc.in)); string(got) != tc.want {
				t.Errorf("refUnescape(%q) = %q, want %q (the test's reference is wrong)", tc.in, got, tc.want)
			}
		})
	}
}

func TestAppendUnescapedHTMLAppends(t *testing.T) {
	dst := make([]byte, 0, 64)
	dst = append(dst, "prefix:"...)
	got := decode.AppendUnescapedHTML(dst, []byte("a &amp; b"))
	if want := "prefix:a & b"; string(got) != want {
		t.Errorf("AppendUnescapedHTML(%q, …) = %q, want %q", dst, got, want)
	}
}

// documentedRef matches one character reference that AppendUnescapedHTML
// documents: a named one of five, or a decimal or hex one of 1-7 digits.
var documentedRef = regexp.MustCompile(`&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,7}));`)

// refUnescape is an independent reading of AppendUnescapedHTML's doc
// comment: each documented reference is replaced, everything else kept.
func refUnescape(s []byte) []byte {
	return documentedRef.ReplaceAllFunc(s, func(m []byte) []byte {
		sub := documentedRef.FindSubmatch(m)
		switch {
		case sub[1] != nil:
			return []byte(map[string]string{"amp": "&", "lt": "<", "gt": ">", "quot": `"`, "apos": "'"}[string(sub[1])])
		case sub[2] != nil:
			return appendCodePoint(sub[2], 10)
		default:
			return appendCodePoint(sub[3], 16)
		}
	})
}

func appendCodePoint(digits []byte, base int) []byte {
	n, err := strconv.ParseUint(string(digits), base, 32)
	r := rune(n)
	if err != nil || n == 0 || !utf8.ValidRune(r) {
		r = utf8.RuneError
	}
	return utf8.AppendRune(nil, r)
}

// htmlComparable reports whether html.UnescapeString must agree with
// AppendUnescapedHTML on s: every '&' in s starts a documented reference,
// and none is a numeric reference to U+0080-U+009F, which HTML maps to
// Windows-1252 characters. Elsewhere HTML knows more names (&nbsp;),
// takes references without a semicolon (&amp) and longer numbers, which
// the decoder keeps as written.
func htmlComparable(s []byte) bool {
	refs := documentedRef.FindAllSubmatch(s, -1)
	if len(refs) != bytes.Count(s, []byte("&")) {
		return false
	}
	for _, m := range refs {
		var n uint64
		switch {
		case m[2] != nil:
			n, _ = strconv.ParseUint(string(m[2]), 10, 32)
		case m[3] != nil:
			n, _ = strconv.ParseUint(string(m[3]), 16, 32)
		default:
			continue
		}
		if 0x80 <= n && n <= 0x9F {
			return false
		}
	}
	return true
}

func TestAppendUnescapedHTMLMatchesHTMLPackage(t *testing.T) {
	for _, in := range []string{
		"Q&amp;A &lt;3 &gt; &quot;x&quot; &apos;y&apos;",
		"&#64;&#x40;&#X40;&#x1F1EE;&#x1F1F3;",
		"&#0;&#xD800;&#x110000;",
		"plain text, नमस्ते",
	} {
		if !htmlComparable([]byte(in)) {
			t.Fatalf("htmlComparable(%q) = false, want true", in)
		}
		if got, want := string(decode.AppendUnescapedHTML(nil, []byte(in))), html.UnescapeString(in); got != want {
			t.Errorf("AppendUnescapedHTML(%q) = %q, html.UnescapeString = %q", in, got, want)
		}
	}
	for _, in := range []string{"&amp", "&nbsp;", "&#128;", "&#00000064;", "AT&T"} {
		if htmlComparable([]byte(in)) {
			t.Errorf("htmlComparable(%q) = true, want false", in)
		}
	}
}

func FuzzAppendUnescapedHTML(f *testing.F) {
	for _, s := range []string{
		"", "plain", "Q&amp;A", "&lt;&gt;&quot;&apos;", "&#64;&#x40;&#X1F600;", "&#0;&#xD800;&#x110000;",
		"&amp", "&nbsp;", "&#128;", "&&amp;", "&#;", "&#x;", "&#12345678;", "नमस्ते &amp; ਪੰਜਾਬ", "\xff&amp;",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		prefix := []byte("pre")
		got := decode.AppendUnescapedHTML(prefix, in)
		if !bytes.Equal(in, orig) {
			t.Fatalf("AppendUnescapedHTML changed its input %q to %q", orig, in)
		}
		if !bytes.HasPrefix(got, []byte("pre")) {
			t.Fatalf("AppendUnescapedHTML(%q, %q) = %q, lost the prefix", prefix, in, got)
		}
		got = got[len("pre"):]
		if want := refUnescape(in); !bytes.Equal(got, want) {
			t.Fatalf("AppendUnescapedHTML(%q) = %q, want %q", in, got, want)
		}
		if len(got) > len(in) {
			t.Errorf("AppendUnescapedHTML(%q) = %q, longer than its input", in, got)
		}
		if utf8.Valid(in) && !utf8.Valid(got) {
			t.Errorf("AppendUnescapedHTML(%q) = %q, not valid UTF-8", in, got)
		}
		if htmlComparable(in) {
			if want := html.UnescapeString(string(in)); string(got) != want {
				t.Errorf("AppendUnescapedHTML(%q) = %q, html.UnescapeString = %q", in, got, want)
			}
		}
	})
}
