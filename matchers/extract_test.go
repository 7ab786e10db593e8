package matchers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// tok is a token as the tests compare it: its kind, its name as written
// (text[Name:NameEnd]) and its value with the sigil (text[Start:NameEnd]).
type tok struct {
	kind        TokenKind
	name, value string
}

func (t tok) String() string {
	return fmt.Sprintf("{%d %+q %+q}", t.kind, t.name, t.value)
}

func toks(text string, ts []Token) []tok {
	out := make([]tok, 0, len(ts))
	for _, t := range ts {
		out = append(out, tok{t.Kind, text[t.Name:t.NameEnd], text[t.Start:t.NameEnd]})
	}
	return out
}

func hashtag(name, value string) tok { return tok{TokenHashtag, name, value} }
func mention(name, value string) tok { return tok{TokenMention, name, value} }

func TestExtractEvasion(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		standard []tok
		union    []tok
		// key, when set, is the exact key that some token of the union
		// must normalize to.
		key string
	}{
		{
			name:     "zero width space inside hashtag",
			text:     "#Farmer\u200bGenocide",
			standard: []tok{hashtag("Farmer", "#Farmer")},
			union: []tok{
				hashtag("Farmer", "#Farmer"),
				hashtag("Farmer\u200bGenocide", "#Farmer\u200bGenocide"),
			},
			key: "farmergenocide",
		},
		{
			name:  "zero width space after hash",
			text:  "#\u200bFarmerGenocide",
			union: []tok{hashtag("\u200bFarmerGenocide", "#\u200bFarmerGenocide")},
			key:   "farmergenocide",
		},
		{
			name:     "word joiner before hash",
			text:     "\u2060#tag",
			standard: []tok{hashtag("tag", "#tag")},
			union:    []tok{hashtag("tag", "#tag")},
		},
		{
			// twitter-text lets a hashtag follow a zero width space; the
			// evasive reading sees "abc#tag" and finds nothing, but the
			// union keeps the standard token.
			name:     "zero width space between word and hash",
			text:     "abc\u200b#tag",
			standard: []tok{hashtag("tag", "#tag")},
			union:    []tok{hashtag("tag", "#tag")},
		},
		{
			name:  "fullwidth mention",
			text:  "＠ｂａｄｕｓｅｒ",
			union: []tok{mention("ｂａｄｕｓｅｒ", "＠ｂａｄｕｓｅｒ")},
			key:   "baduser",
		},
		{
			name:     "fullwidth hash sign with ASCII name",
			text:     "＃FarmerGenocide",
			standard: []tok{hashtag("FarmerGenocide", "＃FarmerGenocide")},
			union:    []tok{hashtag("FarmerGenocide", "＃FarmerGenocide")},
		},
		{
			name:  "small hash sign",
			text:  "﹟tag",
			union: []tok{hashtag("tag", "﹟tag")},
		},
		{
			name:  "small at sign",
			text:  "﹫user",
			union: []tok{mention("user", "﹫user")},
		},
		{
			name:     "mathematical bold hashtag",
			text:     "#𝐅𝐚𝐫𝐦𝐞𝐫𝐆𝐞𝐧𝐨𝐜𝐢𝐝𝐞",
			standard: []tok{hashtag("𝐅𝐚𝐫𝐦𝐞𝐫𝐆𝐞𝐧𝐨𝐜𝐢𝐝𝐞", "#𝐅𝐚𝐫𝐦𝐞𝐫𝐆𝐞𝐧𝐨𝐜𝐢𝐝𝐞")},
			union:    []tok{hashtag("𝐅𝐚𝐫𝐦𝐞𝐫𝐆𝐞𝐧𝐨𝐜𝐢𝐝𝐞", "#𝐅𝐚𝐫𝐦𝐞𝐫𝐆𝐞𝐧𝐨𝐜𝐢𝐝𝐞")},
			key:      "farmergenocide",
		},
		{
			name:  "mathematical bold mention",
			text:  "hi @𝐛𝐚𝐝𝐮𝐬𝐞𝐫",
			union: []tok{mention("𝐛𝐚𝐝𝐮𝐬𝐞𝐫", "@𝐛𝐚𝐝𝐮𝐬𝐞𝐫")},
			key:   "baduser",
		},
		{
			name:     "zero width space inside mention",
			text:     "@bad\u200buser",
			standard: []tok{mention("bad", "@bad")},
			union: []tok{
				mention("bad", "@bad"),
				mention("bad\u200buser", "@bad\u200buser"),
			},
			key: "baduser",
		},
		{
			name:  "zero width space after at sign",
			text:  "@\u200bbaduser",
			union: []tok{mention("baduser", "@\u200bbaduser")},
		},
		{
			name:     "soft hyphen inside hashtag",
			text:     "#Farmer\u00adGenocide now",
			standard: []tok{hashtag("Farmer", "#Farmer")},
			union: []tok{
				hashtag("Farmer", "#Farmer"),
				hashtag("Farmer\u00adGenocide", "#Farmer\u00adGenocide"),
			},
			key: "farmergenocide",
		},
		{
			name: "keycap",
			text: "#️⃣",
		},
		{
			name: "keycap without variation selector",
			text: "#⃣",
		},
		{
			name:     "keycap then hashtag",
			text:     "press #️⃣ then #tag",
			standard: []tok{hashtag("tag", "#tag")},
			union:    []tok{hashtag("tag", "#tag")},
		},
		{
			name: "hash in URL path",
			text: "https://example.org/#tag",
		},
		{
			name: "fragment in URL",
			text: "read https://example.org/page#section now",
		},
		{
			name: "hash in scheme-less URL",
			text: "example.org/#tag",
		},
		{
			name:     "hashtag after URL",
			text:     "https://example.org/ #tag",
			standard: []tok{hashtag("tag", "#tag")},
			union:    []tok{hashtag("tag", "#tag")},
		},
		{
			name: "Japanese hashtag right after a letter",
			text: "今日は＃農民",
		},
		{
			name:     "Japanese hashtag",
			text:     "今日は ＃農民 です",
			standard: []tok{hashtag("農民", "＃農民")},
			union:    []tok{hashtag("農民", "＃農民")},
		},
		{
			name:     "Devanagari hashtag keeps vowel signs",
			text:     "#किसान_आंदोलन जारी",
			standard: []tok{hashtag("किसान_आंदोलन", "#किसान_आंदोलन")},
			union:    []tok{hashtag("किसान_आंदोलन", "#किसान_आंदोलन")},
		},
		{
			name:     "retweet prefix",
			text:     "RT @baduser: #tag",
			standard: []tok{mention("baduser", "@baduser"), hashtag("tag", "#tag")},
			union:    []tok{mention("baduser", "@baduser"), hashtag("tag", "#tag")},
		},
		{
			name: "e-mail address",
			text: "write to press@example.org",
		},
		{
			name:     "list",
			text:     "see @baduser/farm-list",
			standard: []tok{{TokenList, "baduser", "@baduser"}},
			union:    []tok{{TokenList, "baduser", "@baduser"}},
		},
		{
			name:     "digits only is no hashtag",
			text:     "#2021 #farmers2021",
			standard: []tok{hashtag("farmers2021", "#farmers2021")},
			union:    []tok{hashtag("farmers2021", "#farmers2021")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := []byte(tt.text)
			if got := toks(tt.text, ExtractStandard(nil, text)); !slices.Equal(got, tt.standard) && len(got)+len(tt.standard) > 0 {
				t.Errorf("ExtractStandard(%+q) = %v, want %v", tt.text, got, tt.standard)
			}
			union := Extract(nil, text)
			if got := toks(tt.text, union); !slices.Equal(got, tt.union) && len(got)+len(tt.union) > 0 {
				t.Errorf("Extract(%+q) = %v, want %v", tt.text, got, tt.union)
			}
			if tt.key != "" {
				var keys []string
				for _, tk := range union {
					keys = append(keys, exact(tt.text[tk.Name:tk.NameEnd]))
				}
				if !slices.Contains(keys, tt.key) {
					t.Errorf("Extract(%+q) names normalize to %q, want one to be %q", tt.text, keys, tt.key)
				}
			}
		})
	}
}

func TestExtractAppends(t *testing.T) {
	dst := []Token{{Kind: TokenMention, Start: 100}}
	got := Extract(dst, []byte("x #Farmer\u200bGenocide @bad\u200buser"))
	if len(got) != 5 || got[0] != dst[0] {
		t.Fatalf("Extract(dst, …) = %+v, want dst's token then 4 tokens", got)
	}
}

// extractCorpus is texts mixing both readings' tokens.
var extractCorpus = []string{
	"",
	"plain text without tokens",
	"RT @baduser: Farmers march today #FarmerGenocide #farmersprotest https://t.co/abc123 via @news_desk",
	"#Farmer\u200bGenocide and @bad\u200buser and ＠ｂａｄｕｓｅｒ and ﹟tag ﹫user",
	"\u2060#tag abc\u200b#tag #\u200bFarmer @\u200b\u200bx",
	"＃ＦａｒｍｅｒＧｅｎｏｃｉｄｅ ＠ｆｉｃｔ＿ｕｓｅｒ＿０００１ #𝐅𝐚𝐫𝐦𝐞𝐫 @𝐛𝐚𝐝𝐮𝐬𝐞𝐫",
	"விவசாயிகள் போராட்டம் @fict_user_0007 #விவசாயி",
	"किसान आंदोलन जारी है #किसानआंदोलन @fict_user_0100",
	"今日は＃農民 です @日本 ＠ｎｏｕｍｉｎ",
	"@a@b @@c ＠＠d #a#b ##c #️⃣ #⃣ https://example.org/#x example.org/#y",
	"@baduser/list-name @bad\u200buser/\u200blist #x\u200b#y",
	"RT\u200b@baduser R\u200bT @x rt:@y",
	"\u202e#evil\u202c @\u2066user\u2069",
}

func TestExtractInvariants(t *testing.T) {
	for _, text := range extractCorpus {
		t.Run(fmt.Sprintf("%.20q", text), func(t *testing.T) {
			checkExtractInvariants(t, []byte(text))
		})
	}
}

// checkExtractInvariants checks the offsets of both readings, the order of
// the union and that it holds every standard token once.
func checkExtractInvariants(t *testing.T, text []byte) {
	t.Helper()
	standard := ExtractStandard(nil, text)
	union := Extract(nil, text)
	check := func(reading string, ts []Token, overlap bool) {
		t.Helper()
		for i, tk := range ts {
			if tk.Kind < TokenHashtag || tk.Kind > TokenList {
				t.Errorf("%s(%+q): token %d %+v has kind %d", reading, text, i, tk, tk.Kind)
			}
			if !(0 <= tk.Start && tk.Start < tk.Name && tk.Name < tk.NameEnd && tk.NameEnd <= tk.End && tk.End <= len(text)) {
				t.Errorf("%s(%+q): token %d %+v has offsets out of order or out of bounds (len %d)", reading, text, i, tk, len(text))
				continue
			}
			if tk.Kind != TokenList && tk.End != tk.NameEnd {
				t.Errorf("%s(%+q): token %d %+v is not a list but ends after its name", reading, text, i, tk)
			}
			if i == 0 {
				continue
			}
			prev := ts[i-1]
			switch {
			case tk == prev:
				t.Errorf("%s(%+q): token %d %+v is repeated", reading, text, i, tk)
			case tk.Start < prev.Start:
				t.Errorf("%s(%+q): token %d %+v starts before token %d %+v", reading, text, i, tk, i-1, prev)
			case !overlap && tk.Start < prev.End:
				t.Errorf("%s(%+q): token %d %+v overlaps token %d %+v", reading, text, i, tk, i-1, prev)
			}
		}
	}
	check("ExtractStandard", standard, false)
	check("Extract", union, true)
	for i, tk := range union {
		if slices.Contains(union[:i], tk) {
			t.Errorf("Extract(%+q): token %+v appears twice", text, tk)
		}
	}
	for _, tk := range standard {
		if !slices.Contains(union, tk) {
			t.Errorf("Extract(%+q) = %+v lacks standard token %+v", text, union, tk)
		}
	}
	if isASCII(text) && !slices.Equal(standard, union) {
		t.Errorf("ASCII text %q: Extract = %+v, ExtractStandard = %+v; want equal", text, union, standard)
	}
}

func TestExtractReply(t *testing.T) {
	tests := []struct {
		name, text string
		want       string
		ok         bool
	}{
		{"reply", "@baduser thanks", "baduser", true},
		{"leading spaces", "  @baduser thanks", "baduser", true},
		{"directional mark", "\u200e@baduser thanks", "baduser", true},
		{"fullwidth at sign", "＠baduser thanks", "baduser", true},
		{"name ends at punctuation", "@baduser: thanks", "baduser", true},
		{"twenty characters", "@" + strings.Repeat("a", 20) + " x", strings.Repeat("a", 20), true},
		{"mention later in text", "thanks @baduser", "", false},
		{"retweet", "RT @baduser: thanks", "", false},
		{"two at signs", "@@baduser", "", false},
		{"followed by at sign", "@baduser@example.org", "", false},
		{"followed by Latin accent", "@baduseré", "", false},
		{"followed by scheme", "@baduser://x", "", false},
		{"no name", "@ thanks", "", false},
		{"empty", "", "", false},
		{"fullwidth name is not a reply", "＠ｂａｄｕｓｅｒ", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ExtractReply([]byte(tt.text))
			if got != tt.want || ok != tt.ok {
				t.Errorf("ExtractReply(%+q) = %q, %v; want %q, %v", tt.text, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// foldNFKC is what fold stands for: the first character of r's NFKC form.
func foldNFKC(r rune) rune {
	if r < utf8.RuneSelf {
		return r
	}
	f, _ := utf8.DecodeRuneInString(norm.NFKC.String(string(r)))
	return f
}

// foldClasses are the questions the extractor, Words and ExtractLinks ask
// about a character r by its folded form f, as they ask them.
var foldClasses = []struct {
	name string
	fn   func(r, f rune) bool
}{
	{"hashtag character", func(r, f rune) bool { return isHashtagChar(r) || isHashtagChar(f) }},
	{"hashtag letter", func(r, f rune) bool { return isHashtagLetter(r) || isHashtagLetter(f) }},
	{"character before a hashtag", func(r, f rune) bool { return f == '&' || isHashtagChar(r) || isHashtagChar(f) }},
	{"mention character", func(r, f rune) bool { return isMentionChar(f) }},
	{"character before a mention", func(r, f rune) bool { return !isMentionChar(f) && !isASCIIIn(f, "!#$%&*") }},
	{"character before RT", func(r, f rune) bool { return !isMentionChar(f) && !isASCIIIn(f, "+~.-") }},
	{"R or T", func(r, f rune) bool { return f|0x20 == 't' || f|0x20 == 'r' }},
	{"list slug character", func(r, f rune) bool { return isASCIILetter(f) || isMentionChar(f) || f == '-' }},
	{"word character", func(r, f rune) bool {
		return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) ||
			f != r && (unicode.IsLetter(f) || unicode.IsDigit(f))
	}},
	{"host character", func(r, f rune) bool {
		return isDot(r) || unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) ||
			f != r && f < utf8.RuneSelf && (isASCIILetter(f) || ('0' <= f && f <= '9') || f == '-')
	}},
	{"top-level domain character", func(r, f rune) bool { return unicode.IsLetter(f) || unicode.IsMark(r) }},
}

func TestFoldClassifiesAsNFKC(t *testing.T) {
	exactly, alike := 0, 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		got, want := fold(r, true), foldNFKC(r)
		if got == want {
			exactly++
			continue
		}
		alike++
		for _, c := range foldClasses {
			if c.fn(r, got) != c.fn(r, want) {
				t.Errorf("fold(%U) = %U, NFKC's first character is %U: %s differs", r, got, want, c.name)
			}
		}
	}
	t.Logf("%d code points fold exactly, %d to a character of the same classes", exactly, alike)
	if got := fold('ｈ', false); got != 'ｈ' {
		t.Errorf("standard reading: fold(ｈ) = %c, want ｈ", got)
	}
}

func BenchmarkExtract(b *testing.B) {
	for _, bc := range []struct{ name, text string }{
		{"ASCII", "RT @fict_user_0007: Farmers from Punjab march on the capital today, police closed the roads. #FarmerGenocide #farmersprotest https://t.co/abc123"},
		{"Japanese", "農家の皆さんが今日も首都に向かって行進しています。警察は道路を封鎖しました ＃農民 ＃抗議 @fict_user_0007 さんより https://t.co/abc123"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			text := []byte(bc.text)
			var dst []Token
			b.ReportAllocs()
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				dst = Extract(dst[:0], text)
			}
		})
	}
}
