package blob

import "crypto/rand"

func randSuffix() string { return rand.Text()[:10] }
