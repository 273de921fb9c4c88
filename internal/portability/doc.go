// Package portability writes (and later reads) the export archive: Endurain's
// ZIP layout (data/*.json, activity_files/, activity_media/, user_images/,
// counts.json) plus trailpass's manifest.json.
package portability
