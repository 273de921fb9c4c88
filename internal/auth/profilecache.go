package auth

import (
	"sync"

	"github.com/trailpass/trailpass/internal/profile"
)

// profileCacheSize bounds the cached profiles: about 1 KiB each.
const profileCacheSize = 4096

// profileCache keeps GET /profile's user, privacy settings and links per
// access token (by its hash) between requests. It never decides alone: an
// entry is used only when the session, read again on every request, belongs
// to the same user and that user's data version is still the one the entry
// was read with. The store changes the version in the same transaction as
// anything the profile shows, whichever instance or command writes it, so a
// hit is what a fresh read would give. The zero value is ready to use.
type profileCache struct {
	mu sync.Mutex
	m  map[string]cachedProfile
}

type cachedProfile struct {
	version int64
	prof    *profile.Profile // never changed once cached; callers get copies
}

// get returns hash's entry if its user and version are still userID and
// version, and drops it otherwise.
func (c *profileCache) get(hash string, userID, version int64) (*profile.Profile, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok {
		return nil, false
	}
	if e.version != version || e.prof.User.ID != userID {
		delete(c.m, hash)
		return nil, false
	}
	return e.prof.Clone(), true
}

// has says whether hash has an entry, which makes the narrow session check
// worth a try before the whole read.
func (c *profileCache) has(hash string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.m[hash]
	return ok
}

// put keeps a copy of prof, read with version, for hash. When the cache is
// full an arbitrary entry makes room: a miss only costs the whole read.
func (c *profileCache) put(hash string, version int64, prof *profile.Profile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]cachedProfile)
	}
	if _, ok := c.m[hash]; !ok && len(c.m) >= profileCacheSize {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[hash] = cachedProfile{version: version, prof: prof.Clone()}
}

// drop forgets hash's entry.
func (c *profileCache) drop(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, hash)
}
