package review_test

import (
	"fmt"
	"log"
	"time"

	"flagstream/internal/lists"
	"flagstream/matchers"
	"flagstream/pipeline/review"
)

func ExampleBuild() {
	demand, _, err := lists.ParseDemand("in-meity.yaml", []byte(`
id: IN-MEITY-2021-02-04
authority: Ministry of Electronics and Information Technology, Government of India
jurisdiction: IN
legal_basis: Information Technology Act 2000, section 69A
action: withhold
scope: user
priority: high
hashtags: ["#FarmerGenocide"]
`), nil)
	if err != nil {
		log.Fatal(err)
	}
	lists, _, err := matchers.Compile([]matchers.Demand{demand}, time.Date(2021, 2, 5, 0, 0, 0, 0, time.UTC))
	if err != nil {
		log.Fatal(err)
	}

	// A decoded tweet (see package decode) that spells the hashtag with an
	// underscore.
	post := &matchers.Post{Parts: []matchers.Part{{In: matchers.InTweet, Tweet: &matchers.Tweet{
		ID:           []byte("1357254297624866818"),
		CreatedAt:    []byte("Thu Feb 04 09:00:00 +0000 2021"),
		Text:         []byte("Stop the #Farmer_Genocide & <share>"),
		AuthorID:     []byte("1111"),
		AuthorHandle: []byte("someone"),
	}}}}
	var m matchers.Matcher
	hits := m.Match(lists, post, nil)

	task := review.Build(lists, post, hits, review.KafkaSource("tweets", 3, 1234),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	fmt.Println(task.Priority, task.Action, task.Jurisdictions)
	fmt.Println(task.Tweet.CreatedAt, task.Tweet.URL)
	for _, mt := range task.Matches {
		fmt.Printf("%s in %s: %s matches %s (%s) of %s\n", mt.Kind, mt.In, mt.Value, mt.Entry, mt.Tier, mt.DemandID)
	}
	line, err := task.Append(nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", line)
	// Output:
	// high withhold [IN]
	// 2021-02-04T09:00:00Z https://twitter.com/someone/status/1357254297624866818
	// hashtag in tweet: #Farmer_Genocide matches #FarmerGenocide (loose) of IN-MEITY-2021-02-04
	// {"schema":"flagstream.review_task/v1","task_id":"8ac22f9b054ddc87ef969a2bf1e61452","created_at":"2026-01-01T00:00:00Z","priority":"high","action":"withhold","jurisdictions":["IN"],"lists_version":"eafced2608ccb201","tweet":{"id":"1357254297624866818","created_at":"2021-02-04T09:00:00Z","lang":"","text":"Stop the #Farmer_Genocide & <share>","author":{"id":"1111","handle":"someone"},"url":"https://twitter.com/someone/status/1357254297624866818"},"matches":[{"kind":"hashtag","in":"tweet","value":"#Farmer_Genocide","entry":"#FarmerGenocide","tier":"loose","demand_id":"IN-MEITY-2021-02-04","jurisdiction":"IN","jurisdictions":["IN"],"authority":"Ministry of Electronics and Information Technology, Government of India","legal_basis":"Information Technology Act 2000, section 69A","action":"withhold","scope":"user","priority":"high"}],"source":{"topic":"tweets","partition":3,"offset":1234}}
}
