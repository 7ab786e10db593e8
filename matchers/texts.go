package matchers

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// Known texts (misinformation copied with small edits) match as
// near-duplicates: a post's text matches a listed text when the Jaccard
// index of their sets of word shingles is at least the demand's
// text_similarity.
//
// A text's words are those of phrase matching (the exact-tier key of each
// word), without the parts that copies add or change and that say nothing
// of the claim: a leading "RT", @mentions and links. A shingle is a run of
// textShingleWords consecutive words, hashed as the xxhash64 of each word
// mixed together.
//
// Lookup is MinHash with locality-sensitive banding: each listed text's
// signature (the minimum of textHashes hash functions over its shingles)
// is cut into textBands bands of textRows values, and a post whose
// signature shares a band with a listed text is a candidate, whose
// similarity is then computed exactly from both shingle sets. Before the
// signature, a bitmap of every listed shingle rules out almost every post
// in a few bit tests: a post can only be within similarity t of a listed
// text when at least t of its shingles are in the list at all. Neither
// step costs more as the list grows.
const (
	// textShingleWords is the shingle size. Single words make texts that
	// share a vocabulary look alike; three make a changed word cost three
	// shingles. Two keep edited copies above 0.7 and rewrites below it
	// (TestTextRecall, TestTextRewrites).
	textShingleWords = 2
	// TextMinWords is the fewest words a listed text may have: shorter
	// ones are phrases.
	TextMinWords = 8
	// DefaultTextSimilarity is a demand's text_similarity unless it says
	// otherwise; MinTextSimilarity is the lowest it may say.
	DefaultTextSimilarity = 0.7
	MinTextSimilarity     = 0.5
	maxTextEntryBytes     = 4096

	// The bands: a text at similarity J becomes a candidate with
	// probability 1-(1-J^textRows)^textBands: 0.999 at J=0.5, 0.2 at
	// J=0.1.
	textBands  = 24
	textRows   = 2
	textHashes = textBands * textRows
)

// textSeeds are the MinHash functions' parameters: h_i(x) = mix(x^a_i)*b_i.
var textSeeds = func() (s [textHashes][2]uint64) {
	x := uint64(0x243F6A8885A308D3) // splitmix64 from the digits of pi
	next := func() uint64 {
		x += 0x9E3779B97F4A7C15
		z := x
		z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
		z = (z ^ z>>27) * 0x94D049BB133111EB
		return z ^ z>>31
	}
	for i := range s {
		s[i] = [2]uint64{next(), next() | 1}
	}
	return s
}()

// minHash returns the value of MinHash function i for shingle hash h.
func minHash(i int, h uint64) uint64 {
	x := h ^ textSeeds[i][0]
	x = (x ^ x>>32) * textSeeds[i][1]
	return x ^ x>>29
}

// mixShingle combines the hash of a shingle's words so far with the next
// word's hash.
func mixShingle(h, w uint64) uint64 {
	x := h*0x9E3779B97F4A7C15 ^ w
	x = (x ^ x>>32) * 0xD6E8FEB86659FD93
	return x ^ x>>32
}

// shingler splits texts into their distinct shingle hashes. It keeps
// scratch buffers: each Matcher (and Compile) owns one.
type shingler struct {
	words    Words
	lower    []byte
	hashes   []uint64 // word hashes of the text
	shingles []uint64 // distinct shingle hashes, in text order
	sorted   []uint64
	// seen is a generation-stamped open-addressing table of shingle
	// hashes, to keep shingles distinct without clearing.
	seen []seenSlot
	gen  uint32
}

type seenSlot struct {
	gen uint32
	h   uint64
}

// isChunkSpace reports whether r separates the chunks of a text: white
// space, except the invisible characters that words step over.
func isChunkSpace(r rune) bool { return isUnicodeSpace(r) && !IsInvisible(r) }

// wordHashes sets sh.hashes to the hashes of text's words. split, when not
// nil, holds text already split (Words.Split), which saves splitting its
// non-ASCII chunks again.
func (sh *shingler) wordHashes(n *Normalizer, text []byte, split *Words) {
	sh.hashes = sh.hashes[:0]
	first := true
	k := 0 // next word of split
	for i := 0; i < len(text); {
		// Chunks are separated by white space.
		for i < len(text) {
			r, size := rune(text[i]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRune(text[i:])
			}
			if !isChunkSpace(r) {
				break
			}
			i += size
		}
		start := i
		ascii := true
		for i < len(text) {
			r, size := rune(text[i]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRune(text[i:])
				ascii = false
			}
			if isChunkSpace(r) {
				break
			}
			i += size
		}
		chunk := text[start:i]
		if len(chunk) == 0 {
			continue
		}
		isFirst := first
		first = false
		if skipTextChunk(chunk, isFirst) {
			continue
		}
		if ascii {
			sh.asciiWords(chunk)
			continue
		}
		if split != nil {
			// A word never spans chunks: it has no white space.
			for k < split.Len() && split.spans[k].start < start {
				k++
			}
			for ; k < split.Len() && split.spans[k].end <= i; k++ {
				sh.hashes = append(sh.hashes, xxhash.Sum64(split.Exact(k, k+1)))
			}
			continue
		}
		sh.words.Split(n, chunk)
		for w := range sh.words.Len() {
			sh.hashes = append(sh.hashes, xxhash.Sum64(sh.words.Exact(w, w+1)))
		}
	}
}

// asciiWords appends the hashes of an ASCII chunk's words: runs of letters
// and digits, lower-cased (what Words.Split and Exact make of them).
func (sh *shingler) asciiWords(chunk []byte) {
	for j := 0; j < len(chunk); {
		c := chunk[j]
		if !isASCIIAlnum(c) {
			j++
			continue
		}
		sh.lower = sh.lower[:0]
		for ; j < len(chunk) && isASCIIAlnum(chunk[j]); j++ {
			c := chunk[j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			sh.lower = append(sh.lower, c)
		}
		sh.hashes = append(sh.hashes, xxhash.Sum64(sh.lower))
	}
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// skipTextChunk reports whether a white-space-separated chunk of a text is
// left out of its words: a retweet's leading RT, an @mention (of any
// width) or a link.
func skipTextChunk(chunk []byte, first bool) bool {
	if first && len(chunk) == 2 && chunk[0]|0x20 == 'r' && chunk[1]|0x20 == 't' {
		return true
	}
	if chunk[0] == '@' || bytes.HasPrefix(chunk, []byte("＠")) || bytes.HasPrefix(chunk, []byte("﹫")) {
		return true
	}
	if bytes.Contains(chunk, []byte("://")) {
		return true
	}
	return len(chunk) > 4 && chunk[0]|0x20 == 'w' && chunk[1]|0x20 == 'w' && chunk[2]|0x20 == 'w' && chunk[3] == '.'
}

// textWords returns the number of words a text has for text matching.
func (sh *shingler) textWords(n *Normalizer, text []byte) int {
	sh.wordHashes(n, text, nil)
	return len(sh.hashes)
}

// shingle returns the distinct shingle hashes of text, in text order; the
// slice is valid until the next call. A text of fewer words than a shingle
// has one shingle of all its words.
func (sh *shingler) shingle(n *Normalizer, text []byte) []uint64 {
	return sh.shingleSplit(n, text, nil)
}

// shingleSplit is shingle with text already split, when split is not nil.
func (sh *shingler) shingleSplit(n *Normalizer, text []byte, split *Words) []uint64 {
	sh.wordHashes(n, text, split)
	sh.shingles = sh.shingles[:0]
	nw := len(sh.hashes)
	if nw == 0 {
		return sh.shingles
	}
	count := max(nw-textShingleWords+1, 1)
	size := 16
	for size < 2*count {
		size *= 2
	}
	if len(sh.seen) < size {
		sh.seen = make([]seenSlot, size)
		sh.gen = 0
	}
	if sh.gen++; sh.gen == 0 {
		clear(sh.seen)
		sh.gen = 1
	}
	mask := uint64(size - 1)
	for i := range count {
		h := sh.hashes[i]
		for _, w := range sh.hashes[i+1 : min(i+textShingleWords, nw)] {
			h = mixShingle(h, w)
		}
		for pos := h & mask; ; pos = (pos + 1) & mask {
			s := &sh.seen[pos]
			if s.gen != sh.gen {
				*s = seenSlot{gen: sh.gen, h: h}
				sh.shingles = append(sh.shingles, h)
				break
			}
			if s.h == h {
				break
			}
		}
	}
	return sh.shingles
}

// signature sets sig to the MinHash signature of shingles.
func signature(sig *[textHashes]uint64, shingles []uint64) {
	for i := range sig {
		sig[i] = math.MaxUint64
	}
	for _, h := range shingles {
		for i := range sig {
			if v := minHash(i, h); v < sig[i] {
				sig[i] = v
			}
		}
	}
}

// appendBandKey appends the lookup key of band b of sig to dst.
func appendBandKey(dst []byte, sig *[textHashes]uint64, b int) []byte {
	dst = append(dst, byte(b))
	for _, v := range sig[b*textRows : (b+1)*textRows] {
		dst = append(dst, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
	}
	return dst
}

// jaccard returns |a∩b| and |a∪b| of two sorted sets.
func jaccard(a, b []uint64) (inter, union int) {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			inter++
			i++
			j++
		}
	}
	return inter, len(a) + len(b) - inter
}

// similar reports whether a Jaccard index of inter/union reaches t.
func similar(inter, union int, t float64) bool {
	return union > 0 && float64(inter) >= t*float64(union)-1e-9
}

// textIndex is the compiled lookup of a snapshot's listed texts.
type textIndex struct {
	texts    int
	refs     []uint32 // entry reference of each text
	ends     []uint32 // text i's sorted shingles end at ends[i] in shingles
	shingles []uint64
	bands    *Set // band key -> text indexes
	// filter has a bit set for every listed shingle: bit h>>filterShift.
	filter      []uint64
	filterShift uint
	// minShingles is the fewest shingles of a listed text, minSimilarity
	// the lowest threshold of a demand with texts.
	minShingles   int
	minSimilarity float64
}

// textShingles returns text i's sorted shingles.
func (x *textIndex) textShingles(i uint32) []uint64 {
	start := uint32(0)
	if i > 0 {
		start = x.ends[i-1]
	}
	return x.shingles[start:x.ends[i]]
}

func (x *textIndex) mayHave(h uint64) bool {
	b := h >> x.filterShift
	return x.filter[b/64]&(1<<(b%64)) != 0
}

// Bytes returns the memory the index occupies.
func (x *textIndex) Bytes() int {
	return 4*cap(x.refs) + 4*cap(x.ends) + 8*cap(x.shingles) + 8*cap(x.filter) + x.bands.Bytes()
}

// buildTextIndex indexes the texts given by their entry references refs
// and values, of demands whose thresholds similarity gives.
func buildTextIndex(n *Normalizer, sh *shingler, refs []uint32, value func(uint32) []byte, similarity func(uint32) float64) (*textIndex, error) {
	x := &textIndex{texts: len(refs), refs: refs, ends: make([]uint32, 0, len(refs)), minSimilarity: 1}
	var (
		bands SetBuilder
		sig   [textHashes]uint64
		key   []byte
	)
	bands.Grow(len(refs)*textBands, len(refs)*textBands*(1+8*textRows))
	for i, ref := range refs {
		s := sh.shingle(n, value(ref))
		if x.minShingles == 0 || len(s) < x.minShingles {
			x.minShingles = len(s)
		}
		x.minSimilarity = min(x.minSimilarity, similarity(ref))
		start := len(x.shingles)
		x.shingles = append(x.shingles, s...)
		slices.Sort(x.shingles[start:])
		x.ends = append(x.ends, uint32(len(x.shingles)))
		signature(&sig, s)
		for b := range textBands {
			key = appendBandKey(key[:0], &sig, b)
			if err := bands.Add(key, uint32(i)); err != nil {
				return nil, err
			}
		}
	}
	x.bands = bands.Build()
	// About 16 bits per shingle: one bit test passes an unlisted
	// shingle with probability 1/16.
	bits := uint(12)
	for 1<<bits < 16*len(x.shingles) && bits < 40 {
		bits++
	}
	x.filter = make([]uint64, (1<<bits+63)/64)
	x.filterShift = 64 - bits
	for _, h := range x.shingles {
		b := h >> x.filterShift
		x.filter[b/64] |= 1 << (b % 64)
	}
	return x, nil
}

// appendTextKey validates a listed text and appends its key to dst: a
// 128-bit fingerprint of its words (those text matching reads), so that two
// spellings of one text, or two copies that differ in a link, are one
// entry.
func appendTextKey(dst []byte, n *Normalizer, value []byte) ([]byte, error) {
	if len(value) > maxTextEntryBytes {
		return dst, fmt.Errorf("text longer than %d bytes", maxTextEntryBytes)
	}
	if n.texts == nil {
		n.texts = new(shingler)
	}
	sh := n.texts
	if words := sh.textWords(n, value); words < TextMinWords {
		return dst, fmt.Errorf("text %q has %d words; a listed text needs at least %d: a shorter one belongs in phrases", value, words, TextMinWords)
	}
	var a, b uint64 = 0x8A5CD789635D2DFF, 0x121FD2155C472F96
	for _, h := range sh.hashes {
		a = mixShingle(a, h)
		b = mixShingle(b^0xA0761D6478BD642F, h)
	}
	return binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(dst, a), b), nil
}

// EachTextLine calls fn with each text of a texts file and its line
// number: one text a line, surrounding white space trimmed. Blank lines
// and lines whose first non-space character is a # followed by a space (or
// nothing) are comments; unlike other entry files, a # later in a line is
// part of the text, as texts quote freely.
func EachTextLine(data []byte, fn func(line int, text []byte)) {
	for lineNo := 1; len(data) > 0; lineNo++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' && (len(line) == 1 || line[1] == ' ' || line[1] == '\t') {
			continue
		}
		fn(lineNo, line)
	}
}

// ParseTextSimilarity parses a demand's text_similarity: a number from
// MinTextSimilarity to 1.
func ParseTextSimilarity(s string) (float64, error) {
	t, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(t) {
		return 0, fmt.Errorf("text_similarity %q is not a number (write a share such as 0.7)", s)
	}
	switch {
	case t < MinTextSimilarity:
		return 0, fmt.Errorf("text_similarity %v is outside %.1f-1.0: below %.1f, texts that only share a topic would match", t, MinTextSimilarity, MinTextSimilarity)
	case t > 1:
		return 0, fmt.Errorf("text_similarity %v is outside %.1f-1.0: it is a share of shingles, 1 for identical texts", t, MinTextSimilarity)
	}
	return t, nil
}
