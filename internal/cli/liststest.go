package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"flagstream/internal/lists"
	"flagstream/matchers"
	"flagstream/pipeline"
	"flagstream/pipeline/decode"
	"flagstream/pipeline/review"
)

const listsTestDescription = `
lists test explains what a text or a tweet matches in the demand lists of
--lists: one line per match with its kind, where in the post it was found
(tweet, retweeted, quoted, replied_to), the value as it appeared, the entry
as written in the demand file, the tier (exact, loose, lookalike), the
demand, its jurisdiction and action; "no match" when nothing matches.

It uses the matcher and the decoder of scan and run, so it says exactly what
they would flag. A TEXT is matched as the text of a tweet with no entities
(hashtags, mentions and links are found in the text, as for any tweet);
--tweet FILE reads one tweet JSON value (API v1.1 or v2, a v1.1 search
response, or '-' for standard input) and explains each post in it.

With --json it prints one JSON object instead (schema flagstream.lists_test/v1,
see docs/writing-lists.md), whose matches are those a review task would carry.

Exit status: 0 whether or not anything matches; 2 for bad usage, broken lists
or a tweet that scan would reject; 1 when FILE cannot be read.`

const listsTestExamples = `
  flagstream lists test --lists deploy/examples/lists 'they plan a #Farmer_Genocide, see https://genocide-news.example/x'

  # One tweet, as the API returned it
  flagstream lists test --lists deploy/examples/lists --tweet tweet.json
  curl -s "$TWEET_URL" | flagstream lists test --lists deploy/examples/lists --tweet - --json`

// maxTweetBytes bounds the tweet --tweet reads, as scan bounds a line.
const maxTweetBytes = 4 << 20

func newListsTestCommand(env *Env) *cobra.Command {
	var (
		listsDir, tweetFile, at string
		asJSON                  bool
	)
	cmd := &cobra.Command{
		Use:     "test --lists DIR (TEXT | --tweet FILE) [--json]",
		Short:   "explain what a text or tweet matches: entry, tier, kind, demand, jurisdiction, action",
		Long:    listsTestDescription,
		Example: listsTestExamples,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("lists test: name one TEXT, quoted if it has spaces ('farmer genocide'), not %d words", len(args))
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&listsDir, "lists", "", "match against the demand lists in `DIR` (required)")
	fs.StringVar(&tweetFile, "tweet", "", "explain the tweet JSON in `FILE` ('-': standard input) instead of a TEXT")
	fs.StringVar(&at, "at", "", "evaluate demands' dates at `TIME` (YYYY-MM-DD or RFC 3339) instead of now")
	fs.BoolVar(&asJSON, "json", false, "print a JSON object (flagstream.lists_test/v1) instead of a table")
	cmd.MarkFlagDirname("lists")
	cmd.MarkFlagFilename("tweet", "json")
	cmd.RunE = runE(func(_ context.Context, args []string) error {
		switch {
		case listsDir == "":
			return usagef("lists test: --lists is required")
		case len(args) == 0 && tweetFile == "":
			return usagef("lists test: name a TEXT or --tweet FILE")
		case len(args) > 0 && tweetFile != "":
			return usagef("lists test: name a TEXT or --tweet FILE, not both")
		}
		t, err := atTime("lists test", at)
		if err != nil {
			return err
		}
		snap, warnings, err := lists.Load(listsDir, t)
		for _, w := range warnings {
			fmt.Fprintf(env.Stderr, "flagstream: warning: %v\n", &w)
		}
		if err != nil {
			return inputError(fmt.Errorf("lists: %w", err))
		}
		fmt.Fprintf(env.Stderr, "lists test: lists %s: %s\n", listsDir, snap.Summary())
		var posts []matchers.Post
		if tweetFile == "" {
			posts = []matchers.Post{{Parts: []matchers.Part{{In: matchers.InTweet, Tweet: &matchers.Tweet{Text: []byte(args[0])}}}}}
		} else {
			var dec decode.Decoder
			if posts, err = readTweet(&dec, env.Stdin, tweetFile); err != nil {
				return err
			}
		}
		report := explain(snap, posts, t, tweetFile == "")
		if asJSON {
			return writeJSON(env.Stdout, report)
		}
		return writeExplanation(env.Stdout, report)
	})
	return cmd
}

// readTweet reads and decodes the tweet JSON in file ("-": stdin). The
// posts are valid until dec's next use.
func readTweet(dec *decode.Decoder, stdin io.Reader, file string) ([]matchers.Post, error) {
	r := stdin
	name := "stdin"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("lists test: %w", err)
		}
		defer f.Close()
		r, name = f, file
	}
	data, err := io.ReadAll(io.LimitReader(r, maxTweetBytes+1))
	if err != nil {
		return nil, fmt.Errorf("lists test: read %s: %w", name, err)
	}
	if len(data) > maxTweetBytes {
		return nil, inputError(fmt.Errorf("lists test: %s: larger than %d bytes", name, maxTweetBytes))
	}
	posts, err := dec.Decode(data)
	if err != nil {
		return nil, inputError(fmt.Errorf("lists test: %s: rejected, as scan and run would reject it: %w", name, err))
	}
	return posts, nil
}

// explanation is the output of `lists test --json`.
type explanation struct {
	Schema       string `json:"schema"` // flagstream.lists_test/v1
	ListsVersion string `json:"lists_version"`
	// At is the instant the demands' states are evaluated at.
	At string `json:"at"`
	// Posts has one element per post: a TEXT is one post.
	Posts []postExplanation `json:"posts"`
}

// postExplanation says what one post matches.
type postExplanation struct {
	// TweetID and Author are empty for a TEXT.
	TweetID string `json:"tweet_id"`
	Author  string `json:"author"`
	Matched bool   `json:"matched"`
	// Priority, Action and Jurisdictions are those of the review task
	// the post would get; empty when nothing matches.
	Priority      string   `json:"priority"`
	Action        string   `json:"action"`
	Jurisdictions []string `json:"jurisdictions"`
	// Matches are the review task's matches, in its order.
	Matches []review.Match `json:"matches"`
	// Exemption, when set, is the exemption of the post's author from a
	// demand among the live matches: run escalates that task (action
	// escalate, priority critical) instead.
	Exemption *review.Exemption `json:"exemption,omitempty"`
	// ShadowDemands are the matched demands in shadow mode: run sends
	// their matches to the shadow topic, in a task of their own.
	ShadowDemands []string `json:"shadow_demands,omitempty"`
}

// explain matches each post against snap and builds the review task it
// would get, as the pipeline does.
func explain(snap *matchers.Snapshot, posts []matchers.Post, at time.Time, text bool) explanation {
	out := explanation{
		Schema:       "flagstream.lists_test/v1",
		ListsVersion: snap.Version(),
		At:           at.UTC().Format(time.RFC3339),
		Posts:        []postExplanation{},
	}
	var m matchers.Matcher
	for i := range posts {
		p := &posts[i]
		pe := postExplanation{Jurisdictions: []string{}, Matches: []review.Match{}}
		if !text {
			pe.TweetID, pe.Author = string(p.Main().ID), string(p.Main().AuthorHandle)
		}
		if hits := m.Match(snap, p, nil); len(hits) > 0 {
			task := review.Build(snap, p, hits, review.Source{}, at)
			pe.Matched = true
			pe.Priority, pe.Action, pe.Jurisdictions, pe.Matches = task.Priority, task.Action, task.Jurisdictions, task.Matches
			pe.Exemption, pe.ShadowDemands = governance(snap, p, hits)
		}
		out.Posts = append(out.Posts, pe)
	}
	return out
}

// governance returns what run's governance does to a post's hits
// (pipeline.Govern): the exemption of the author from a live demand among
// them, and the shadow-mode demands among them.
func governance(snap *matchers.Snapshot, p *matchers.Post, hits []matchers.Hit) (*review.Exemption, []string) {
	g := pipeline.Govern(snap, p, hits)
	var shadow []string
	for _, h := range g.Shadow {
		if id := snap.Demands()[snap.Demand(h.Entry)].ID; !slices.Contains(shadow, id) {
			shadow = append(shadow, id)
		}
	}
	if g.LiveExemption < 0 {
		return nil, shadow
	}
	e := &snap.Exemptions()[g.LiveExemption]
	return &review.Exemption{ID: e.ID, Category: e.Category.String(), Reason: e.Reason}, shadow
}

// writeExplanation writes one line per match, or "no match", per post;
// posts of a tweet get a heading each.
func writeExplanation(w io.Writer, e explanation) error {
	for i, p := range e.Posts {
		if p.TweetID != "" || p.Author != "" || len(e.Posts) > 1 {
			if i > 0 {
				fmt.Fprintln(w)
			}
			by := ""
			if p.Author != "" {
				by = " by @" + p.Author
			}
			fmt.Fprintf(w, "tweet %s%s:\n", orUnset(p.TweetID), by)
		}
		if !p.Matched {
			fmt.Fprintln(w, "no match")
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tIN\tVALUE\tENTRY\tTIER\tDEMAND\tJURISDICTION\tACTION")
		for _, m := range p.Matches {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
				m.Kind, m.In, oneLine(m.Value), oneLine(m.Entry), m.Tier, m.DemandID, m.Jurisdiction, m.Action)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if e := p.Exemption; e != nil {
			fmt.Fprintf(w, "escalated: the author is exempt under %s (%s: %s): run sends the live matches' task to humans with action escalate, priority critical, never withhold\n",
				e.ID, e.Category, strings.Join(strings.Fields(e.Reason), " "))
		}
		if len(p.ShadowDemands) > 0 {
			fmt.Fprintf(w, "shadow mode: the matches of %s go to the shadow topic in a task of their own, not to reviewers\n", strings.Join(p.ShadowDemands, ", "))
		}
	}
	return nil
}

// oneLine quotes s when it has spaces, tabs or line breaks, so a table
// row stays one line with aligned columns.
func oneLine(s string) string {
	if strings.ContainsAny(s, " \t\r\n") {
		return fmt.Sprintf("%q", s)
	}
	return s
}
