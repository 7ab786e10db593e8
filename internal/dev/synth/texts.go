package synth

import (
	"math/rand/v2"
	"strings"
)

// functionWords are the common words that texts of one language share;
// listed texts and tweets alike use them, so their shingles meet.
var functionWords = strings.Fields(`the of and to a in is that for it on was with as be by this are at
	from have not they you all will has more their been were who which one would there what so out`)

// Texts returns n distinct synthetic texts of 15 to 45 words, deterministic
// for a seed, shaped like known false claims: a vocabulary of a few
// thousand invented words picked by a Zipf law, with common function words
// in between. They serve as lists of known texts in benchmarks.
func Texts(seed uint64, n int) []string {
	rng := rand.New(rand.NewPCG(seed, seed^0x51ed2701))
	syllables := strings.Fields("ka ri mo ne ta lu si po ve da gu ro mi sa te bo na li fe zu ha ko pe ju")
	vocab := make([]string, 5000)
	for i := range vocab {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		vocab[i] = b.String()
	}
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(vocab)-1))
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for len(out) < n {
		words := make([]string, 15+rng.IntN(31))
		for i := range words {
			if rng.IntN(3) == 0 {
				words[i] = functionWords[rng.IntN(len(functionWords))]
			} else {
				words[i] = vocab[zipf.Uint64()]
			}
		}
		text := strings.Join(words, " ")
		if !seen[text] {
			seen[text] = true
			out = append(out, text)
		}
	}
	return out
}
