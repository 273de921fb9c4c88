package portability

// Limits bounds what an import accepts. Every check runs before anything is
// written. The defaults fit an Endurain or trailpass archive of 10,000
// activities with one-second streams (about 1.5 GiB uncompressed) with room to
// spare; see the README for the figures.
type Limits struct {
	// MaxUploadBytes caps the archive file (the spooled upload).
	MaxUploadBytes int64
	// MaxEntries caps the number of ZIP entries.
	MaxEntries int
	// MaxEntryBytes caps one entry's real uncompressed size.
	MaxEntryBytes int64
	// MaxJSONBytes caps one JSON entry's uncompressed size.
	MaxJSONBytes int64
	// MaxTotalBytes caps the sum of all entries' real uncompressed sizes.
	MaxTotalBytes int64
	// MaxRatio caps an entry's uncompressed/compressed ratio; entries under
	// RatioFloorBytes are exempt (a small file cannot be a bomb).
	MaxRatio        int64
	RatioFloorBytes int64
	// MaxJSONDepth caps the nesting of JSON arrays and objects.
	MaxJSONDepth int
	// MaxJSONString caps one JSON string's length in bytes.
	MaxJSONString int
	// MaxRowBytes caps one row (one element of a data file's top-level array).
	MaxRowBytes int64
	// MaxActivities caps the number of activities (Endurain's high tier: 20,000).
	MaxActivities int
}

// DefaultLimits are the limits used when a field is zero.
var DefaultLimits = Limits{
	MaxUploadBytes:  4 << 30,
	MaxEntries:      100_000,
	MaxEntryBytes:   512 << 20,
	MaxJSONBytes:    512 << 20,
	MaxTotalBytes:   16 << 30,
	MaxRatio:        200,
	RatioFloorBytes: 1 << 20,
	MaxJSONDepth:    32,
	MaxJSONString:   1 << 20,
	MaxRowBytes:     64 << 20,
	MaxActivities:   50_000,
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	set64 := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set64(&l.MaxUploadBytes, d.MaxUploadBytes)
	set(&l.MaxEntries, d.MaxEntries)
	set64(&l.MaxEntryBytes, d.MaxEntryBytes)
	set64(&l.MaxJSONBytes, d.MaxJSONBytes)
	set64(&l.MaxTotalBytes, d.MaxTotalBytes)
	set64(&l.MaxRatio, d.MaxRatio)
	set64(&l.RatioFloorBytes, d.RatioFloorBytes)
	set(&l.MaxJSONDepth, d.MaxJSONDepth)
	set(&l.MaxJSONString, d.MaxJSONString)
	set64(&l.MaxRowBytes, d.MaxRowBytes)
	set(&l.MaxActivities, d.MaxActivities)
	return l
}

// UploadLimit is the largest archive the importer accepts, for the HTTP layer's
// body limit.
func (im *Importer) UploadLimit() int64 { return im.Limits.withDefaults().MaxUploadBytes }
