package lists

import (
	"strings"
	"testing"

	"flagstream/matchers"
)

const claimA = "The government has secretly added a tracking chemical to the new vaccine"

func TestParseListsTexts(t *testing.T) {
	demands, _, err := ParseLists(mapFS(map[string]string{
		"t.yaml": "id: T-1\njurisdiction: IN\nauthority: a\nlegal_basis: b\ntexts: [\"" + claimA + "\"]\ntexts_file: claims.txt\ntext_similarity: 0.8\n",
		"claims.txt": "# known claims\n\n" +
			"Breaking: the election commission confirmed two million ballots were printed with invisible ink\n" +
			"   We are # 1 and the water supply in the eastern suburbs has been poisoned by a foreign group   \n",
		"d.yaml": "id: D-2\njurisdiction: IN\ntexts: [\"" + claimA + "\"]\n",
	}), "lists")
	if err != nil {
		t.Fatalf("ParseLists: %v", err)
	}
	d := demands[1]
	if d.ID != "T-1" || d.TextSimilarity != 0.8 || d.TextThreshold() != 0.8 {
		t.Errorf("demand %s text similarity %v, want T-1 at 0.8", d.ID, d.TextSimilarity)
	}
	if demands[0].TextThreshold() != matchers.DefaultTextSimilarity {
		t.Errorf("default threshold %v, want %v", demands[0].TextThreshold(), matchers.DefaultTextSimilarity)
	}
	want := []matchers.Entry{
		{Kind: matchers.EntryText, Value: claimA, File: "lists/t.yaml", Line: 5},
		{Kind: matchers.EntryText, Value: "Breaking: the election commission confirmed two million ballots were printed with invisible ink", File: "lists/claims.txt", Line: 3},
		{Kind: matchers.EntryText, Value: "We are # 1 and the water supply in the eastern suburbs has been poisoned by a foreign group", File: "lists/claims.txt", Line: 4},
	}
	if d.Entries.Len() != len(want) {
		t.Fatalf("%d entries, want %d", d.Entries.Len(), len(want))
	}
	for i, w := range want {
		if got := d.Entries.At(i); got != w {
			t.Errorf("entry %d = %+v, want %+v", i, got, w)
		}
	}
}

func TestParseListsTextErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"short text", map[string]string{"t.yaml": "id: T-1\njurisdiction: IN\ntexts:\n  - farmer genocide is planned\n"},
			[]string{"lists/t.yaml:4: ", `text "farmer genocide is planned" has 4 words`, "at least 8", "belongs in phrases"}},
		{"short text in a file", map[string]string{"t.yaml": "id: T-1\njurisdiction: IN\ntexts_file: c.txt\n",
			"c.txt": "# claims\n" + claimA + "\nRT @x: stop the steal https://t.co/x\n"},
			[]string{"lists/c.txt:3: ", "has 3 words", "belongs in phrases"}},
		{"similarity too low", map[string]string{"t.yaml": "id: T-1\njurisdiction: IN\ntexts: [\"" + claimA + "\"]\ntext_similarity: 0.3\n"},
			[]string{"lists/t.yaml:4: ", "text_similarity 0.3 is outside 0.5-1.0"}},
		{"similarity above one", map[string]string{"t.yaml": "id: T-1\njurisdiction: IN\ntexts: [\"" + claimA + "\"]\ntext_similarity: 70\n"},
			[]string{"lists/t.yaml:4: ", "outside 0.5-1.0"}},
		{"similarity not a number", map[string]string{"t.yaml": "id: T-1\njurisdiction: IN\ntexts: [\"" + claimA + "\"]\ntext_similarity: high\n"},
			[]string{"lists/t.yaml:4: ", `text_similarity "high" is not a number`}},
		{"similarity as a list", map[string]string{"t.yaml": "id: T-1\njurisdiction: IN\ntexts: [\"" + claimA + "\"]\ntext_similarity: [0.7]\n"},
			[]string{"lists/t.yaml:4: ", "text_similarity must be a single value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseLists(mapFS(tt.files), "lists")
			if err == nil {
				t.Fatal("ParseLists succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			checkListErrors(t, err)
		})
	}
}
