package api

import "strconv"

// IntParam parses an optional integer query parameter within [lo, hi]; empty
// gives def.
func IntParam(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, strconv.ErrRange
	}
	return n, nil
}
