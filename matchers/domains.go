package matchers

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// hostProfile converts host names as browsers do (the WHATWG URL
// standard's "domain to ASCII"): UTS #46 mapping with non-transitional
// processing, so ß, ς and the joiners stay distinct (straße.de is not
// strasse.de), the Bidi and ContextJ rules checked, hyphens and ASCII
// characters beyond letters, digits and hyphens allowed.
var hostProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.StrictDomainName(false),
	idna.CheckHyphens(false),
)

// NormalizeHost appends the key of a host name to dst: its IDNA ASCII form
// (A-labels, lower case), with any trailing dot removed. Invisible
// characters, which a text may hide inside a host, are removed first; the
// joiners U+200C and U+200D, which some scripts need, only when the host
// is not valid with them. A host that is not valid IDNA even so gets the
// best form IDNA processing gives; no valid entry has that key.
//
// An all-ASCII host costs no allocation; others are converted through a
// small per-Normalizer cache, so a host seen again costs none either.
func NormalizeHost(n *Normalizer, dst, host []byte) []byte {
	key, _ := n.hostKey(dst, host)
	return key
}

// hostKey is NormalizeHost, also reporting whether host is valid IDNA. A
// valid host's key is its own key. An all-ASCII host without A-labels is
// reported valid as it is; only list entries need more, and
// appendDomainKey checks them.
func (n *Normalizer) hostKey(dst, host []byte) ([]byte, bool) {
	start := len(dst)
	if isASCII(host) && !hasACEPrefix(host) {
		dst = appendLowerASCII(dst, host)
		for len(dst) > start && dst[len(dst)-1] == '.' {
			dst = dst[:len(dst)-1]
		}
		return dst, true
	}
	if e, ok := n.hosts[string(host)]; ok {
		return append(dst, e.key...), e.valid
	}
	n.a = appendWithout(n.a[:0], host, func(r rune) bool { return IsInvisible(r) && r != 0x200C && r != 0x200D })
	key, err := hostProfile.ToASCII(string(n.a))
	if err != nil && bytes.ContainsAny(n.a, "\u200C\u200D") {
		n.a = appendWithout(n.a[:0], n.a, func(r rune) bool { return r == 0x200C || r == 0x200D })
		key, err = hostProfile.ToASCII(string(n.a))
	}
	key = strings.TrimRight(strings.ToLower(key), ".")
	// A label longer than DNS allows is refused here as well: past some
	// length its A-label no longer decodes, so the key would not be its
	// own key.
	valid := err == nil && utf8.Valid(host) && fitsDNS(key)
	if !utf8.ValidString(key) {
		key = strings.ToValidUTF8(key, "\uFFFD")
	}
	n.cacheHost(string(host), hostEntry{key: key, valid: valid})
	return append(dst, key...), valid
}

// fitsDNS reports whether every label of the ASCII host key fits in the
// 63 bytes DNS allows a label and the whole in the 253 it allows a name.
func fitsDNS(key string) bool {
	if len(key) > maxDomainBytes {
		return false
	}
	for label := range strings.SplitSeq(key, ".") {
		if len(label) > 63 {
			return false
		}
	}
	return true
}

// hasACEPrefix reports whether an ASCII host has a label starting with
// xn-- (in any case): an A-label, valid or not.
func hasACEPrefix(host []byte) bool {
	for i := 0; i+4 <= len(host); i++ {
		if (i == 0 || host[i-1] == '.') && (host[i+2] == '-' && host[i+3] == '-') &&
			(host[i]|0x20 == 'x') && (host[i+1]|0x20 == 'n') {
			return true
		}
	}
	return false
}

// hostEntry is a cached host conversion.
type hostEntry struct {
	key   string
	valid bool
}

// maxCachedHosts bounds a Normalizer's host cache.
const maxCachedHosts = 4096

func (n *Normalizer) cacheHost(host string, e hostEntry) {
	if n.hosts == nil || len(n.hosts) >= maxCachedHosts {
		n.hosts = make(map[string]hostEntry)
	}
	n.hosts[host] = e
}

func (n *Normalizer) cacheLabel(label string, u []byte) {
	if n.labels == nil || len(n.labels) >= maxCachedHosts {
		n.labels = make(map[string][]byte)
	}
	n.labels[label] = u
}

// appendWithout appends the code points of src for which drop is false to
// dst, which may share src's array as long as it starts at its beginning.
func appendWithout(dst, src []byte, drop func(rune) bool) []byte {
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if !drop(r) {
			dst = append(dst, src[i:i+size]...)
		}
		i += size
	}
	return dst
}

// AppendHostLookalike appends the lookalike-tier key of a host key (from
// NormalizeHost) to dst: the confusable skeleton of each of its labels in
// Unicode form, case folded, joined by dots, so that "exаmple.org" with a
// Cyrillic а, its A-label form "xn--exmple-4nf.org" and "example.org" share
// one key.
func (n *Normalizer) AppendHostLookalike(dst, key []byte) []byte {
	first := true
	for label := range bytes.SplitSeq(key, []byte(".")) {
		if !first {
			dst = append(dst, '.')
		}
		first = false
		if bytes.HasPrefix(label, []byte("xn--")) {
			label = n.unicodeLabel(label)
		}
		dst = n.Lookalike(dst, label)
	}
	return dst
}

// unicodeLabel returns the Unicode form of an A-label, through a cache; a
// label that does not decode is returned as it is.
func (n *Normalizer) unicodeLabel(label []byte) []byte {
	if u, ok := n.labels[string(label)]; ok {
		return u
	}
	u, err := idna.Punycode.ToUnicode(string(label))
	if err != nil {
		u = string(label)
	}
	n.cacheLabel(string(label), []byte(u))
	return []byte(u)
}

// SuffixKind says whether a domain is itself a public suffix, after the
// Public Suffix List.
type SuffixKind uint8

// The kinds of domains.
const (
	// NotSuffix is a domain under which one party registers names.
	NotSuffix SuffixKind = iota
	// ICANNSuffix is in the ICANN section of the list: a top-level
	// domain or a registry's second level (com, co.uk, рф).
	ICANNSuffix
	// PrivateSuffix is in the private section: a service under which
	// anyone may get a name (github.io, blogspot.com).
	PrivateSuffix
)

// ClassifyDomain says whether the host key d (from NormalizeHost) is a
// public suffix.
func ClassifyDomain(d string) SuffixKind {
	ps, icann := publicsuffix.PublicSuffix(d)
	switch {
	case ps != d:
		return NotSuffix
	case icann:
		return ICANNSuffix
	case strings.Contains(d, "."):
		// An unlisted top-level domain is its own suffix by the list's
		// default rule, outside both sections; a suffix of several
		// labels that is not ICANN's is a private-section entry.
		return PrivateSuffix
	}
	return NotSuffix
}

// appendDomainKey validates a domain entry and appends its key (the
// NormalizeHost form) to dst. A domain that is an ICANN-section public
// suffix is refused: it would match every site under it.
func appendDomainKey(dst []byte, n *Normalizer, value []byte) ([]byte, error) {
	v := string(value)
	if strings.Contains(v, "://") || strings.ContainsAny(v, "/?#@: \t") {
		return dst, fmt.Errorf("domain %q must be a bare host name such as example.org (no scheme, port or path)", v)
	}
	start := len(dst)
	dst, valid := n.hostKey(dst, value)
	key := dst[start:]
	if !valid {
		return dst[:start], fmt.Errorf("domain %q is not a valid internationalized domain name (IDNA, as browsers read it)", v)
	}
	if len(key) == 0 || len(key) > maxDomainBytes {
		return dst[:start], fmt.Errorf("domain %q is not a host name", v)
	}
	if ClassifyDomain(string(key)) == ICANNSuffix {
		return dst[:start], fmt.Errorf("domain %q is a public suffix (ICANN section of the Public Suffix List): it would match every site under it; name a registrable domain such as example.%s", v, key)
	}
	labels := bytes.Split(key, []byte("."))
	if len(labels) < 2 {
		return dst[:start], fmt.Errorf("domain %q needs at least two labels (example.org)", v)
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return dst[:start], fmt.Errorf("domain %q has an invalid label %q", v, l)
		}
		for _, r := range string(l) {
			if !(r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
				return dst[:start], fmt.Errorf("domain %q has an invalid character %q", v, r)
			}
		}
	}
	return dst, nil
}

// DomainWarning returns a warning about a domain entry's key (from
// NormalizeHost), or "": a private-section public suffix (github.io) names
// a whole service of unrelated sites.
func DomainWarning(key []byte) string {
	if ClassifyDomain(string(key)) == PrivateSuffix {
		return fmt.Sprintf("domain %q is a public suffix (private section of the Public Suffix List): it matches every site under it, each run by someone else", key)
	}
	return ""
}
