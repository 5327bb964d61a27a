package docker

// FeedHasUsage reports whether r's stats feed of container id has a usage
// to answer from (tests outside the package).
func FeedHasUsage(r *Runtime, id string) bool {
	r.feeds.mu.Lock()
	f := r.feeds.feeds[id]
	r.feeds.mu.Unlock()
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.usage != nil
}
