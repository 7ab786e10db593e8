package matchers_test

import (
	"fmt"
	"log"
	"time"

	"flagstream/internal/lists"
	"flagstream/matchers"
)

func Example() {
	demandFile := []byte(`id: IN-MEITY-2021-02-04
authority: Ministry of Electronics and Information Technology
jurisdiction: IN
legal_basis: Information Technology Act 2000, section 69A
action: withhold
handles: ["@fict_farmer_01"]
hashtags: ["#FarmerGenocide"]
domains: [example.org]
`)
	demand, _, err := lists.ParseDemand("in-meity.yaml", demandFile, nil)
	if err != nil {
		log.Fatal(err)
	}
	snapshot, _, err := matchers.Compile([]matchers.Demand{demand}, time.Date(2021, 2, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		log.Fatal(err)
	}

	// A tweet that spells the hashtag with an underscore and the mention
	// with a zero-width space and fullwidth letters.
	tweet := &matchers.Tweet{
		AuthorHandle: []byte("someone"),
		Text:         []byte("#Farmer_Genocide ＠ｆｉｃｔ\u200b_farmer_01 https://news.example.org/x"),
	}
	var m matchers.Matcher // one per worker; reuse it
	for _, h := range m.Match(snapshot, &matchers.Post{Parts: []matchers.Part{{In: matchers.InTweet, Tweet: tweet}}}, nil) {
		d := snapshot.Demands()[snapshot.Demand(h.Entry)]
		fmt.Printf("%s %s: %q matches %q (%s) of %s [%s]\n",
			h.Kind, h.In, h.Value, snapshot.EntryValue(h.Entry), h.Tier, d.ID, d.JurisdictionList())
	}
	// Output:
	// hashtag tweet: "#Farmer_Genocide" matches "#FarmerGenocide" (loose) of IN-MEITY-2021-02-04 [IN]
	// mention tweet: "＠ｆｉｃｔ\u200b_farmer_01" matches "@fict_farmer_01" (exact) of IN-MEITY-2021-02-04 [IN]
	// domain tweet: "https://news.example.org/x" matches "example.org" (exact) of IN-MEITY-2021-02-04 [IN]
}
