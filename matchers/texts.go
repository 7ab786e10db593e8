package matchers

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Known texts (misinformation copied with small edits) match as
// near-duplicates: a post's text matches a listed text when the Jaccard
// index of their sets of word shingles is at least the demand's
// text_similarity.
//
// A text's words are those of phrase matching (the exact-tier key of each
// word), without the parts that copies add or change and that say nothing
// of the claim: a leading "RT", @mentions and links. A shingle is a run of
// textShingleWords consecutive words, hashed as the wordHash of each word
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
	// probability 1-(1-J^textRows)^textBands: 0.997 at J=0.5 (the lowest
	// threshold), 0.999999 at 0.7, 0.18 at J=0.1.
	textBands  = 20
	textRows   = 2
	textHashes = textBands * textRows
)

// textSeeds are the MinHash functions' parameters: h_i(x) = (x^a_i)*b_i,
// b_i odd. x is already a mixed shingle hash, so one multiply
// orders shingles independently for each i (TestTextIndexAgainstBruteForce
// checks that banding finds the pairs that the exact similarity does).
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
	hashes   []uint64 // word hashes of the text
	shingles []uint64 // distinct shingle hashes, in text order
	sorted   []uint64
	// seen is a generation-stamped open-addressing table of shingle
	// hashes, to keep shingles distinct without clearing.
	seen []seenSlot
	gen  uint32
	// next is the first shingle addShingles has not made yet; misses
	// counts those it made that the filter lacks.
	next, misses int
}

type seenSlot struct {
	gen uint32
	h   uint64
}

// isChunkSpace reports whether r separates the chunks of a text: white
// space, except the invisible characters that words step over.
func isChunkSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r] == asciiSpace
	}
	return isUnicodeSpace(r) && !IsInvisible(r)
}

// The classes of bytes for splitting texts, as bits; 0 is any other
// ASCII byte.
const (
	asciiWord = 1 << iota // a letter or a digit
	asciiSpace
	nonASCII
)

// byteClass classifies every byte; asciiClass is its ASCII half.
var byteClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = nonASCII
		case isUnicodeSpace(rune(c)):
			t[c] = asciiSpace
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			t[c] = asciiWord
		}
	}
	return t
}()

var asciiClass = [utf8.RuneSelf]uint8(byteClass[:utf8.RuneSelf])

// asciiText sets sh.hashes to the word hashes of text, as wordHashes
// does, in one pass, and reports whether it could: ascii false when text
// is not all ASCII. With x set (and startDistinct called), it also makes
// the shingles of the words as each chunk ends, when no link can take
// them back (addShingles), and stops as soon as more than allowed of them
// are missing from x's filter: then ok is false.
func (sh *shingler) asciiText(text []byte, x *textIndex, allowed int) (ascii, ok bool) {
	sh.hashes = sh.hashes[:0]
	chunkStart, mark, skip, first := true, 0, false, true
	for i := 0; i < len(text); {
		c := text[i]
		cl := byteClass[c]
		if chunkStart && cl != asciiSpace {
			// A chunk starts at i; its words count unless it is a
			// leading RT, a mention or a link (skipTextChunk).
			chunkStart, mark = false, len(sh.hashes)
			switch {
			case c == '@':
				skip = true
			case c|0x20 == 'w':
				skip = hasPrefixFold(text[i:], "www.") && i+4 < len(text) && byteClass[text[i+4]] != asciiSpace
			case first && c|0x20 == 'r':
				skip = hasPrefixFold(text[i:], "rt") && (i+2 == len(text) || byteClass[text[i+2]] == asciiSpace)
			default:
				skip = false
			}
			first = false
		}
		switch {
		case cl&asciiWord != 0:
			// Most words end within the 8 bytes loaded at their start:
			// one load finds the end and makes the hash.
			start := i
			var h uint64
			if i+8 <= len(text) {
				x := binary.LittleEndian.Uint64(text[i:])
				if m := notAlnum8(x); m != 0 {
					n := bits.TrailingZeros64(m) / 8
					i += n
					h = hashShort(lowerASCII8(x&(1<<(8*n)-1)), n)
				} else {
					i = asciiWordEnd(text, i+8)
					h = asciiWordHash(text[start:i])
				}
			} else {
				i = asciiWordEnd(text, i+1)
				h = asciiWordHash(text[start:i])
			}
			if !skip {
				sh.hashes = append(sh.hashes, h)
			}
			if i < len(text) && text[i] == ' ' {
				// The usual separator, taken here rather than in a turn
				// of the loop of its own.
				chunkStart = true
				i++
				if x != nil && sh.mayRuleOut(allowed) && !sh.addShingles(x, len(sh.hashes)-textShingleWords+1, allowed) {
					return true, false
				}
			}
			continue
		case cl == asciiSpace:
			chunkStart = true
			if x != nil && sh.mayRuleOut(allowed) && !sh.addShingles(x, len(sh.hashes)-textShingleWords+1, allowed) {
				return true, false
			}
		case cl == nonASCII:
			return false, false
		default:
			if c == ':' && !skip && i+2 < len(text) && text[i+1] == '/' && text[i+2] == '/' {
				skip = true // a link: none of its chunk's words count
				sh.hashes = sh.hashes[:mark]
			}
		}
		i++
	}
	if x != nil && len(sh.hashes) > 0 {
		return true, sh.addShingles(x, max(len(sh.hashes)-textShingleWords+1, 1), allowed)
	}
	return true, true
}

// asciiWordStarts returns the number of runs of ASCII letters and digits
// in text, 16 bytes at a time: at least as many words as asciiText finds
// there. It returns -1 when text is not all ASCII. It runs on every post
// of a snapshot with texts, before the filter: its bytes are read in
// words, the last ones by one load that overlaps the bytes already read.
func asciiWordStarts(text []byte) int {
	n, i := 0, 0
	prev := uint64(0) // 0x80 when the byte before i is a letter or digit
	for ; i+16 <= len(text); i += 16 {
		p := (*[16]byte)(text[i : i+16])
		x, y := binary.LittleEndian.Uint64(p[:8]), binary.LittleEndian.Uint64(p[8:])
		if (x|y)&highs8 != 0 {
			return -1
		}
		ax, ay := alnum7(x), alnum7(y)
		n += bits.OnesCount64(ax&^(ax<<8|prev)) + bits.OnesCount64(ay&^(ay<<8|ax>>56))
		prev = ay >> 56
	}
	if i+8 <= len(text) {
		x := binary.LittleEndian.Uint64(text[i:])
		if x&highs8 != 0 {
			return -1
		}
		ax := alnum7(x)
		n += bits.OnesCount64(ax &^ (ax<<8 | prev))
		prev = ax >> 56
		i += 8
	}
	if left := len(text) - i; left > 0 {
		var x uint64
		if len(text) >= 8 {
			// The last 8 bytes, shifted so that the left ones come first.
			x = binary.LittleEndian.Uint64(text[len(text)-8:]) >> (8 * (8 - left))
		} else {
			for k := left - 1; k >= 0; k-- {
				x = x<<8 | uint64(text[i+k])
			}
		}
		if x&highs8 != 0 {
			return -1
		}
		// The bytes past the text read as zeros: not letters or digits.
		ax := alnum7(x) & (1<<(8*left) - 1)
		n += bits.OnesCount64(ax &^ (ax<<8 | prev))
	}
	return n
}

// alnum7 returns the high bit of each of the 8 bytes of x that is an ASCII
// letter or digit, for x of 7-bit bytes (notAlnum8's complement there).
func alnum7(x uint64) uint64 {
	digit := (x + ones8*(0x80-'0')) &^ (x + ones8*(0x80-'9'-1))
	l := x | ones8*0x20 // capitals to small letters, and some others elsewhere
	letter := (l + ones8*(0x80-'a')) &^ (l + ones8*(0x80-'z'-1))
	return (digit | letter) & highs8
}

// hasPrefixFold reports whether b starts with the lower-case ASCII prefix,
// in any case.
func hasPrefixFold(b []byte, prefix string) bool {
	if len(b) < len(prefix) {
		return false
	}
	for i := range len(prefix) {
		if b[i]|0x20 != prefix[i] {
			return false
		}
	}
	return true
}

// wordHashes sets sh.hashes to the hashes of text's words. split, when not
// nil, holds text already split (Words.Split), which saves splitting its
// non-ASCII chunks again.
func (sh *shingler) wordHashes(n *Normalizer, text []byte, split *Words) {
	if ascii, _ := sh.asciiText(text, nil, 0); !ascii {
		sh.anyText(n, text, split)
	}
}

// anyText is wordHashes for any text.
func (sh *shingler) anyText(n *Normalizer, text []byte, split *Words) {
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
				sh.hashes = append(sh.hashes, wordHash(split.Exact(k, k+1)))
			}
			continue
		}
		sh.words.Split(n, chunk)
		for w := range sh.words.Len() {
			sh.hashes = append(sh.hashes, wordHash(sh.words.Exact(w, w+1)))
		}
	}
}

// asciiWords appends the hashes of an ASCII chunk's words: runs of letters
// and digits, lower-cased (what Words.Split and Exact make of them).
func (sh *shingler) asciiWords(chunk []byte) {
	for j := 0; j < len(chunk); {
		if asciiClass[chunk[j]]&asciiWord == 0 {
			j++
			continue
		}
		start := j
		j = asciiWordEnd(chunk, j+1)
		sh.hashes = append(sh.hashes, asciiWordHash(chunk[start:j]))
	}
}

// skipTextChunk reports whether a white-space-separated chunk of a text is
// left out of its words: a retweet's leading RT, an @mention (of any
// width) or a link.
func skipTextChunk(chunk []byte, first bool) bool {
	if first && len(chunk) == 2 && chunk[0]|0x20 == 'r' && chunk[1]|0x20 == 't' {
		return true
	}
	switch {
	case chunk[0] == '@':
		return true
	case chunk[0] == 0xEF && len(chunk) >= 3 && (chunk[1] == 0xBC && chunk[2] == 0xA0 || chunk[1] == 0xB9 && chunk[2] == 0xAB): // ＠ ﹫
		return true
	case bytes.Contains(chunk, []byte("://")):
		return true
	}
	return len(chunk) > 4 && chunk[0]|0x20 == 'w' && chunk[1]|0x20 == 'w' && chunk[2]|0x20 == 'w' && chunk[3] == '.'
}

// textWords returns the number of words a text has for text matching.
func (sh *shingler) textWords(n *Normalizer, text []byte) int {
	sh.wordHashes(n, text, nil)
	return len(sh.hashes)
}

// distinct returns the distinct shingle hashes of the words in sh.hashes.
func (sh *shingler) distinct() []uint64 {
	shingles, _, _ := sh.distinctIn(nil)
	return shingles
}

// distinctIn is distinct for a post looked up in x (nil: none). It also
// counts the distinct shingles that x's filter lacks (misses), and gives
// up (ok false) as soon as they are more than a post of at most that many
// shingles may miss and still be within x.minSimilarity of a listed text,
// or when it has too few shingles for any: most posts are ruled out
// before all their shingles are made.
func (sh *shingler) distinctIn(x *textIndex) (shingles []uint64, misses int, ok bool) {
	nw := len(sh.hashes)
	if nw == 0 {
		sh.shingles = sh.shingles[:0]
		return sh.shingles, 0, true
	}
	count := max(nw-textShingleWords+1, 1) // at least the distinct ones
	allowed, ok := count, true
	if x != nil {
		if allowed, ok = x.allowedMisses(count); !ok {
			return nil, 0, false
		}
	}
	sh.startDistinct(count)
	if !sh.addShingles(x, count, allowed) {
		return nil, sh.misses, false
	}
	return sh.shingles, sh.misses, true
}

// allowedMisses returns how many of a post's at most count distinct
// shingles may be missing from x's filter while it can still be within
// x.minSimilarity of a listed text, and false when count is too few
// shingles for any. Both bounds only grow with count, so a bound on a
// post's shingles gives bounds on what it may miss.
func (x *textIndex) allowedMisses(count int) (int, bool) {
	if float64(count) < x.minSimilarity*float64(x.minShingles)-1e-9 {
		return 0, false
	}
	return count - int(math.Ceil(x.minSimilarity*float64(count)-1e-9)), true
}

// candidate returns the distinct shingles of a post's text when it may be
// within similarity of a listed text of x, judged by its shingles in x's
// filter (ok false: it cannot). A listed text B within similarity t has
// t|B| <= |A| and shares at least t|A| shingles with A, all of them in
// the filter. split, when not nil, holds text split (Words.Split).
func (sh *shingler) candidate(n *Normalizer, text []byte, split *Words, x *textIndex) (shingles []uint64, ok bool) {
	var misses int
	if upper := asciiWordStarts(text); upper >= 0 {
		// An ASCII text: its words are found, hashed and shingled in one
		// pass, which stops once the post is ruled out, against bounds
		// from the most words it can have.
		count := max(upper-textShingleWords+1, 1)
		allowed, ok := x.allowedMisses(count)
		if upper == 0 || !ok {
			return nil, false
		}
		sh.startDistinct(count)
		if _, ok := sh.asciiText(text, x, allowed); !ok {
			return nil, false
		}
		shingles, misses = sh.shingles, sh.misses
	} else {
		// Not all ASCII (asciiWordStarts has looked at every byte):
		// wordHashes' ASCII reading would only stop at the first
		// non-ASCII byte.
		sh.anyText(n, text, split)
		if shingles, misses, ok = sh.distinctIn(x); !ok {
			return nil, false
		}
	}
	if len(shingles) == 0 {
		return nil, false
	}
	allowed, ok := x.allowedMisses(len(shingles))
	return shingles, ok && misses <= allowed
}

// startDistinct prepares sh.shingles and the seen table for at most count
// shingles of the words in sh.hashes (addShingles).
func (sh *shingler) startDistinct(count int) {
	sh.shingles, sh.next, sh.misses = sh.shingles[:0], 0, 0
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
}

// mayRuleOut reports whether the shingles of sh.hashes not yet added
// (addShingles) are enough to rule a post out, were they all missing from
// the filter: before that, adding them cannot stop asciiText, so it adds
// them in one call when they are, at the same word it would have stopped
// at adding them one by one.
func (sh *shingler) mayRuleOut(allowed int) bool {
	return len(sh.hashes)-textShingleWords+1-sh.next > allowed-sh.misses
}

// addShingles adds the distinct ones among shingles sh.next to upto-1
// (shingle i: words i to i+textShingleWords-1 of sh.hashes, or those there
// are) to sh.shingles, counting in sh.misses those that x's filter lacks
// (x nil: none), and reports false as soon as they are more than allowed.
func (sh *shingler) addShingles(x *textIndex, upto, allowed int) bool {
	if upto <= sh.next {
		return true
	}
	nw := len(sh.hashes)
	mask := uint64(len(sh.seen) - 1)
	for i := sh.next; i < upto; i++ {
		h := sh.hashes[i]
		if textShingleWords == 2 {
			if i+1 < nw {
				h = mixShingle(h, sh.hashes[i+1])
			}
		} else {
			for _, w := range sh.hashes[i+1 : min(i+textShingleWords, nw)] {
				h = mixShingle(h, w)
			}
		}
		for pos := h & mask; ; pos = (pos + 1) & mask {
			s := &sh.seen[pos]
			if s.gen != sh.gen {
				*s = seenSlot{gen: sh.gen, h: h}
				sh.shingles = append(sh.shingles, h)
				if x != nil && !x.mayHave(h) {
					if sh.misses++; sh.misses > allowed {
						sh.next = i + 1
						return false
					}
				}
				break
			}
			if s.h == h {
				break
			}
		}
	}
	sh.next = upto
	return true
}

// signature sets sig to the MinHash signature of shingles: sig[i] is the
// least (h^a_i)*b_i over the shingle hashes h (textSeeds). The loop runs
// over the functions outside and the shingles inside, so that a
// function's parameters and its minimum stay in registers.
func signature(sig *[textHashes]uint64, shingles []uint64) {
	for i := 0; i < textHashes; i += 4 {
		s := (*[4][2]uint64)(textSeeds[i : i+4])
		m0, m1, m2, m3 := uint64(math.MaxUint64), uint64(math.MaxUint64), uint64(math.MaxUint64), uint64(math.MaxUint64)
		for _, h := range shingles {
			m0 = min(m0, (h^s[0][0])*s[0][1])
			m1 = min(m1, (h^s[1][0])*s[1][1])
			m2 = min(m2, (h^s[2][0])*s[2][1])
			m3 = min(m3, (h^s[3][0])*s[3][1])
		}
		sig[i], sig[i+1], sig[i+2], sig[i+3] = m0, m1, m2, m3
	}
}

// bandKey returns the lookup key of band b of sig: a hash of the band's
// values. Two bands of different values may share a key; the exact check
// of a candidate's similarity makes that harmless.
func bandKey(sig *[textHashes]uint64, b int) uint64 {
	h := uint64(b+1) * 0x9E3779B97F4A7C15
	for _, v := range sig[b*textRows : (b+1)*textRows] {
		h = mixShingle(h, v)
	}
	return h
}

// bandIndex maps band keys to the texts that have them: for each band, a
// sorted array of the texts' keys with the text's number packed into the
// low textBits bits: a key stands for every key that agrees with it above
// them, as bandKey's keys may already stand for several bands' values. An
// array per band takes an eighth of the memory of a hash table per band,
// which matters more than the lookup: only a post that passes the filter
// looks its bands up, and a hash table's fresh pages cost a list of 10,000
// texts more in page faults than the sorts do.
type bandIndex struct {
	packed   []uint64 // band b's entries: packed[b*texts : (b+1)*texts]
	texts    int
	textBits uint
}

// newBandIndex returns an index of n texts, whose entries the caller sets
// (set) and then sorts (sortBand).
func newBandIndex(n int) bandIndex {
	return bandIndex{packed: make([]uint64, n*textBands), texts: n, textBits: uint(bits.Len(uint(n)))}
}

// band returns band b's entries.
func (t *bandIndex) band(b int) []uint64 { return t.packed[b*t.texts : (b+1)*t.texts] }

// set sets text i's key of band b.
func (t *bandIndex) set(b, i int, key uint64) {
	t.packed[b*t.texts+i] = key>>t.textBits<<t.textBits | uint64(i)
}

// sortBand sorts band b's entries, after set. The keys are hashes, spread
// evenly: a counting sort by their top bits, about one entry to a bucket,
// then a sort of each bucket, takes time linear in the entries (a
// comparison sort of each band took most of the index's building); texts
// that share a band's values share a bucket. s holds the scratch space,
// reused from band to band.
func (t *bandIndex) sortBand(b int, s *bandScratch) {
	e := t.band(b)
	if len(e) < 2 {
		return
	}
	shift := 64 - t.textBits
	s.sorted = slices.Grow(s.sorted[:0], len(e))[:len(e)]
	s.ends = slices.Grow(s.ends[:0], 1<<t.textBits)[:1<<t.textBits]
	clear(s.ends)
	for _, v := range e {
		s.ends[v>>shift]++
	}
	sum := uint32(0)
	for k, c := range s.ends {
		s.ends[k] = sum // the bucket's start, until the scatter moves it to its end
		sum += c
	}
	for _, v := range e {
		s.sorted[s.ends[v>>shift]] = v
		s.ends[v>>shift]++
	}
	copy(e, s.sorted)
	start := 0
	for _, end := range s.ends {
		if bucket := e[start:end]; len(bucket) > 1 {
			slices.Sort(bucket) // an insertion sort, for the few a bucket holds
		}
		start = int(end)
	}
}

// bandScratch is sortBand's scratch space.
type bandScratch struct {
	sorted []uint64
	ends   []uint32
}

// appendTexts appends the texts under band b's key to dst, each once.
func (t *bandIndex) appendTexts(dst []uint32, b int, key uint64) []uint32 {
	want := key >> t.textBits << t.textBits
	e := t.band(b)
	i, _ := slices.BinarySearch(e, want)
	for ; i < len(e) && e[i]>>t.textBits<<t.textBits == want; i++ {
		if c := uint32(e[i] - want); !slices.Contains(dst, c) {
			dst = append(dst, c)
		}
	}
	return dst
}

// Bytes returns the memory the index occupies.
func (t *bandIndex) Bytes() int { return 8 * cap(t.packed) }

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
	bands    bandIndex
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
	start, end := packedSpan(x.ends, i)
	return x.shingles[start:end]
}

func (x *textIndex) mayHave(h uint64) bool {
	b := h >> x.filterShift
	return x.filter[b/64]&(1<<(b%64)) != 0
}

// Bytes returns the memory the index occupies.
func (x *textIndex) Bytes() int {
	return 4*cap(x.refs) + 4*cap(x.ends) + 8*cap(x.shingles) + 8*cap(x.filter) + x.bands.Bytes()
}

// textPool collects the listed texts' shingle sets as Compile reads them.
type textPool struct {
	refs     []uint32 // entry reference of each text
	ends     []uint32 // text i's sorted shingles end at ends[i]
	shingles []uint64
}

// grow makes room for n more texts of shingles shingles in all.
func (p *textPool) grow(n, shingles int) {
	p.refs = slices.Grow(p.refs, n)
	p.ends = slices.Grow(p.ends, n)
	p.shingles = slices.Grow(p.shingles, shingles)
}

// maxTextShingles estimates from above how many shingles a listed text
// has, to size the pool (grow): at most one per word, of which an ASCII
// text has no more than its runs of letters and digits; any other text is
// taken to have no more than half its bytes and one.
func maxTextShingles(text []byte) int {
	if n := asciiWordStarts(text); n >= 0 {
		return max(n, 1)
	}
	return len(text)/2 + 1
}

// add adds the text of entry ref, whose distinct shingles are s.
func (p *textPool) add(ref uint32, s []uint64) {
	start := len(p.shingles)
	p.shingles = append(p.shingles, s...)
	slices.Sort(p.shingles[start:])
	p.refs = append(p.refs, ref)
	p.ends = append(p.ends, uint32(len(p.shingles)))
}

// buildTextIndex indexes the texts of p except those skip reports, of
// demands whose thresholds similarity gives. It takes over p's arrays,
// dropping the skipped texts in place, so the shingles are not copied;
// p is empty afterwards. Signatures are computed on all cores.
func buildTextIndex(p *textPool, skip func(ref uint32) bool, similarity func(uint32) float64) *textIndex {
	x := &textIndex{minSimilarity: 1, refs: p.refs[:0], ends: p.ends[:0], shingles: p.shingles[:0]}
	refs, ends := p.refs, p.ends
	*p = textPool{}
	for i, ref := range refs {
		if skip != nil && skip(ref) {
			continue
		}
		// Text i's shingles lie at or after where they go: x's arrays
		// are never longer than the part of p's already read.
		start, end := packedSpan(ends, i)
		s := x.shingles[start:end:end]
		x.refs = append(x.refs, ref)
		x.shingles = append(x.shingles, s...)
		x.ends = append(x.ends, uint32(len(x.shingles)))
		if x.minShingles == 0 || len(s) < x.minShingles {
			x.minShingles = len(s)
		}
		x.minSimilarity = min(x.minSimilarity, similarity(ref))
	}
	x.texts = len(x.refs)

	x.bands = newBandIndex(x.texts)
	workers := min(runtime.GOMAXPROCS(0), max(x.texts/1024, 1))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() { // owned by buildTextIndex; joined below
			defer wg.Done()
			var sig [textHashes]uint64
			for i := w; i < x.texts; i += workers {
				signature(&sig, x.textShingles(uint32(i)))
				for b := range textBands {
					x.bands.set(b, i, bandKey(&sig, b))
				}
			}
		}()
	}
	wg.Wait()
	for w := range workers {
		wg.Add(1)
		go func() { // owned by buildTextIndex; joined below
			defer wg.Done()
			var scratch bandScratch
			for b := w; b < textBands; b += workers {
				x.bands.sortBand(b, &scratch)
			}
		}()
	}
	wg.Wait()

	// 4 to 8 bits per shingle: one bit test passes an unlisted shingle
	// with probability 1/8 to 1/4, and the bitmap of 10,000 texts (256
	// KiB) stays in a core's cache, which matters more: a post is
	// ruled out after a few more tests, each a cache hit.
	bits := uint(12)
	for 1<<bits < 4*len(x.shingles) && bits < 40 {
		bits++
	}
	x.filter = make([]uint64, (1<<bits+63)/64)
	x.filterShift = 64 - bits
	for _, h := range x.shingles {
		b := h >> x.filterShift
		x.filter[b/64] |= 1 << (b % 64)
	}
	return x
}

// textKeyBytes is the length of a listed text's key (appendTextKey).
const textKeyBytes = 16

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
// nothing) are comments; unlike other entry files (whose reader, in
// internal/lists, cuts a comment after " # " from the lines this gives),
// a # later in a line is part of the text, as texts quote freely.
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
