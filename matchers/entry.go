package matchers

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Limits on entries, so that a broken list cannot exhaust memory.
const (
	maxPhraseWords  = 16
	maxPhraseBytes  = 1024
	maxHashtagBytes = 1024
	maxDomainBytes  = 253
	maxUserIDDigits = 20
	maxHandleRunes  = 15
)

// AppendEntryKey validates an entry of a kind, as written in a list
// file, and appends its exact-tier key to dst. Every list parser and
// Compile judge entries with it, so that a list that parses compiles.
func AppendEntryKey(dst []byte, n *Normalizer, kind EntryKind, value []byte) ([]byte, error) {
	if len(value) == 0 {
		return dst, fmt.Errorf("empty %s", kind)
	}
	switch kind {
	case EntryHandle:
		h := bytes.TrimPrefix(value, []byte("@"))
		if !isHandle(h) {
			if len(h) > maxHandleRunes && isHandle(h[:maxHandleRunes]) && isHandle(h[maxHandleRunes:]) {
				return dst, fmt.Errorf("handle %q is longer than a Twitter handle can be (%d characters)", value, maxHandleRunes)
			}
			return dst, fmt.Errorf("handle %q is not a Twitter handle (1-%d letters, digits or _, '@' optional)", value, maxHandleRunes)
		}
		return appendLowerASCII(dst, h), nil
	case EntryUserID:
		if len(value) > maxUserIDDigits || len(bytes.Trim(value, "0123456789")) > 0 {
			return dst, fmt.Errorf("user id %q is not a numeric account id", value)
		}
		if _, err := strconv.ParseUint(string(value), 10, 64); err != nil || len(bytes.Trim(value, "0")) == 0 {
			return dst, fmt.Errorf("user id %q is not a numeric account id", value)
		}
		return append(dst, bytes.TrimLeft(value, "0")...), nil
	case EntryHashtag:
		tag := string(value)
		if !strings.HasPrefix(tag, "#") && !strings.HasPrefix(tag, "＃") {
			tag = "#" + tag
		}
		if len(tag) > maxHashtagBytes {
			return dst, fmt.Errorf("hashtag longer than %d bytes", maxHashtagBytes)
		}
		toks := Extract(nil, []byte(tag))
		if len(toks) != 1 || toks[0].Kind != TokenHashtag || toks[0].Start != 0 || toks[0].End != len(tag) {
			return dst, fmt.Errorf("hashtag %q is not a hashtag: it needs a letter and only letters, digits, marks or _ after the #", value)
		}
		return n.Exact(dst, []byte(tag[toks[0].Name:])), nil
	case EntryPhrase:
		if len(value) > maxPhraseBytes {
			return dst, fmt.Errorf("phrase longer than %d bytes", maxPhraseBytes)
		}
		var w Words
		w.Split(n, value)
		switch {
		case w.Len() == 0:
			return dst, fmt.Errorf("phrase %q has no words", value)
		case w.Len() > maxPhraseWords:
			return dst, fmt.Errorf("phrase %q has %d words; at most %d", value, w.Len(), maxPhraseWords)
		}
		return append(dst, w.Exact(0, w.Len())...), nil
	case EntryDomain:
		return appendDomainKey(dst, n, value)
	case EntryText:
		return appendTextKey(dst, n, value)
	}
	return dst, fmt.Errorf("unknown entry kind %d", kind)
}

// isHandle reports whether h is a Twitter screen name.
func isHandle(h []byte) bool {
	if len(h) == 0 || len(h) > maxHandleRunes {
		return false
	}
	for _, c := range h {
		if !handleByte[c] {
			return false
		}
	}
	return true
}

// handleByte marks the bytes a handle is made of: A-Z a-z 0-9 _.
var handleByte = func() (t [256]bool) {
	for c := range t {
		t[c] = isMentionChar(rune(c))
	}
	return t
}()

// EntryKey returns the exact-tier lookup key of an entry of kind written
// value (NFKC, case folded, invisible characters removed; a handle without
// its @, a hashtag without its #, a domain in IDNA form), or why value is
// not a valid entry of that kind. Two entries of a kind with the same key
// match the same things: "@Example" and "example", "#FarmerGenocide" and
// "#farmergenocide".
func EntryKey(kind EntryKind, value string) (string, error) {
	var n Normalizer
	key, err := AppendEntryKey(nil, &n, kind, bytes.TrimSpace([]byte(value)))
	return string(key), err
}
