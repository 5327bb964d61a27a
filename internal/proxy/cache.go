package proxy

import (
	"bytes"
	"container/list"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"netkeep/internal/catalog"
)

// maxCachedBody is the largest response body the cache keeps; larger ones
// stream through untouched.
const maxCachedBody = 1 << 20

// cache is a shared (RFC 9111) in-memory cache for routes that turn
// caching on. It stores only what the upstream marks storable for a shared
// cache: a 200 answer to a GET with max-age or s-maxage, without private,
// no-store or no-cache, without Set-Cookie, varying at most on
// Accept-Encoding. It evicts least recently used entries past its size.
type cache struct {
	mu      sync.Mutex
	max     int64
	size    int64
	entries map[string]*list.Element
	lru     *list.List
	now     func() time.Time
}

type cached struct {
	key     string
	header  http.Header
	body    []byte
	stored  time.Time
	expires time.Time
}

func newCache(max int64) *cache {
	return &cache{max: max, entries: map[string]*list.Element{}, lru: list.New(), now: time.Now}
}

func cacheKey(r *http.Request, route *catalog.Route) string {
	return route.ID + "\x00" + route.UpdatedAt.String() + "\x00" + r.URL.RequestURI() + "\x00" + r.Header.Get("Accept-Encoding")
}

// cacheableRequest: a plain GET that does not ask to bypass caches.
func cacheableRequest(r *http.Request) bool {
	if r.Method != http.MethodGet || r.Header.Get("Range") != "" || isUpgrade(r) {
		return false
	}
	cc := r.Header.Get("Cache-Control")
	return !strings.Contains(cc, "no-cache") && !strings.Contains(cc, "no-store") && r.Header.Get("Pragma") != "no-cache"
}

// serve answers r from the cache and reports whether it did.
func (c *cache) serve(w http.ResponseWriter, r *http.Request, route *catalog.Route) bool {
	if !cacheableRequest(r) {
		return false
	}
	key := cacheKey(r, route)
	c.mu.Lock()
	el, ok := c.entries[key]
	var e *cached
	if ok {
		e = el.Value.(*cached)
		if c.now().After(e.expires) {
			c.remove(el)
			ok = false
		} else {
			c.lru.MoveToFront(el)
		}
	}
	c.mu.Unlock()
	if !ok {
		return false
	}
	h := w.Header()
	for k, v := range e.header {
		h[k] = v
	}
	h.Set("Age", strconv.Itoa(int(c.now().Sub(e.stored)/time.Second)))
	h.Set("X-Cache", "HIT")
	h.Set("Content-Length", strconv.Itoa(len(e.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(e.body)
	return true
}

// offer wraps resp's body so a storable answer is kept once it has been
// read to its end.
func (c *cache) offer(resp *http.Response) {
	req := resp.Request
	if req == nil || !cacheableRequest(req) || resp.StatusCode != http.StatusOK {
		return
	}
	ttl, ok := storableFor(resp, req.Header.Get("Authorization") != "" || req.Header.Get("Cookie") != "")
	if !ok || resp.ContentLength > maxCachedBody {
		return
	}
	key, _ := req.Context().Value(cacheKeyContext{}).(string)
	if key == "" {
		return
	}
	header := resp.Header.Clone()
	resp.Header.Set("X-Cache", "MISS")
	resp.Body = &teeBody{ReadCloser: resp.Body, done: func(body []byte) {
		now := c.now()
		c.put(&cached{key: key, header: header, body: body, stored: now, expires: now.Add(ttl)})
	}}
}

// cacheKeyContext carries the client request's cache key to the upstream
// answer (whose request is the rewritten one).
type cacheKeyContext struct{}

// withKey returns r carrying its cache key when r may be cached.
func withKey(r *http.Request, route *catalog.Route) *http.Request {
	if !cacheableRequest(r) {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), cacheKeyContext{}, cacheKey(r, route)))
}

// storableFor reads the response's Cache-Control for a shared cache and
// returns how long it may be kept.
func storableFor(resp *http.Response, withCredentials bool) (time.Duration, bool) {
	if resp.Header.Get("Set-Cookie") != "" {
		return 0, false
	}
	for _, v := range resp.Header.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" && !strings.EqualFold(f, "Accept-Encoding") {
				return 0, false
			}
		}
	}
	var maxAge, sMaxAge = -1, -1
	public := false
	for _, v := range resp.Header.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(strings.ToLower(d)), "=")
			switch name {
			case "private", "no-store", "no-cache":
				return 0, false
			case "public":
				public = true
			case "max-age":
				maxAge, _ = strconv.Atoi(strings.Trim(val, `"`))
			case "s-maxage":
				sMaxAge, _ = strconv.Atoi(strings.Trim(val, `"`))
			}
		}
	}
	if withCredentials && !public && sMaxAge < 0 {
		return 0, false // RFC 9111 §3.5: an authorised answer needs explicit permission
	}
	secs := maxAge
	if sMaxAge >= 0 {
		secs = sMaxAge
	}
	if secs <= 0 {
		return 0, false
	}
	return time.Duration(secs) * time.Second, true
}

func (c *cache) put(e *cached) {
	if e.key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok {
		c.remove(el)
	}
	c.entries[e.key] = c.lru.PushFront(e)
	c.size += int64(len(e.body))
	for c.size > c.max && c.lru.Len() > 0 {
		c.remove(c.lru.Back())
	}
}

func (c *cache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cached)
	delete(c.entries, e.key)
	c.size -= int64(len(e.body))
}

// teeBody copies what is read, up to maxCachedBody, and hands the whole
// body to done when it was read to its end.
type teeBody struct {
	io.ReadCloser
	buf      bytes.Buffer
	overflow bool
	done     func([]byte)
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if !t.overflow {
		if t.buf.Len()+n > maxCachedBody {
			t.overflow = true
			t.buf = bytes.Buffer{}
		} else {
			t.buf.Write(p[:n])
		}
	}
	if err == io.EOF && !t.overflow && t.done != nil {
		t.done(bytes.Clone(t.buf.Bytes()))
		t.done = nil
	}
	return n, err
}
