package config

import (
	"strconv"
	"strings"
)

// suggest returns the candidate closest to s by edit distance, or "" if
// none is close enough to be a likely typo.
func suggest(s string, candidates []string) string {
	best, bestDist := "", -1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		d := editDistance(ls, strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist < 0 || bestDist > maxTypoDistance(s) {
		return ""
	}
	return best
}

// maxTypoDistance allows one edit for short words and up to three for long
// ones, so "pth" suggests "path" but "url" does not suggest "tls".
func maxTypoDistance(s string) int {
	return min(3, 1+len(s)/5)
}

// didYouMean formats a suggestion as ` (did you mean "x"?)`, or "".
func didYouMean(s string, candidates []string) string {
	if m := suggest(s, candidates); m != "" {
		return " (did you mean " + strconv.Quote(m) + "?)"
	}
	return ""
}

// editDistance is the Damerau-Levenshtein (optimal string alignment)
// distance between a and b, counting a swap of neighbours as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows are enough for transpositions.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// DidYouMean formats the candidate closest to s as ` (did you mean "x"?)`,
// or returns "" when none is close enough to be a likely typo: the
// suggestion config errors make, for commands that check names too.
func DidYouMean(s string, candidates []string) string {
	return didYouMean(s, candidates)
}
