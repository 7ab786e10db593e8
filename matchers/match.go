package matchers

import (
	"bytes"
	"slices"
)

// HitKind says what kind of thing in a post matched.
type HitKind uint8

// The hit kinds, as review tasks name them.
const (
	HitHashtag HitKind = iota
	HitMention
	HitAuthor
	HitAuthorID
	HitPhrase
	HitDomain
	// HitText is a post's text that is a near-duplicate of a listed
	// text; Similarity says how near.
	HitText

	numHitKinds = 7
)

var hitKindNames = enum{"hashtag", "mention", "author", "author_id", "phrase", "domain", "text"}

// String returns the kind's name in review tasks and metrics.
func (k HitKind) String() string { return hitKindNames.name(uint8(k)) }

// HitKinds lists every hit kind in order.
func HitKinds() []HitKind {
	return []HitKind{HitHashtag, HitMention, HitAuthor, HitAuthorID, HitPhrase, HitDomain, HitText}
}

// Hit is one list entry matched by one thing in a post.
type Hit struct {
	Kind  HitKind
	In    Where
	Tier  Tier
	Entry uint32 // index of the entry in the snapshot
	// Sigil, when not 0, is written before Value: entities carry a tag
	// or handle without its # or @.
	Sigil byte
	// Value is the matched text as it appeared. It points into the post
	// or the Matcher and is valid until the Matcher's next Match.
	Value []byte
	// Similarity is, for a text hit, the Jaccard index of the shingles
	// of the post's text and the listed text.
	Similarity float64
	// ViaBinding is set on a hit of a handle entry found through the
	// account bound to the handle rather than through the handle itself:
	// the author (kind author_id) or a mentioned account (kind mention)
	// is the user id that a binding or a pin of the demand ties to the
	// listed handle. Value is then the handle as the post shows it, or the
	// user id when the post shows none.
	ViaBinding bool
}

// Bindings is what the matcher knows of handle bindings (learned from the
// bindings topic, or pinned). A nil Bindings binds nothing.
type Bindings interface {
	// BoundHandles calls fn with the exact-tier key (as matchers.EntryKey
	// gives for a handle, without '@') of every listed handle bound to userID.
	BoundHandles(userID []byte, fn func(handleKey []byte))
}

// SameThing reports whether h and o match the same entry by the same text
// in the same place, whatever the tier.
func (h *Hit) SameThing(o *Hit) bool {
	if h.Kind != o.Kind || h.In != o.In || h.Entry != o.Entry {
		return false
	}
	a, b := h.Value, o.Value
	switch {
	case h.Sigil == o.Sigil:
	case h.Sigil != 0 && o.Sigil == 0:
		if len(b) == 0 || b[0] != h.Sigil {
			return false
		}
		b = b[1:]
	case h.Sigil == 0 && o.Sigil != 0:
		if len(a) == 0 || a[0] != o.Sigil {
			return false
		}
		a = a[1:]
	default:
		return false
	}
	return bytes.Equal(a, b)
}

// Matcher finds the entries of a snapshot that a post names. It keeps
// scratch buffers, so matching allocates nothing once they have grown; it
// is not safe for concurrent use: each worker owns one. The zero value is
// ready to use.
type Matcher struct {
	norm   Normalizer
	tokens []Token
	links  []Link
	words  Words
	exact  []byte
	loose  []byte
	look   []byte
	host   []byte
	hits   []Hit

	// Text matching scratch.
	shingles shingler
	sig      [textHashes]uint64
	cands    []uint32

	// Binding lookups: onBound is m.boundHandle, made once; boundSnap and
	// boundHit are its arguments while Bindings.BoundHandles runs.
	onBound   func(handleKey []byte)
	boundSnap *Snapshot
	boundHit  Hit
}

// Match returns the hits of post p against snapshot s, each distinct
// (kind, place, text, entry) once at its strongest tier, in the order found.
// With bindings (nil for none), and with the pins of s's demands, a post
// part whose author, or a mention entity whose account, is a user id bound
// to a listed handle also hits that handle's entries, ViaBinding (an
// author whose handle hit the entry itself is not hit again). The result is
// valid until the next call.
func (m *Matcher) Match(s *Snapshot, p *Post, bindings Bindings) []Hit {
	m.hits = m.hits[:0]
	if s == nil || s.Entries() == 0 {
		return m.hits
	}
	u := &s.use
	handles, ids, hashtags, domains, phrases, phraseTags := u.handles, u.ids, u.hashtags, u.domains, u.phrases, u.phraseTags
	bound := handles && (bindings != nil || u.pinned)
	for _, part := range p.Parts {
		t, in := part.Tweet, part.In
		if handles && len(t.AuthorHandle) > 0 {
			m.lookupName(s, EntryHandle, t.AuthorHandle, &Hit{Kind: HitAuthor, In: in, Sigil: '@', Value: t.AuthorHandle})
		}
		if ids && len(t.AuthorID) > 0 {
			m.lookupID(s, t.AuthorID, Hit{Kind: HitAuthorID, In: in, Value: t.AuthorID})
		}
		if bound && len(t.AuthorID) > 0 {
			h := Hit{Kind: HitAuthorID, In: in, Sigil: '@', Value: t.AuthorHandle, ViaBinding: true}
			if len(t.AuthorHandle) == 0 {
				h.Sigil, h.Value = 0, t.AuthorID
			}
			m.lookupBound(s, bindings, t.AuthorID, h)
		}
		for _, mn := range t.Mentions {
			if handles && len(mn.Handle) > 0 {
				m.lookupName(s, EntryHandle, mn.Handle, &Hit{Kind: HitMention, In: in, Sigil: '@', Value: mn.Handle})
			}
			if (ids || bound) && len(mn.ID) > 0 {
				h := Hit{Kind: HitMention, In: in, Sigil: '@', Value: mn.Handle}
				if len(mn.Handle) == 0 {
					h.Sigil, h.Value = 0, mn.ID
				}
				if ids {
					m.lookupID(s, mn.ID, h)
				}
				if bound {
					h.ViaBinding = true
					m.lookupBound(s, bindings, mn.ID, h)
				}
			}
		}
		if hashtags {
			for _, tag := range t.Hashtags {
				m.lookupName(s, EntryHashtag, tag, &Hit{Kind: HitHashtag, In: in, Sigil: '#', Value: tag})
			}
		}
		m.tokens = m.tokens[:0]
		if (handles || hashtags || phraseTags) && len(t.Text) > 0 {
			m.tokens = Extract(m.tokens, t.Text)
		}
		if handles || hashtags {
			// A token whose name is, byte for byte, an entity's already
			// looked up above would find the same entries and make the
			// same hits (SameThing), so it is not looked up again: in
			// posts that carry entities, most tokens are theirs.
			for _, tok := range m.tokens {
				name, value := t.Text[tok.Name:tok.NameEnd], t.Text[tok.Start:tok.NameEnd]
				switch {
				case tok.Kind == TokenHashtag && hashtags:
					if !isEntityHashtag(t, name) {
						m.lookupName(s, EntryHashtag, name, &Hit{Kind: HitHashtag, In: in, Value: value})
					}
				case tok.Kind != TokenHashtag && handles:
					if !isEntityMention(t, name) {
						m.lookupName(s, EntryHandle, name, &Hit{Kind: HitMention, In: in, Value: value})
					}
				}
			}
		}
		if domains {
			for _, u := range t.URLs {
				m.lookupHost(s, HostOfURL(u), Hit{Kind: HitDomain, In: in, Value: u})
			}
			m.links = ExtractLinks(m.links[:0], t.Text)
			for _, l := range m.links {
				m.lookupHost(s, t.Text[l.Host:l.HostEnd], Hit{Kind: HitDomain, In: in, Value: t.Text[l.Start:l.End]})
			}
		}
		if phrases && len(t.Text) > 0 {
			m.matchPhrases(s, t.Text, in, phraseTags)
		}
		if s.texts != nil && len(t.Text) > 0 {
			// Phrase matching has split the text into m.words.
			m.matchTexts(s, t.Text, in, phrases)
		}
	}
	return m.hits
}

// isEntityHashtag reports whether name is one of t's hashtag entities.
func isEntityHashtag(t *Tweet, name []byte) bool {
	for _, tag := range t.Hashtags {
		if bytes.Equal(tag, name) {
			return true
		}
	}
	return false
}

// isEntityMention reports whether name is the handle of one of t's
// mention entities.
func isEntityMention(t *Tweet, name []byte) bool {
	for _, mn := range t.Mentions {
		if bytes.Equal(mn.Handle, name) {
			return true
		}
	}
	return false
}

// lookupName looks up a hashtag or handle name at every tier the
// snapshot's demands use. An ASCII name without separators is its own
// loose key (in lower case), which is then not computed.
func (m *Matcher) lookupName(s *Snapshot, kind EntryKind, name []byte, h *Hit) {
	key, separators, ascii := appendExactASCII(m.exact[:0], name)
	m.exact = key // empty but grown when name is not ASCII
	if ascii {
		loose := key
		if separators {
			loose = nil // lookupKeys computes it, if demands use it
		}
		m.lookupKeys(s, kind, key, loose, h)
		return
	}
	m.exact = m.norm.Exact(m.exact[:0], name)
	m.lookupKeys(s, kind, m.exact, nil, h)
}

// lookupKeys looks up an exact key, and the loose and lookalike keys
// derived from it where demands use those tiers. loose may be given when
// the caller has it, else it is computed. A key looked up in two sets is
// hashed once.
func (m *Matcher) lookupKeys(s *Snapshot, kind EntryKind, exact, loose []byte, h *Hit) {
	if len(exact) == 0 {
		return
	}
	sets := &s.sets[kind]
	var exactHash uint64 // 0 until computed
	m.lookupIn(s, sets[TierExact], exact, &exactHash, h, TierExact)
	tiers := s.tiers[kind]
	if !tiers.Has(TierLoose) && !tiers.Has(TierLookalike) {
		return
	}
	if loose == nil {
		m.loose = m.norm.Loose(m.loose[:0], exact)
		loose = m.loose
	}
	if len(loose) == 0 {
		return
	}
	if tiers.Has(TierLoose) {
		same := bytes.Equal(loose, exact)
		var looseHash uint64
		if same {
			looseHash = exactHash
		}
		m.lookupIn(s, sets[TierLoose], loose, &looseHash, h, TierLoose)
		if !same {
			// Entries whose loose key equals their exact key are only
			// in the exact set.
			m.lookupIn(s, sets[TierExact], loose, &looseHash, h, TierLoose)
		}
	}
	if tiers.Has(TierLookalike) && sets[TierLookalike].Len() > 0 {
		m.look = m.norm.Lookalike(m.look[:0], loose)
		var lookHash uint64
		m.lookupIn(s, sets[TierLookalike], m.look, &lookHash, h, TierLookalike)
	}
}

// lookupIn emits *h at tier t for the references that set stores under
// key. *hash is key's keyHash, or 0 for not yet computed: then lookupIn
// computes it there, if set may hold the key at all. Most lookups find
// nothing; they then cost the lookup alone.
func (m *Matcher) lookupIn(s *Snapshot, set *Set, key []byte, hash *uint64, h *Hit, t Tier) {
	if !set.mayHold(len(key)) {
		return
	}
	if *hash == 0 {
		*hash = keyHash(key)
	}
	if refs := set.lookupHashed(key, *hash); refs.Len() > 0 {
		m.emit(s, refs, *h, t)
	}
}

// lookupID looks up a numeric account id.
func (m *Matcher) lookupID(s *Snapshot, id []byte, h Hit) {
	for len(id) > 1 && id[0] == '0' {
		id = id[1:]
	}
	m.emit(s, s.sets[EntryUserID][TierExact].Lookup(id), h, TierExact)
}

// lookupBound emits h for the handle entries bound to user id id: pinned
// by a demand, or bound in bindings (which may be nil).
func (m *Matcher) lookupBound(s *Snapshot, bindings Bindings, id []byte, h Hit) {
	for len(id) > 1 && id[0] == '0' {
		id = id[1:]
	}
	if s.pinnedIDs.Len() > 0 {
		m.emitBound(s, s.pinnedIDs.Lookup(id), h)
	}
	if bindings == nil {
		return
	}
	if m.onBound == nil {
		m.onBound = m.boundHandle
	}
	m.boundSnap, m.boundHit = s, h
	bindings.BoundHandles(id, m.onBound)
	m.boundSnap = nil
}

// boundHandle emits m.boundHit for the entries of a bound handle's key.
func (m *Matcher) boundHandle(key []byte) {
	if s := m.boundSnap; s != nil {
		m.emitBound(s, s.sets[EntryHandle][TierExact].Lookup(key), m.boundHit)
	}
}

// emitBound records a binding hit h for each handle entry of refs whose
// demand is active, unless the same part's author hit the entry by its
// handle.
func (m *Matcher) emitBound(s *Snapshot, refs Refs, h Hit) {
	for i := 0; i < refs.Len(); i++ {
		e := refs.At(i)
		if s.kinds[e] != EntryHandle || s.states[s.Demand(e)] != StateActive {
			continue
		}
		if h.Kind == HitAuthorID && m.hitByAuthor(e, h.In) {
			continue
		}
		h.Entry, h.Tier = e, TierExact
		m.add(h)
	}
}

// hitByAuthor reports whether entry e has an author hit in part in.
func (m *Matcher) hitByAuthor(e uint32, in Where) bool {
	for i := range m.hits {
		if h := &m.hits[i]; h.Kind == HitAuthor && h.In == in && h.Entry == e {
			return true
		}
	}
	return false
}

// lookupHost looks up a link's host and each of its parent domains, by
// their IDNA form and, where demands use the lookalike tier, by the
// skeletons of their labels.
func (m *Matcher) lookupHost(s *Snapshot, host []byte, h Hit) {
	if len(host) == 0 {
		return
	}
	m.host = NormalizeHost(&m.norm, m.host[:0], host)
	ParentDomains(m.host, func(d []byte) bool {
		m.emit(s, s.sets[EntryDomain][TierExact].Lookup(d), h, TierExact)
		return true
	})
	if s.tiers[EntryDomain].Has(TierLookalike) {
		m.look = m.norm.AppendHostLookalike(m.look[:0], m.host)
		ParentDomains(m.look, func(d []byte) bool {
			m.emit(s, s.sets[EntryDomain][TierLookalike].Lookup(d), h, TierLookalike)
			return true
		})
	}
}

// matchPhrases looks up every run of words of text that could be a phrase.
// A run matches a phrase by its exact or loose key, which keep the words
// apart; inside one hashtag (when tags is set, m.tokens are text's tokens)
// it may also match a phrase of several words by their run-together key.
func (m *Matcher) matchPhrases(s *Snapshot, text []byte, in Where, tags bool) {
	w := &m.words
	w.Split(&m.norm, text)
	if tags {
		w.MarkHashtags(m.tokens)
	}
	tiers := s.tiers[EntryPhrase]
	lookalike := tiers.Has(TierLookalike)
	// A run longer than every phrase cannot match. At the exact tier a
	// run has as many words as its phrase; at the loose tier a text may
	// split a phrase's word further ("f.a.r.m.e.r"), so only the bytes
	// bound it; at the lookalike tier a skeleton has at least a quarter of
	// the bytes of its text (each character becomes one or more of at
	// least one byte, from at most four).
	maxWords, maxBytes := s.maxPhraseWords, s.maxPhraseBytes
	if tiers.Has(TierLoose) || lookalike {
		maxWords = maxBytes
	}
	if lookalike {
		maxWords = 4 * s.maxPhraseLookBytes
		maxBytes = maxWords
	}
	for i := 0; i < w.Len(); i++ {
		if !lookalike {
			b := w.prefix16(i)
			if s.phraseStarts[b/64]&(1<<(b%64)) == 0 {
				continue
			}
		}
		for j := i + 1; j <= w.Len() && j-i <= maxWords; j++ {
			if w.joinedLen(i, j) > maxBytes {
				break
			}
			a, b := w.Span(i, j)
			h := Hit{Kind: HitPhrase, In: in, Value: text[a:b]}
			loose := w.Loose(i, j)
			m.lookupKeys(s, EntryPhrase, w.Exact(i, j), loose, &h)
			if tags && w.InHashtag(i, j) {
				// Inside a hashtag there are no spaces: loose is the
				// words run together.
				m.emit(s, s.phraseTags[TierLoose].Lookup(loose), h, TierLoose)
				if lookalike && s.phraseTags[TierLookalike].Len() > 0 {
					m.look = m.norm.Lookalike(m.look[:0], loose)
					m.emit(s, s.phraseTags[TierLookalike].Lookup(m.look), h, TierLookalike)
				}
			}
		}
	}
}

// matchTexts looks up the listed texts that text is a near-duplicate of;
// split says that m.words holds text split into words.
func (m *Matcher) matchTexts(s *Snapshot, text []byte, in Where, split bool) {
	x := s.texts
	var words *Words
	if split {
		words = &m.words
	}
	a, ok := m.shingles.candidate(&m.norm, text, words, x)
	if !ok {
		return
	}
	signature(&m.sig, a)
	m.cands = m.cands[:0]
	for b := range textBands {
		m.cands = x.bands.appendTexts(m.cands, b, bandKey(&m.sig, b))
	}
	if len(m.cands) == 0 {
		return
	}
	sorted := append(m.shingles.sorted[:0], a...)
	slices.Sort(sorted)
	m.shingles.sorted = sorted
	for _, c := range m.cands {
		ref := x.refs[c]
		d := s.Demand(ref)
		if !s.Active(int(d)) {
			continue
		}
		inter, union := jaccard(sorted, x.textShingles(c))
		if !similar(inter, union, s.demands[d].TextThreshold()) {
			continue
		}
		m.add(Hit{Kind: HitText, In: in, Tier: TierExact, Entry: ref, Value: text,
			Similarity: float64(inter) / float64(union)})
	}
}

// emit records a hit for each reference whose demand matches at tier t.
func (m *Matcher) emit(s *Snapshot, refs Refs, h Hit, t Tier) {
	for i := 0; i < refs.Len(); i++ {
		e := refs.At(i)
		d := s.Demand(e)
		if s.states[d] != StateActive || (t != TierExact && !s.demands[d].Tiers.Has(t)) {
			continue
		}
		h.Entry, h.Tier = e, t
		m.add(h)
	}
}

// add appends h unless the same thing was already hit, keeping the
// strongest tier.
func (m *Matcher) add(h Hit) {
	for i := range m.hits {
		if m.hits[i].SameThing(&h) {
			m.hits[i].Tier = min(m.hits[i].Tier, h.Tier)
			return
		}
	}
	m.hits = append(m.hits, h)
}
