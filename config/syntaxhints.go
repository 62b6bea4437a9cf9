package config

import (
	"strings"
)

// The YAML library names where it noticed a syntax error, which is often
// not where the mistake is: an unexpected indentation is reported at the
// start of the enclosing sequence, an unquoted ${...} in a flow mapping at
// the start of the collection. syntaxHint looks at the text for the usual
// mistakes and returns the line and column to report and a hint; ok is
// false when it recognizes none.
func syntaxHint(msg string, data []byte, line int) (hintLine, col int, hint string, ok bool) {
	lines := strings.Split(string(data), "\n")
	switch {
	case strings.Contains(msg, "found character that cannot start any token"),
		strings.Contains(msg, "found a tab character"):
		for i := max(0, line-2); i < len(lines) && i <= line+1; i++ {
			if j := leadingTab(lines[i]); j >= 0 {
				return i + 1, j + 1, "a tab: YAML indents with spaces only", true
			}
		}
	case strings.Contains(msg, "did not find expected ',' or '}'"),
		strings.Contains(msg, "did not find expected ',' or ']'"):
		for i := max(0, line-1); i < len(lines) && i < line+50; i++ {
			if loc := flowReferencePattern.FindStringIndex(lines[i]); loc != nil {
				return i + 1, strings.Index(lines[i][loc[0]:], "${") + loc[0] + 1,
					`in {...} and [...], quote values holding ${...}: "${VAR}"`, true
			}
		}
	case strings.Contains(msg, "did not find expected '-' indicator"):
		if i, c, ok := misplacedInSequence(lines, line-1); ok {
			return i + 1, c + 1, "this line is indented as the list's items are, without a '-': indent it as the item's keys, or start a new item with '- '", true
		}
	case strings.Contains(msg, "did not find expected key"):
		if i, ok := strayIndent(lines); ok {
			return i + 1, indentOf(lines[i]) + 1, "this line's indentation matches no enclosing key: align it with the keys it belongs with", true
		}
	case strings.Contains(msg, "mapping values are not allowed in this context"):
		if i := line - 1; i > 0 && i < len(lines) {
			if p := previousContent(lines, i); p >= 0 && indentOf(lines[i]) > indentOf(lines[p]) && !strings.HasSuffix(strings.TrimSpace(lines[p]), ":") {
				return i + 1, indentOf(lines[i]) + 1, "this line is indented deeper than the key before it, which already has a value", true
			}
		}
	}
	return 0, 0, "", false
}

// leadingTab returns the index of a tab in line's indentation, or -1.
func leadingTab(line string) int {
	for i, r := range line {
		switch r {
		case '\t':
			return i
		case ' ', '-':
		default:
			return -1
		}
	}
	return -1
}

// misplacedInSequence finds, from line index from on, the first block
// sequence and the first line after it that is indented between its '-'
// and its items' keys without being an item: the real place of "did not
// find expected '-' indicator".
func misplacedInSequence(lines []string, from int) (idx, col int, ok bool) {
	seq := -1
	for i := max(0, from); i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		ind := indentOf(lines[i])
		if seq < 0 {
			if strings.HasPrefix(t, "- ") || t == "-" {
				seq = ind
			}
			continue
		}
		if ind < seq {
			return 0, 0, false
		}
		if ind < seq+2 && !strings.HasPrefix(t, "-") {
			return i, ind, true
		}
	}
	return 0, 0, false
}

// strayIndent returns the first line indented deeper than the line
// before it although that line does not open a block (end with ':' or
// be a list item), including a dedent to a column no enclosing line
// uses. Block scalars (| and >) are skipped.
func strayIndent(lines []string) (int, bool) {
	var stack []int
	prev := ""
	scalar := -1 // indentation of the key whose block scalar runs
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		ind := indentOf(l)
		if scalar >= 0 {
			if ind > scalar {
				continue
			}
			scalar = -1
		}
		for len(stack) > 0 && stack[len(stack)-1] > ind {
			stack = stack[:len(stack)-1]
		}
		switch top := -1; {
		case len(stack) > 0 && stack[len(stack)-1] == ind:
		default:
			if len(stack) > 0 {
				top = stack[len(stack)-1]
			}
			// A flow collection may continue on deeper lines.
			opens := prev == "" || strings.HasPrefix(prev, "-") || strings.ContainsAny(prev[len(prev)-1:], ":[{,")
			if ind > top && !opens {
				return i, true
			}
			stack = append(stack, ind)
		}
		if strings.HasSuffix(t, "|") || strings.HasSuffix(t, ">") || strings.HasSuffix(t, "|-") || strings.HasSuffix(t, ">-") {
			scalar = ind
		}
		prev = t
	}
	return 0, false
}

// previousContent returns the index of the last line before i that is
// neither blank nor a comment, or -1.
func previousContent(lines []string, i int) int {
	for j := i - 1; j >= 0; j-- {
		if t := strings.TrimSpace(lines[j]); t != "" && !strings.HasPrefix(t, "#") {
			return j
		}
	}
	return -1
}

// indentOf counts line's leading spaces.
func indentOf(line string) int {
	return len(line) - len(strings.TrimLeft(line, " "))
}
