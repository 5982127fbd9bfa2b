package prcomment

import "testing"

// BenchmarkRenderAndSplit renders a report of about 70,000 characters and
// splits it into comment parts, the work done once per pull request push.
func BenchmarkRenderAndSplit(b *testing.B) {
	r := bigResult(b)
	b.ReportAllocs()
	for b.Loop() {
		md := Markdown(r, testOptions)
		if len(Split(md, MaxCommentSize, "")) < 2 {
			b.Fatal("no split")
		}
	}
}
