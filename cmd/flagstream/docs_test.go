package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository root, where README.md and docs/ are.
const repoRoot = "../.."

// docFiles returns README.md and docs/*.md, relative to repoRoot.
func docFiles(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	for _, d := range docs {
		rel, err := filepath.Rel(repoRoot, d)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	return files
}

var (
	// mdLink is an inline markdown link or image: [text](target) or
	// [text](target "title").
	mdLink = regexp.MustCompile(`!?\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	// codeSpan is inline code, whose brackets are not links.
	codeSpan = regexp.MustCompile("`[^`]*`")
	// notAnchor is what GitHub drops from a heading to make its anchor.
	notAnchor = regexp.MustCompile(`[^\p{L}\p{N}_ -]`)
)

// mdLine is a line of a markdown file outside fenced code blocks.
type mdLine struct {
	n    int // 1-based line number
	text string
}

// prose returns the lines of md outside fenced code blocks.
func prose(md string) []mdLine {
	var out []mdLine
	fenced := false
	for i, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			out = append(out, mdLine{i + 1, line})
		}
	}
	return out
}

// githubAnchor returns the anchor GitHub gives a heading's text: lower
// case, punctuation dropped, spaces as hyphens; links as their text.
func githubAnchor(heading string) string {
	heading = mdLink.ReplaceAllString(heading, "$1")
	return strings.ReplaceAll(notAnchor.ReplaceAllString(strings.ToLower(strings.TrimSpace(heading)), ""), " ", "-")
}

// anchors returns the anchors of the headings of md, a repeated one with
// -1, -2, … as GitHub numbers them.
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range prose(md) {
		trimmed := strings.TrimLeft(l.text, "#")
		level := len(l.text) - len(trimmed)
		if level == 0 || level > 6 || !strings.HasPrefix(trimmed, " ") {
			continue
		}
		a := githubAnchor(trimmed)
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// TestDocLinks checks every relative link of README.md and docs/*.md: the
// file or directory it names exists, and its #anchor, if any, is a heading
// of that markdown file (GitHub's anchors).
func TestDocLinks(t *testing.T) {
	files := docFiles(t)
	texts := map[string]string{}
	read := func(rel string) (string, bool) {
		if s, ok := texts[rel]; ok {
			return s, true
		}
		data, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
		if err != nil {
			return "", false
		}
		texts[rel] = string(data)
		return texts[rel], true
	}
	links := 0
	for _, file := range files {
		md, ok := read(file)
		if !ok {
			t.Fatalf("cannot read %s", file)
		}
		for _, l := range prose(md) {
			for _, m := range mdLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(l.text, ""), -1) {
				target := m[2]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				links++
				path, anchor, _ := strings.Cut(target, "#")
				rel := file
				if path != "" {
					rel = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(file), path)))
					if rel == ".." || strings.HasPrefix(rel, "../") {
						t.Errorf("%s:%d: link %q leaves the repository", file, l.n, target)
						continue
					}
					if _, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(rel))); err != nil {
						t.Errorf("%s:%d: link %q: %s does not exist", file, l.n, target, rel)
						continue
					}
				}
				if anchor == "" {
					continue
				}
				if !strings.HasSuffix(rel, ".md") {
					t.Errorf("%s:%d: link %q: an anchor into %s, which is not markdown", file, l.n, target, rel)
					continue
				}
				doc, ok := read(rel)
				if !ok {
					t.Errorf("%s:%d: link %q: cannot read %s", file, l.n, target, rel)
					continue
				}
				if !anchors(doc)[anchor] {
					t.Errorf("%s:%d: link %q: %s has no heading with the anchor #%s", file, l.n, target, rel, anchor)
				}
			}
		}
	}
	if links < 20 {
		t.Errorf("only %d relative links found in %v", links, files)
	}
}

func TestGithubAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"lists diff: review a change before it goes live": "lists-diff-review-a-change-before-it-goes-live",
		"Offline matching: scan":                          "offline-matching-scan",
		"`flagstream_x` and [docs](docs/a.md)":            "flagstream_x-and-docs",
		"FlagstreamInstanceDown":                          "flagstreaminstancedown",
		"Why nothing is lost and `opened` stays unique":   "why-nothing-is-lost-and-opened-stays-unique",
	} {
		if got := githubAnchor(heading); got != want {
			t.Errorf("githubAnchor(%q) = %q, want %q", heading, got, want)
		}
	}
	got := anchors("# A\n\n## A\n\n```sh\n# not a heading\n```\n#nor this\n")
	for _, a := range []string{"a", "a-1"} {
		if !got[a] {
			t.Errorf("anchors: no %q in %v", a, got)
		}
	}
	if got["not-a-heading"] || got["nor-this"] || len(got) != 2 {
		t.Errorf("anchors = %v, want a and a-1", got)
	}
}
