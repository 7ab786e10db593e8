package cases

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"flagstream/matchers"
)

// EntryKind is the kind of an account entry: a handle (from `handles:`,
// `handles_file:` or `accounts:`) or a numeric user id (`user_ids:`).
type EntryKind string

// The account entry kinds.
const (
	EntryHandle EntryKind = "handle"
	EntryUserID EntryKind = "user_id"
)

// EntryKindOf returns the case entry kind of a list entry kind; ok is false
// for entries that are not about accounts (hashtags, phrases, domains).
func EntryKindOf(k matchers.EntryKind) (kind EntryKind, ok bool) {
	switch k {
	case matchers.EntryHandle:
		return EntryHandle, true
	case matchers.EntryUserID:
		return EntryUserID, true
	}
	return "", false
}

// Limits of account names and ids, as the list parser enforces them.
const (
	maxHandleBytes  = 15
	maxUserIDDigits = 20
)

// NormalizeHandle returns the normalized form of a handle: without its
// leading '@' and lowercased, through the matchers' exact-tier normalizer,
// so a handle written "@Kisan_Ekta", "kisan_ekta" or with a fullwidth @ in
// a tweet's text gives "kisan_ekta". It is the key of a binding record and,
// after an '@', of a handle entry. An error says why h is not a handle
// (1-15 letters, digits or _).
func NormalizeHandle(h string) (string, error) {
	b, err := appendHandleKey(nil, h)
	return string(b), err
}

// appendHandleKey appends the normalized handle of h to dst.
func appendHandleKey(dst []byte, h string) ([]byte, error) {
	start := len(dst)
	if isASCIIString(h) {
		h = trimAt(h)
		for i := 0; i < len(h); i++ {
			c := h[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
	} else {
		var n matchers.Normalizer
		dst = n.Exact(dst, []byte(h))
		if rest, ok := bytes.CutPrefix(dst[start:], []byte("@")); ok {
			dst = append(dst[:start], rest...)
		}
	}
	key := dst[start:]
	if len(key) == 0 || len(key) > maxHandleBytes {
		return dst[:start], fmt.Errorf("%q is not a handle (1-%d letters, digits or _)", h, maxHandleBytes)
	}
	for _, c := range key {
		if !isHandleByte(c) {
			return dst[:start], fmt.Errorf("%q is not a handle (1-%d letters, digits or _)", h, maxHandleBytes)
		}
	}
	return dst, nil
}

func trimAt(h string) string {
	if len(h) > 0 && h[0] == '@' {
		return h[1:]
	}
	return h
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// isHandleByte reports whether c may appear in a normalized handle.
func isHandleByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_'
}

// isPlainHandle reports whether h is a handle as the platform spells it:
// 1-15 ASCII letters, digits or _.
func isPlainHandle(h string) bool {
	if len(h) == 0 || len(h) > maxHandleBytes {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !isHandleByte(c) && !('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// NormalizeUserID returns a numeric account id without leading zeros, as the
// matchers compare ids. An error says why id is not one (1-20 digits, not
// all zeros, at most 2^64-1).
func NormalizeUserID(id string) (string, error) {
	if len(id) == 0 || len(id) > maxUserIDDigits {
		return "", fmt.Errorf("%q is not a numeric user id", id)
	}
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("%q is not a numeric user id", id)
	}
	i := 0
	for i < len(id)-1 && id[i] == '0' {
		i++
	}
	if id[i:] == "0" {
		return "", fmt.Errorf("%q is not a numeric user id", id)
	}
	return id[i:], nil
}

// trimZeros returns a user id without its leading zeros.
func trimZeros(id string) string {
	for len(id) > 1 && id[0] == '0' {
		id = id[1:]
	}
	return id
}

// EntryKey returns the normalized key of an account entry: "@" and the
// normalized handle for a handle ("@kisan_ekta"), the digits without leading
// zeros for a user id ("1234567890"). The '@' keeps a handle made of digits
// apart from a user id. A pinned `accounts:` item is keyed as its handle
// entry: its case is the handle's case, with the pinned id carried in the
// evidence.
func EntryKey(kind EntryKind, value string) (string, error) {
	switch kind {
	case EntryHandle:
		h, err := NormalizeHandle(value)
		if err != nil {
			return "", err
		}
		return "@" + h, nil
	case EntryUserID:
		return NormalizeUserID(value)
	}
	return "", fmt.Errorf("entry kind %q is not an account entry kind (handle, user_id)", kind)
}

// caseIDPrefix versions the case id: a change of how ids are made must
// change this prefix, and every open case would start anew.
const caseIDPrefix = "flagstream.case/v1\x00"

// CaseID returns the id of the case of a demand's account entry, given the
// entry's key (see [EntryKey]): the first 128 bits, in lowercase hex, of
// SHA-256("flagstream.case/v1" NUL demandID NUL entryKey). It depends on
// nothing else, so every instance, `run`, `scan` and `retro`, and every run
// of them, give a case the same id, and two demands naming the same account
// give two cases.
func CaseID(demandID, entryKey string) string {
	var buf [32]byte
	return string(appendCaseID(buf[:0], demandID, entryKey))
}

func appendCaseID[K string | []byte](dst []byte, demandID string, entryKey K) []byte {
	// Demand ids (128 bytes at most) and entry keys are short: hash them
	// from a buffer on the stack, which sha256.New would not allow.
	var buf [256]byte
	in := append(buf[:0], caseIDPrefix...)
	in = append(in, demandID...)
	in = append(in, 0)
	in = append(in, entryKey...)
	sum := sha256.Sum256(in)
	return hex.AppendEncode(dst, sum[:16])
}

// appendKey appends the key of an account entry (see EntryKey) to dst.
func appendKey(dst []byte, kind EntryKind, value string) ([]byte, error) {
	switch kind {
	case EntryHandle:
		return appendHandleKey(append(dst, '@'), value)
	case EntryUserID:
		id, err := NormalizeUserID(value)
		return append(dst, id...), err
	}
	_, err := EntryKey(kind, value)
	return dst, err
}

// checkCaseID returns an error unless caseID is the id of the entry of the
// demand.
func checkCaseID(caseID, demandID string, kind EntryKind, entry string) error {
	var kb [1 + maxUserIDDigits]byte
	key, err := appendKey(kb[:0], kind, entry)
	if err != nil {
		return fmt.Errorf("entry: %w", err)
	}
	var ib [32]byte
	if want := appendCaseID(ib[:0], demandID, key); caseID != string(want) {
		return fmt.Errorf("case_id %q, but demand %s entry %s has case %s", caseID, demandID, string(key), string(want))
	}
	return nil
}

// isHexID reports whether s is a case or task id: 32 lowercase hex digits.
func isHexID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
