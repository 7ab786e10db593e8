package review_test

import (
	"testing"

	"flagstream/pipeline/review"
)

// BenchmarkBuild builds a typical task (one hashtag match of one demand),
// of a tweet with a v1.1 or a v2 creation time.
func BenchmarkBuild(b *testing.B) {
	s := snapshotOf(b, typicalFiles)
	for _, tc := range []struct{ name, createdAt string }{
		{"v1_time", "Thu Feb 04 14:30:00 +0530 2021"},
		{"v2_time", "2021-02-04T09:00:00.000Z"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := typicalPost()
			p.Main().CreatedAt = []byte(tc.createdAt)
			hits := match(b, s, p)
			src := review.KafkaSource("tweets", 3, 1234)
			b.ReportAllocs()
			for b.Loop() {
				task := review.Build(s, p, hits, src, now)
				if len(task.Matches) != 1 {
					b.Fatal("not one match")
				}
			}
		})
	}
}
