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
			handle, id := a.Handle, HandleUserID(a.Handle)
			switch {
			case a.Renamed:
				handle = "kisan_one_new"
				seen["renamed mention"]++
			case a.TakenOver:
				id = TakeoverUserID(a.Handle)
				seen["taken-over mention"]++
			}
			found := false
			for _, m := range tw.Entities.Mentions {
				found = found || m.ScreenName == handle && m.IDStr == id && a.UserID == id
			}
			if !found {
				t.Errorf("tweet %s: no mention entity of %s with id %s", tw.IDStr, handle, id)
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
	for _, k := range []string{"mention", "renamed mention", "taken-over mention", "typed mention", "renamed", "taken over", "author"} {
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

// TestIntroduceAndShares checks that introduced accounts post first, and
// that the renamed and taken-over accounts post their share of the records
// from their record on.
func TestIntroduceAndShares(t *testing.T) {
	g := New(Config{Seed: 5, Handles: []string{"a_one", "b_two"}, FlagRate: 0.01,
		Introduce: []string{"a_one", "b_two"},
		Rename:    Rename{Handle: "a_one", To: "a_one_new", At: 101, Share: 0.1},
		Takeover:  Takeover{Handle: "b_two", At: 101, Share: 0.1}})
	for i, h := range []string{"a_one", "b_two"} {
		rec, kind := g.Next(nil)
		a, ok := g.LastAccount()
		var tw v1
		if err := json.Unmarshal(rec, &tw); err != nil || !ok || kind != Flagged || a.Handle != h || a.Mention ||
			tw.User.ScreenName != h || tw.User.IDStr != HandleUserID(h) {
			t.Fatalf("record %d: %+v %v %s", i+1, a, kind, rec)
		}
	}
	renamed, taken := 0, 0
	for range 1098 {
		g.Next(nil)
		if a, ok := g.LastAccount(); ok && !a.Mention {
			if a.Renamed {
				renamed++
			}
			if a.TakenOver {
				taken++
			}
		}
	}
	if renamed < 60 || taken < 60 {
		t.Errorf("%d renamed and %d taken-over posts in 1000 records at a share of 0.1 each", renamed, taken)
	}
}

// TestChangeNow checks that ChangeNow starts the rename and the takeover at
// the next record, with a post by each account first.
func TestChangeNow(t *testing.T) {
	g := New(Config{Seed: 9, Handles: []string{"a_one", "b_two"}, FlagRate: 0.01,
		Rename:   Rename{Handle: "a_one", To: "a_one_new", At: 1 << 40},
		Takeover: Takeover{Handle: "b_two", At: 1 << 40}})
	for range 10 {
		g.Next(nil)
	}
	g.ChangeNow()
	for _, want := range []AccountPost{{Handle: "a_one", UserID: HandleUserID("a_one"), Renamed: true},
		{Handle: "b_two", UserID: TakeoverUserID("b_two"), TakenOver: true}} {
		g.Next(nil)
		a, ok := g.LastAccount()
		a.TweetID = ""
		if !ok || a != want {
			t.Errorf("after ChangeNow: %+v, want %+v", a, want)
		}
	}
}
