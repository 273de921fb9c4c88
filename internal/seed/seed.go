// Package seed generates realistic, deterministic fitness data for a user: the
// fixture behind `trailpass seed`, the export tests and the export benchmark.
package seed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/fitness"
)

// Config says how much to generate. The zero value of a field takes its default.
type Config struct {
	Activities int
	// Gear is the number of gear items (default 3), each with components.
	Gear int
	Seed uint64
	// MinDuration and MaxDuration bound each activity (default 5–15 min); one
	// sample per second per stream, so they decide the data volume.
	MinDuration, MaxDuration time.Duration
	// Years spreads the activities over this many years before End (default 3).
	Years int
	// End is the newest activity's day (default 2026-01-01 UTC), fixed so that
	// the same seed always gives the same data.
	End time.Time
	// MediaEvery gives every n-th activity a photo (default 10; negative: none).
	MediaEvery int
	// ActivitiesOnly skips gear, health, goals, notifications and the photo, to add
	// activities to a user seeded before.
	ActivitiesOnly bool
	// Batch is how many activities go into one transaction (default 50).
	Batch int
}

// Result counts what was created.
type Result struct {
	Activities, Laps, Sets, Streams, Steps, Media, Gear, Components, Weights, Goals, Notifications int
	// FileBytes is the size of the files written to the blob store.
	FileBytes int64
}

func (c *Config) defaults() {
	if c.Gear == 0 {
		c.Gear = 3
	}
	if c.MinDuration <= 0 {
		c.MinDuration = 5 * time.Minute
	}
	if c.MaxDuration < c.MinDuration {
		c.MaxDuration = max(c.MinDuration, 15*time.Minute)
	}
	if c.Years <= 0 {
		c.Years = 3
	}
	if c.End.IsZero() {
		c.End = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if c.MediaEvery == 0 {
		c.MediaEvery = 10
	}
	if c.Batch <= 0 {
		c.Batch = 50
	}
}

// Run generates cfg's data for userID into st and blobs. Gear nicknames and goals
// are unique per user, so run it once per user.
func Run(ctx context.Context, st fitness.Store, blobs blob.Store, userID int64, cfg Config) (Result, error) {
	cfg.defaults()
	g := &gen{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), userID: userID}
	var res Result
	if !cfg.ActivitiesOnly {
		if err := g.gearAndProfile(ctx, st, blobs, &res); err != nil {
			return res, err
		}
	}
	for done := 0; done < cfg.Activities; {
		n := min(cfg.Batch, cfg.Activities-done)
		bundles := make([]*fitness.ActivityBundle, n)
		files := make([][]byte, n)
		media := make([][][]byte, n)
		for i := range n {
			bundles[i], files[i], media[i] = g.activity(done + i)
		}
		if err := st.CreateActivities(ctx, userID, bundles); err != nil {
			return res, fmt.Errorf("seed activities: %w", err)
		}
		for i, b := range bundles {
			if b.Activity.FileKey != nil {
				nb, err := blobs.Put(ctx, *b.Activity.FileKey, bytes.NewReader(files[i]))
				if err != nil {
					return res, err
				}
				res.FileBytes += nb
			}
			for j, m := range b.Media {
				nb, err := blobs.Put(ctx, fitness.MediaKey(m.ActivityID, m.Name), bytes.NewReader(media[i][j]))
				if err != nil {
					return res, err
				}
				res.FileBytes += nb
			}
			res.Activities++
			res.Laps += len(b.Laps)
			res.Sets += len(b.Sets)
			res.Streams += len(b.Streams)
			res.Steps += len(b.Steps)
			res.Media += len(b.Media)
		}
		done += n
	}
	// Fresh statistics after a bulk load, so the export's queries get index plans
	// at once.
	if a, ok := st.(interface{ AnalyzeFitness(context.Context) error }); ok && res.Activities >= 100 {
		if err := a.AnalyzeFitness(ctx); err != nil {
			return res, err
		}
	}
	return res, nil
}

type gen struct {
	cfg    Config
	rng    *rand.Rand
	userID int64
	bikes  []int64
	shoes  []int64
}

func ptr[T any](v T) *T { return &v }

// dec formats a NUMERIC(20,10) value as PostgreSQL returns it.
func dec(v float64) *string { return ptr(strconv.FormatFloat(v, 'f', 10, 64)) }

// dec2 formats a NUMERIC(x,2) value.
func dec2(v float64) *string { return ptr(strconv.FormatFloat(v, 'f', 2, 64)) }

var bikeParts = []string{"chain", "cassette", "front_tire", "rear_tire", "brake_pads"}
var shoeParts = []string{"insoles", "laces"}

func (g *gen) gearAndProfile(ctx context.Context, st fitness.Store, blobs blob.Store, res *Result) error {
	start := g.cfg.End.AddDate(-g.cfg.Years, 0, 0)
	for i := range g.cfg.Gear {
		bike := i%2 == 0
		gr := &fitness.Gear{Nickname: fmt.Sprintf("Shoes %d", i+1), GearType: 2, Brand: ptr("Asics"),
			Model: ptr("Novablast"), CreatedAt: start.Add(time.Duration(i) * 24 * time.Hour), Active: i < 2,
			InitialKms: *dec2(float64(g.rng.IntN(200))), PurchaseValue: dec2(90 + float64(g.rng.IntN(100)))}
		parts := shoeParts
		if bike {
			gr.Nickname, gr.GearType, gr.Brand, gr.Model = fmt.Sprintf("Bike %d", i+1), 1, ptr("Canyon"), ptr("Endurace")
			parts = bikeParts
		}
		var comps []*fitness.GearComponent
		for j, p := range parts {
			c := &fitness.GearComponent{Type: p, Brand: "Shimano", Model: "105", Active: j%3 != 2,
				PurchaseDate: gr.CreatedAt, ExpectedKms: ptr(2000 + 1000*j), PurchaseValue: dec2(20 + float64(j*5))}
			if !c.Active {
				c.RetiredDate = ptr(gr.CreatedAt.AddDate(0, 6, 0))
			}
			comps = append(comps, c)
		}
		if err := st.CreateGear(ctx, g.userID, gr, comps); err != nil {
			return fmt.Errorf("seed gear: %w", err)
		}
		if bike {
			g.bikes = append(g.bikes, gr.ID)
		} else {
			g.shoes = append(g.shoes, gr.ID)
		}
		res.Gear++
		res.Components += len(comps)
	}
	dg := fitness.DefaultGear{}
	if len(g.shoes) > 0 {
		dg["run"], dg["trail_run"] = g.shoes[0], g.shoes[0]
	}
	if len(g.bikes) > 0 {
		dg["ride"], dg["gravel_ride"] = g.bikes[0], g.bikes[0]
	}
	if err := st.SetDefaultGear(ctx, g.userID, dg); err != nil {
		return err
	}
	var weights []*fitness.HealthWeight
	w := 72.0
	for d := range 365 {
		w += (g.rng.Float64() - 0.5) * 0.3
		hw := &fitness.HealthWeight{Date: g.cfg.End.AddDate(0, 0, d-365).Format(time.DateOnly),
			Weight: *dec2(w), BMI: dec2(w / (1.78 * 1.78)), Source: ptr("manual")}
		if d%7 == 0 {
			hw.BodyFat, hw.BodyWater, hw.MuscleMass = dec2(18+g.rng.Float64()), dec2(55+g.rng.Float64()), dec2(40)
			hw.PhysiqueRating, hw.MetabolicAge, hw.BoneMass, hw.VisceralFat = ptr(5), ptr(30), dec2(3.1), dec2(6)
		}
		weights = append(weights, hw)
	}
	if err := st.CreateHealthWeights(ctx, g.userID, weights); err != nil {
		return err
	}
	res.Weights = len(weights)
	if err := st.SetHealthTargets(ctx, g.userID, fitness.HealthTargets{Weight: dec2(70), Steps: ptr(10000), Sleep: ptr(28800)}); err != nil {
		return err
	}
	goals := []*fitness.Goal{
		{Interval: "weekly", ActivityType: 1, GoalType: 3, GoalDistance: ptr(30000)},
		{Interval: "monthly", ActivityType: 2, GoalType: 5, GoalDuration: ptr(36000)},
		{Interval: "yearly", ActivityType: 1, GoalType: 2, GoalActivitiesNumber: ptr(150)},
	}
	if err := st.CreateGoals(ctx, g.userID, goals); err != nil {
		return err
	}
	res.Goals = len(goals)
	var ns []*fitness.Notification
	for i := range 5 {
		ns = append(ns, &fitness.Notification{Type: 1 + i%3, Read: i < 3,
			Options:   json.RawMessage(fmt.Sprintf(`{"activity_id": %d, "message": "Nouvelle activité"}`, i+1)),
			CreatedAt: g.cfg.End.Add(-time.Duration(i) * time.Hour)})
	}
	if err := st.CreateNotifications(ctx, g.userID, ns); err != nil {
		return err
	}
	res.Notifications = len(ns)
	titles := []*fitness.ExerciseTitle{
		{ExerciseCategory: 0, ExerciseName: 0, WktStepName: "Bench press"},
		{ExerciseCategory: 28, ExerciseName: 1, WktStepName: "Squat"},
		{ExerciseCategory: 17, ExerciseName: 4, WktStepName: "Lunge"},
	}
	if err := st.CreateExerciseTitles(ctx, g.userID, titles); err != nil {
		return err
	}
	img, err := PNG(g.rng, 32, 32)
	if err != nil {
		return err
	}
	n, err := blobs.Put(ctx, "user_images/"+strconv.FormatInt(g.userID, 10)+".png", bytes.NewReader(img))
	res.FileBytes += n
	return err
}

// sport describes how one activity type moves.
type sport struct {
	typ        int
	name       string
	speed      float64 // m/s
	power      bool
	stationary bool
	strength   bool
}

var sports = []sport{
	{typ: 1, name: "Morning run", speed: 3.1},
	{typ: 2, name: "Trail run", speed: 2.4},
	{typ: 4, name: "Road ride", speed: 7.5, power: true},
	{typ: 5, name: "Gravel ride", speed: 6.2, power: true},
	{typ: 11, name: "Walk", speed: 1.4},
	{typ: 12, name: "Hike", speed: 1.1},
	{typ: 19, name: "Strength training", stationary: true, strength: true},
}

// activity generates activity i with its parts, its GPX file and media.
func (g *gen) activity(i int) (*fitness.ActivityBundle, []byte, [][]byte) {
	r := g.rng
	sp := sports[r.IntN(len(sports))]
	span := g.cfg.End.Sub(g.cfg.End.AddDate(-g.cfg.Years, 0, 0))
	day := g.cfg.End.AddDate(-g.cfg.Years, 0, 0).Add(span * time.Duration(i) / time.Duration(max(1, g.cfg.Activities)))
	start := day.Truncate(24 * time.Hour).Add(time.Duration(6+r.IntN(13))*time.Hour + time.Duration(r.IntN(3600))*time.Second)
	dur := g.cfg.MinDuration + time.Duration(r.Int64N(int64(g.cfg.MaxDuration-g.cfg.MinDuration)+1))
	secs := int(dur / time.Second)
	tz := []string{"Europe/Lisbon", "Europe/Madrid", "UTC"}[r.IntN(3)]

	// One sample per second: a random walk around Lisbon, heading drifting.
	lat, lon := 38.70+r.Float64()*0.05, -9.20+r.Float64()*0.05
	ele, heading := 50+r.Float64()*100, r.Float64()*2*math.Pi
	var hr, pw, cad, el, vel, ll, gpx bytes.Buffer
	for _, b := range []*bytes.Buffer{&hr, &pw, &cad, &el, &vel, &ll} {
		b.WriteByte('[')
	}
	gpx.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<gpx version="1.1" creator="trailpass seed" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">` +
		"\n<metadata><time>" + start.Format(time.RFC3339) + "</time></metadata>\n<trk><name>" + sp.name + "</name><trkseg>\n")
	var dist, sumHR, sumPw, sumCad, maxV, gain, loss float64
	maxHR, maxPw, maxCad := 0, 0, 0
	for s := range secs {
		t := start.Add(time.Duration(s) * time.Second)
		ts := t.Format("2006-01-02T15:04:05")
		v := 0.0
		if !sp.stationary {
			v = math.Max(0, sp.speed*(1+0.15*math.Sin(float64(s)/97))+(r.Float64()-0.5)*0.4)
		}
		heading += (r.Float64() - 0.5) * 0.1
		lat += v * math.Cos(heading) / 111320
		lon += v * math.Sin(heading) / (111320 * math.Cos(lat*math.Pi/180))
		de := (r.Float64() - 0.5) * 0.6
		ele += de
		if de > 0 {
			gain += de
		} else {
			loss -= de
		}
		h := 100 + int(60*(1-math.Exp(-float64(s)/300))) + r.IntN(6)
		c := 0
		if !sp.stationary {
			c = 80 + r.IntN(10)
		}
		p := 0
		if sp.power {
			p = 150 + r.IntN(120)
		}
		dist += v
		sumHR += float64(h)
		sumPw += float64(p)
		sumCad += float64(c)
		maxHR, maxPw, maxCad, maxV = max(maxHR, h), max(maxPw, p), max(maxCad, c), math.Max(maxV, v)
		sep := ""
		if s > 0 {
			sep = ", "
		}
		fmt.Fprintf(&hr, `%s{"time": "%s", "hr": %d}`, sep, ts, h)
		fmt.Fprintf(&cad, `%s{"time": "%s", "cad": %d}`, sep, ts, c)
		fmt.Fprintf(&el, `%s{"time": "%s", "ele": %.1f}`, sep, ts, ele)
		fmt.Fprintf(&vel, `%s{"time": "%s", "vel": %.3f}`, sep, ts, v)
		fmt.Fprintf(&ll, `%s{"time": "%s", "lat": %.7f, "lon": %.7f}`, sep, ts, lat, lon)
		if sp.power {
			fmt.Fprintf(&pw, `%s{"time": "%s", "power": %d}`, sep, ts, p)
		}
		fmt.Fprintf(&gpx, `<trkpt lat="%.7f" lon="%.7f"><ele>%.1f</ele><time>%sZ</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>%d</gpxtpx:hr><gpxtpx:cad>%d</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions></trkpt>`+"\n",
			lat, lon, ele, t.UTC().Format("2006-01-02T15:04:05"), h, c)
	}
	gpx.WriteString("</trkseg></trk></gpx>\n")
	for _, b := range []*bytes.Buffer{&hr, &pw, &cad, &el, &vel, &ll} {
		b.WriteByte(']')
	}
	n := float64(max(1, secs))
	end := start.Add(dur)
	a := fitness.Activity{
		Name: ptr(sp.name), Description: ptr("Seeded activity " + strconv.Itoa(i+1)), Distance: int(dist),
		ActivityType: sp.typ, StartTime: start, EndTime: end, Timezone: ptr(tz),
		TotalElapsedTime: *dec(float64(secs)), TotalTimerTime: *dec(float64(secs)), City: ptr("Lisboa"),
		Country: ptr("Portugal"), CreatedAt: end.Add(10 * time.Minute), ElevationGain: ptr(int(gain)),
		ElevationLoss: ptr(int(loss)), AverageHR: ptr(int(sumHR / n)), MaxHR: ptr(maxHR),
		Calories: ptr(secs / 6), Visibility: r.IntN(3), TrackerManufacturer: ptr("garmin"),
		TrackerModel: ptr("fr265"), ImportInfo: json.RawMessage(`{"source": "seed", "seed": ` + strconv.FormatUint(g.cfg.Seed, 10) + `}`),
		WorkoutFeeling: ptr(50 + r.IntN(50)), WorkoutRPE: ptr(10 * (1 + r.IntN(10))),
	}
	b := &fitness.ActivityBundle{}
	if !sp.stationary {
		avg := dist / n
		a.AverageSpeed, a.MaxSpeed = dec(avg), dec(maxV)
		if avg > 0 {
			a.Pace = dec(1 / avg)
		}
		a.AverageCad, a.MaxCad = ptr(int(sumCad/n)), ptr(maxCad)
		b.FileExt = "gpx"
		b.Streams = []fitness.Stream{{StreamType: fitness.StreamHR, Waypoints: hr.Bytes()},
			{StreamType: fitness.StreamCadence, Waypoints: cad.Bytes()},
			{StreamType: fitness.StreamElevation, Waypoints: el.Bytes()},
			{StreamType: fitness.StreamSpeed, Waypoints: vel.Bytes()},
			{StreamType: fitness.StreamLatLon, Waypoints: ll.Bytes()}}
		if sp.power {
			a.AveragePower, a.MaxPower, a.NormalizedPower = ptr(int(sumPw/n)), ptr(maxPw), ptr(int(sumPw/n)+8)
			b.Streams = append(b.Streams, fitness.Stream{StreamType: fitness.StreamPower, Waypoints: pw.Bytes()})
			if len(g.bikes) > 0 {
				a.GearID = ptr(g.bikes[i%len(g.bikes)])
			}
		} else if len(g.shoes) > 0 {
			a.GearID = ptr(g.shoes[i%len(g.shoes)])
		}
		// A lap every 5 minutes, like an auto-lap.
		for ls := 0; ls < secs; ls += 300 {
			le := min(secs, ls+300)
			d := dist * float64(le-ls) / n
			b.Laps = append(b.Laps, fitness.Lap{StartTime: start.Add(time.Duration(ls) * time.Second),
				TotalElapsedTime: dec(float64(le - ls)), TotalTimerTime: dec(float64(le - ls)), TotalDistance: dec(d),
				AvgHeartRate: ptr(int(sumHR / n)), MaxHeartRate: ptr(maxHR), AvgCadence: ptr(int(sumCad / n)),
				Intensity: ptr("active"), LapTrigger: ptr("time"), Sport: ptr("running"),
				EnhancedAvgSpeed: dec(d / float64(max(1, le-ls))), StartPositionLat: dec(lat), StartPositionLong: dec(lon)})
		}
	} else {
		b.Streams = []fitness.Stream{{StreamType: fitness.StreamHR, Waypoints: hr.Bytes()}}
		for k := range 4 {
			b.Sets = append(b.Sets, fitness.Set{Duration: *dec(float64(30 + r.IntN(30))), Repetitions: ptr(8 + r.IntN(5)),
				Weight: dec(float64(20 + 5*r.IntN(10))), SetType: []string{"active", "rest"}[k%2],
				StartTime: start.Add(time.Duration(k*90) * time.Second), Category: ptr(28), CategorySubtype: ptr(k)})
		}
		for k := range 3 {
			b.Steps = append(b.Steps, fitness.WorkoutStep{MessageIndex: k, DurationType: "reps",
				DurationValue: dec(10), TargetType: ptr("open"), Intensity: ptr("active"),
				ExerciseCategory: ptr(28), ExerciseName: ptr(k), ExerciseWeight: dec(40), WeightDisplayUnit: ptr("kilogram")})
		}
	}
	b.Activity = a
	var media [][]byte
	if g.cfg.MediaEvery > 0 && i%g.cfg.MediaEvery == 0 {
		img, err := JPEG(r, 64, 48)
		if err == nil {
			b.Media = append(b.Media, fitness.Media{Name: "photo.jpg", MediaType: 1})
			media = append(media, img)
		}
	}
	return b, gpx.Bytes(), media
}
