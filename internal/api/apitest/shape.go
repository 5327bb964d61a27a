// Package apitest holds test helpers shared by the dialect packages' API
// tests. AssertShape checks a live response against a seed's documented
// example: each dialect keeps the examples of its seed, copied verbatim, as
// golden files under its testdata/seed/ folder.
package apitest

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// AssertShape fails tb unless got (a JSON document) has every field of the
// golden example in file, at the same place and of the same JSON kind
// (object, array, string, number, bool). A null in either document matches
// any kind: seeds show absent optional values as null and servers may too.
// Arrays are checked element by element against the example's first
// element, so an example of one item describes every item; an empty array
// in got passes. Extra fields in got are allowed: a dialect may add
// fields, never drop or rename documented ones.
func AssertShape(tb testing.TB, got []byte, file string) {
	tb.Helper()
	want, err := os.ReadFile(file)
	if err != nil {
		tb.Fatalf("reading golden %s: %v", file, err)
	}
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		tb.Fatalf("golden %s is not JSON: %v", file, err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		tb.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	var problems []string
	compare("$", w, g, &problems)
	if len(problems) > 0 {
		sort.Strings(problems)
		tb.Errorf("response does not match the documented shape of %s:\n  %s\nresponse: %s",
			file, strings.Join(problems, "\n  "), got)
	}
}

func compare(path string, want, got any, problems *[]string) {
	if want == nil || got == nil {
		return
	}
	if kindOf(want) != kindOf(got) {
		*problems = append(*problems, fmt.Sprintf("%s: is %s, documented as %s", path, kindOf(got), kindOf(want)))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				*problems = append(*problems, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			compare(path+"."+k, wv, gv, problems)
		}
	case []any:
		if len(w) == 0 {
			return
		}
		for i, gv := range got.([]any) {
			compare(fmt.Sprintf("%s[%d]", path, i), w[0], gv, problems)
		}
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}
