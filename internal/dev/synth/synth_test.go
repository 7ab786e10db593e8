package synth

import (
	"encoding/json"
	"testing"
)

// v1 is what a test reads of a generated v1.1 tweet.
type v1 struct {
	IDStr string `json:"id_str"`
	User  struct {
		IDStr      string `json:"id_str"`
		ScreenName string `json:"screen_name"`
	} `json:"user"`
	Entities struct {
		Mentions []struct {
			ScreenName string `json:"screen_name"`
			IDStr      string `json:"id_str"`
		} `json:"user_mentions"`
	} `json:"entities"`
}

// TestAccountPosts checks that a listed handle names one account in every
// post (its HandleUserID), as author and in mention entities; that Rename
// moves its posts to the new handle under the same id and Takeover gives
// the handle another id; and that LastAccount says so.
func TestAccountPosts(t *testing.T) {
	g := New(Config{Seed: 3, Handles: []string{"kisan_one", "kisan_two", "kisan_three"}, FlagRate: 0.4, EvasiveRate: 0.2,
		Rename:   Rename{Handle: "kisan_one", To: "kisan_one_new", At: 500},
		Takeover: Takeover{Handle: "kisan_two", At: 500}})
	var exp Expectation
	seen := map[string]int{}
	for range 1000 {
		rec, kind := g.Next(nil)
		if err := exp.Note(rec, kind); err != nil {
			t.Fatal(err)
		}
		a, ok := g.LastAccount()
		if !ok {
			continue
		}
		exp.NoteAccount(a)
		var tw v1
		if err := json.Unmarshal(rec, &tw); err != nil || tw.IDStr == "" {
			continue // a v2 record
		}
		if a.TweetID != tw.IDStr || !exp.IsFlagged(tw.IDStr) {
			t.Fatalf("account post %+v for tweet %s (flagged %v)", a, tw.IDStr, exp.IsFlagged(tw.IDStr))
		}
		switch {
		case a.Mention && a.UserID != "":
			found := false
			for _, m := range tw.Entities.Mentions {
				found = found || m.ScreenName == a.Handle && m.IDStr == HandleUserID(a.Handle)
			}
			if !found {
				t.Errorf("tweet %s: no mention entity of %s with id %s", tw.IDStr, a.Handle, HandleUserID(a.Handle))
			}
			seen["mention"]++
		case a.Mention:
			seen["typed mention"]++
		case a.Renamed:
			if tw.User.ScreenName != "kisan_one_new" || tw.User.IDStr != HandleUserID("kisan_one") {
				t.Errorf("renamed post by %s/%s", tw.User.ScreenName, tw.User.IDStr)
			}
			seen["renamed"]++
		case a.TakenOver:
			if tw.User.ScreenName != "kisan_two" || tw.User.IDStr != TakeoverUserID("kisan_two") || tw.User.IDStr == HandleUserID("kisan_two") {
				t.Errorf("taken-over post by %s/%s", tw.User.ScreenName, tw.User.IDStr)
			}
			seen["taken over"]++
		default:
			if tw.User.ScreenName != a.Handle || tw.User.IDStr != HandleUserID(a.Handle) || a.UserID != tw.User.IDStr {
				t.Errorf("post of %s by %s/%s", a.Handle, tw.User.ScreenName, tw.User.IDStr)
			}
			seen["author"]++
		}
	}
	for _, k := range []string{"mention", "typed mention", "renamed", "taken over", "author"} {
		if seen[k] == 0 {
			t.Errorf("no %s post in 1000 records: %v", k, seen)
		}
	}
	if len(exp.Accounts) == 0 || len(exp.Accounts) > len(exp.Flagged) {
		t.Errorf("%d account posts of %d flagged", len(exp.Accounts), len(exp.Flagged))
	}
	if HandleUserID("Kisan_One") != HandleUserID("kisan_one") {
		t.Error("HandleUserID depends on case")
	}
}
