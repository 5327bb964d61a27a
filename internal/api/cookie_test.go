package api

import (
	"net/http/httptest"
	"testing"
)

func TestSameOrigin(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		want    bool
	}{
		{"origin same host", map[string]string{"Origin": "https://netkeep.test"}, true},
		{"origin other host", map[string]string{"Origin": "https://evil.test"}, false},
		{"origin other port", map[string]string{"Origin": "https://netkeep.test:8443"}, false},
		{"origin null", map[string]string{"Origin": "null"}, false},
		{"origin wins over same-origin fetch site", map[string]string{"Origin": "https://evil.test", "Sec-Fetch-Site": "same-origin"}, false},
		{"fetch site same-origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"fetch site same-site", map[string]string{"Sec-Fetch-Site": "same-site"}, false},
		{"referer same host", map[string]string{"Referer": "https://netkeep.test/psks"}, true},
		{"referer other host", map[string]string{"Referer": "https://evil.test/netkeep.test"}, false},
		{"nothing", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "https://netkeep.test/api/v1/x", nil)
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			if got := SameOrigin(r); got != c.want {
				t.Fatalf("SameOrigin = %v, want %v", got, c.want)
			}
		})
	}
}
