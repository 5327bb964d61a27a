package apikey

import (
	"strconv"

	"netkeep/internal/event"
)

// watch invalidates the cache from events until the subscription closes:
// an "apikey" event drops that key (a revoke or delete on another replica),
// a "user" event drops the keys that user created (deactivation, deletion,
// role or group change take effect), and a bus resync or dropped events
// clear everything, since changes may have been missed. Keys reloaded within
// settleTime of a "user" event or a clear are cached only that long.
func (s *Service) watch() {
	defer close(s.watching)
	var dropped uint64
	for ev := range s.sub.C() {
		now := s.now().UnixNano()
		switch ev.Topic {
		case event.TopicBus:
			s.cache.clear(now)
		case topicAPIKey:
			if ev.Action != "created" { // a new key cannot be cached stale anywhere
				s.cache.dropID(ev.ID)
			}
		case topicUser:
			if ev.Action == "created" { // a new user has no keys yet
				break
			}
			if id, err := strconv.ParseInt(ev.ID, 10, 64); err == nil {
				s.cache.dropOwner(id, now)
			} else {
				s.cache.clear(now)
			}
		}
		if d := s.sub.Dropped(); d != dropped {
			dropped = d
			s.cache.clear(now)
		}
	}
}
