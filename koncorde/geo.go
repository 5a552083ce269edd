package koncorde

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode"
)

type coord struct{ lat, lon float64 }

// geoLocationToCamelCase renames lat_lon, top_left and bottom_right to their
// camelCase form (koncorde:lib/util/geoLocationToCamelCase.js). Non-objects
// give an empty object.
func geoLocationToCamelCase(v *jvalue) *jvalue {
	out := &jvalue{kind: jObject}
	if !v.isObject() {
		return out
	}
	for i, k := range v.keys {
		switch k {
		case "lat_lon":
			k = "latLon"
		case "top_left":
			k = "topLeft"
		case "bottom_right":
			k = "bottomRight"
		}
		out.set(k, v.vals[i])
	}
	return out
}

var geohashRe = regexp.MustCompile(`^[0-9a-z]{4,}$`)

// convertGeopoint restates koncorde:lib/util/convertGeopoint.js: "lat, lon",
// a geohash, [lat, lon], {lat, lon}, {latLon|lat_lon: [lat, lon] | {lat, lon} | "lat, lon"}.
func convertGeopoint(p *jvalue) (coord, bool) {
	if !p.truthy() || (p.kind != jString && p.kind != jObject && p.kind != jArray) {
		return coord{}, false
	}
	if p.kind == jString {
		return geopointFromString(p.s)
	}
	if p.kind == jArray {
		if len(p.arr) == 2 {
			return toCoordinate(p.arr[0], p.arr[1])
		}
		return coord{}, false
	}
	c := geoLocationToCamelCase(p)
	if lat, lon := c.get("lat"), c.get("lon"); lat != nil && lon != nil {
		return toCoordinate(lat, lon)
	}
	if ll := c.get("latLon"); ll != nil {
		switch ll.kind {
		case jArray:
			if len(ll.arr) == 2 {
				return toCoordinate(ll.arr[0], ll.arr[1])
			}
			return coord{}, false
		case jObject:
			if lat, lon := ll.get("lat"), ll.get("lon"); lat != nil && lon != nil {
				return toCoordinate(lat, lon)
			}
		case jString:
			return geopointFromString(ll.s)
		}
	}
	return coord{}, false
}

func geopointFromString(s string) (coord, bool) {
	parts := strings.Split(s, ",")
	if len(parts) == 2 {
		return toCoordinate(jstr(parts[0]), jstr(parts[1]))
	}
	if geohashRe.MatchString(s) {
		lat, lon := decodeGeohash(s)
		return coord{lat, lon}, true
	}
	return coord{}, false
}

func toCoordinate(lat, lon *jvalue) (coord, bool) {
	a, b := jsParseFloatValue(lat), jsParseFloatValue(lon)
	if math.IsNaN(a) || math.IsNaN(b) {
		return coord{}, false
	}
	return coord{a, b}, true
}

const geohashBase32 = "0123456789bcdefghjkmnpqrstuvwxyz"

// decodeGeohash returns the centre of a geohash cell, as ngeohash.decode.
// Characters outside the geohash alphabet count as 0, as in ngeohash.
func decodeGeohash(h string) (lat, lon float64) {
	minLat, maxLat, minLon, maxLon := -90.0, 90.0, -180.0, 180.0
	isLon := true
	for i := 0; i < len(h); i++ {
		v := strings.IndexByte(geohashBase32, h[i])
		if v < 0 {
			v = 0
		}
		for bits := 4; bits >= 0; bits-- {
			bit := (v >> bits) & 1
			if isLon {
				mid := (maxLon + minLon) / 2
				if bit == 1 {
					minLon = mid
				} else {
					maxLon = mid
				}
			} else {
				mid := (maxLat + minLat) / 2
				if bit == 1 {
					minLat = mid
				} else {
					maxLat = mid
				}
			}
			isLon = !isLon
		}
	}
	return (minLat + maxLat) / 2, (minLon + maxLon) / 2
}

// Distance units understood by node-units' "distance" group (the library
// Koncorde uses), in metres.
var distanceUnits = map[string]float64{
	"meter": 1, "m": 1,
	"feet": 0.3048, "ft": 0.3048,
	"inch": 0.0254, "in": 0.0254,
	"yard": 0.9144, "yd": 0.9144,
	"mile": 1609.34, "mi": 1609.34,
}

type prefix struct {
	p string
	m float64
}

// node-units prefixes, in its lookup order (only the lower-case ones can
// apply: Koncorde lower-cases the distance first).
var shortPrefixes = []prefix{
	{"da", 10}, {"mu", 1e-6}, {"m", 1e-3}, {"h", 100}, {"k", 1000},
	{"n", 1e-9}, {"p", 1e-12}, {"c", 1e-2}, {"d", 1e-1}, {"f", 1e-15},
	{"a", 1e-18}, {"z", 1e-21}, {"y", 1e-24},
}

var longPrefixes = []prefix{
	{"milli", 1e-3}, {"micro", 1e-6}, {"nano", 1e-9}, {"pico", 1e-12},
	{"centi", 1e-2}, {"deci", 1e-1}, {"femto", 1e-15}, {"atto", 1e-18},
	{"zepto", 1e-21}, {"yocto", 1e-24}, {"deka", 10}, {"hecto", 100},
	{"kilo", 1000}, {"mega", 1e6}, {"giga", 1e9}, {"tera", 1e12},
	{"peta", 1e15}, {"exa", 1e18}, {"zeta", 1e21}, {"yotta", 1e24},
}

var distanceRe = regexp.MustCompile(`^(.*?)\s([a-zA-Z]+)$`)
var digitLetterRe = regexp.MustCompile(`([0-9])([a-z])`)

// convertDistance restates koncorde:lib/util/convertDistance.js for distance
// units: "1km", "3280.84 ft", "1 093,6 yd". Other unit groups of node-units
// (time, mass...) are rejected.
func convertDistance(distance string) (float64, error) {
	fail := func() (float64, error) {
		return 0, &DSLError{Message: fmt.Sprintf("unable to parse distance value %q", distance)}
	}
	cleaned := strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) || r == '\ufeff' {
			return -1
		}
		if r == ',' {
			return '.'
		}
		return r
	}, distance)
	cleaned = strings.ToLower(cleaned)
	if loc := digitLetterRe.FindStringIndex(cleaned); loc != nil {
		cleaned = cleaned[:loc[0]+1] + " " + cleaned[loc[0]+1:]
	}
	m := distanceRe.FindStringSubmatch(cleaned)
	if m == nil {
		return fail()
	}
	value := jsParseFloat(m[1])
	unit := m[2]
	variations := []string{unit}
	if len(unit) != 2 {
		for _, suffix := range []string{"s", "es", "ies"} {
			if strings.HasSuffix(unit, suffix) {
				variations = append(variations, strings.TrimSuffix(unit, suffix))
			}
		}
	}
	found := false
	var base, mod float64
	for _, v := range variations {
		if b, ok := distanceUnits[v]; ok {
			found, base, mod = true, b, 1
			continue
		}
		prefixes := shortPrefixes
		if len(v) > 3 {
			prefixes = longPrefixes
		}
		for _, p := range prefixes {
			if strings.HasPrefix(v, p.p) {
				if b, ok := distanceUnits[v[len(p.p):]]; ok {
					found, base, mod = true, b, p.m
				}
				break
			}
		}
	}
	if !found || math.IsNaN(value) {
		return fail()
	}
	return value * mod * base, nil
}

// Geo shapes, with the semantics of boost-geospatial-index (used by
// Koncorde): an envelope check first, then the exact test. Distances are
// geodesic on the WGS84 ellipsoid (Boost.Geometry's default Andoyer formula).

type shapeKind uint8

const (
	shapeBox shapeKind = iota
	shapeCircle
	shapeAnnulus
	shapePolygon
)

type geoShape struct {
	kind                           shapeKind
	minLat, maxLat, minLon, maxLon float64 // envelope
	lat, lon, inner, outer         float64
	poly                           []coord
}

const boostEarthRadius = 6378137.0

func envelopeFromCircle(s *geoShape, lat, lon, radius float64) {
	dlat := radius / boostEarthRadius
	dlon := radius / (boostEarthRadius * math.Cos(math.Pi*lat/180))
	dlat *= 180 / math.Pi
	dlon *= 180 / math.Pi
	s.minLat, s.maxLat = lat-dlat, lat+dlat
	s.minLon, s.maxLon = lon-dlon, lon+dlon
}

func (s *geoShape) covers(p coord) bool {
	if p.lat < s.minLat || p.lat > s.maxLat || p.lon < s.minLon || p.lon > s.maxLon {
		return false
	}
	switch s.kind {
	case shapeBox:
		return true
	case shapeCircle:
		return andoyerDistance(s.lat, s.lon, p.lat, p.lon) <= s.outer
	case shapeAnnulus:
		d := andoyerDistance(s.lat, s.lon, p.lat, p.lon)
		return d <= s.outer && d >= s.inner
	case shapePolygon:
		return pointInPolygon(s.poly, p)
	}
	return false
}

// andoyerDistance is Boost.Geometry's formula::andoyer_inverse distance on
// the WGS84 spheroid, in metres.
func andoyerDistance(lat1, lon1, lat2, lon2 float64) float64 {
	const a = 6378137.0
	const f = 1 / 298.257223563
	if lat1 == lat2 && lon1 == lon2 {
		return 0
	}
	rad := math.Pi / 180
	la1, la2 := lat1*rad, lat2*rad
	dlon := (lon2 - lon1) * rad
	sinLat1, cosLat1 := math.Sincos(la1)
	sinLat2, cosLat2 := math.Sincos(la2)
	cosD := sinLat1*sinLat2 + cosLat1*cosLat2*math.Cos(dlon)
	if cosD < -1 {
		cosD = -1
	} else if cosD > 1 {
		cosD = 1
	}
	d := math.Acos(cosD)
	sinD := math.Sin(d)
	K := (sinLat1 - sinLat2) * (sinLat1 - sinLat2)
	L := (sinLat1 + sinLat2) * (sinLat1 + sinLat2)
	threeSinD := 3 * sinD
	oneMinusCosD := 1 - cosD
	onePlusCosD := 1 + cosD
	H, G := 0.0, 0.0
	if oneMinusCosD != 0 {
		H = (d + threeSinD) / oneMinusCosD
	}
	if onePlusCosD != 0 {
		G = (d - threeSinD) / onePlusCosD
	}
	dd := -(f / 4) * (H*K + G*L)
	return a * (d + dd)
}

// pointInPolygon is a planar (lat, lon) point-in-polygon test; points on the
// boundary are inside (covered_by). The polygon is implicitly closed.
func pointInPolygon(poly []coord, p coord) bool {
	inside := false
	n := len(poly)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if onSegment(a, b, p) {
			return true
		}
		if (a.lat > p.lat) != (b.lat > p.lat) {
			x := (b.lon-a.lon)*(p.lat-a.lat)/(b.lat-a.lat) + a.lon
			if p.lon < x {
				inside = !inside
			}
		}
	}
	return inside
}

func onSegment(a, b, p coord) bool {
	cross := (b.lon-a.lon)*(p.lat-a.lat) - (b.lat-a.lat)*(p.lon-a.lon)
	if math.Abs(cross) > 1e-12 {
		return false
	}
	return p.lon >= math.Min(a.lon, b.lon) && p.lon <= math.Max(a.lon, b.lon) &&
		p.lat >= math.Min(a.lat, b.lat) && p.lat <= math.Max(a.lat, b.lat)
}

// shapeFromCondition builds a shape from a standardized geospatial value:
// {geoBoundingBox|geoDistance|geoDistanceRange|geoPolygon: {field: shape}}.
func shapeFromCondition(geotype string, v *jvalue) (*geoShape, error) {
	num := func(k string) (float64, error) {
		x := v.get(k)
		if x == nil || x.kind != jNumber {
			return 0, fmt.Errorf("koncorde: geospatial %s: %q must be a number", geotype, k)
		}
		return x.n, nil
	}
	s := &geoShape{}
	var err error
	get := func(dst *float64, k string) {
		if err == nil {
			*dst, err = num(k)
		}
	}
	switch geotype {
	case "geoBoundingBox":
		s.kind = shapeBox
		get(&s.minLat, "bottom")
		get(&s.maxLat, "top")
		get(&s.minLon, "left")
		get(&s.maxLon, "right")
	case "geoDistance":
		s.kind = shapeCircle
		get(&s.lat, "lat")
		get(&s.lon, "lon")
		get(&s.outer, "distance")
		envelopeFromCircle(s, s.lat, s.lon, s.outer)
	case "geoDistanceRange":
		s.kind = shapeAnnulus
		get(&s.lat, "lat")
		get(&s.lon, "lon")
		get(&s.inner, "from")
		get(&s.outer, "to")
		envelopeFromCircle(s, s.lat, s.lon, s.outer)
	case "geoPolygon":
		s.kind = shapePolygon
		if !v.isArray() || len(v.arr) < 3 {
			return nil, fmt.Errorf("koncorde: geoPolygon: expected at least 3 points")
		}
		s.minLat, s.maxLat, s.minLon, s.maxLon = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, p := range v.arr {
			if !p.isArray() || len(p.arr) != 2 || p.arr[0].kind != jNumber || p.arr[1].kind != jNumber {
				return nil, fmt.Errorf("koncorde: geoPolygon: invalid point")
			}
			c := coord{p.arr[0].n, p.arr[1].n}
			s.poly = append(s.poly, c)
			s.minLat, s.maxLat = math.Min(s.minLat, c.lat), math.Max(s.maxLat, c.lat)
			s.minLon, s.maxLon = math.Min(s.minLon, c.lon), math.Max(s.maxLon, c.lon)
		}
	default:
		return nil, fmt.Errorf("koncorde: unknown geospatial type %q", geotype)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// convertGeopointAny is convertGeopoint for a document value decoded by
// encoding/json, without allocating for the usual formats.
func convertGeopointAny(x any) (coord, bool) {
	switch t := x.(type) {
	case string:
		if t == "" {
			return coord{}, false
		}
		if i := strings.IndexByte(t, ','); i >= 0 && strings.IndexByte(t[i+1:], ',') < 0 {
			return coordFromFloats(jsParseFloat(t[:i]), jsParseFloat(t[i+1:]))
		}
		return geopointFromString(t)
	case []any:
		if len(t) == 2 {
			return coordFromFloats(parseFloatAny(t[0]), parseFloatAny(t[1]))
		}
		return coord{}, false
	case map[string]any:
		lat, okLat := t["lat"]
		lon, okLon := t["lon"]
		if okLat && okLon {
			return coordFromFloats(parseFloatAny(lat), parseFloatAny(lon))
		}
		ll, ok := t["latLon"]
		if !ok {
			ll, ok = t["lat_lon"]
		}
		if !ok {
			return coord{}, false
		}
		switch l := ll.(type) {
		case []any:
			if len(l) == 2 {
				return coordFromFloats(parseFloatAny(l[0]), parseFloatAny(l[1]))
			}
			return coord{}, false
		case map[string]any:
			lat, okLat := l["lat"]
			lon, okLon := l["lon"]
			if okLat && okLon {
				return coordFromFloats(parseFloatAny(lat), parseFloatAny(lon))
			}
			return coord{}, false
		case string:
			return geopointFromString(l)
		}
	}
	return coord{}, false
}

func coordFromFloats(lat, lon float64) (coord, bool) {
	if math.IsNaN(lat) || math.IsNaN(lon) {
		return coord{}, false
	}
	return coord{lat, lon}, true
}

// parseFloatAny is Number.parseFloat of a document value.
func parseFloatAny(x any) float64 {
	switch t := x.(type) {
	case float64:
		return t
	case string:
		return jsParseFloat(t)
	case []any:
		if len(t) >= 1 {
			return parseFloatAny(t[0])
		}
		return math.NaN()
	}
	if f, ok := toFloat(x); ok {
		return f
	}
	return math.NaN()
}
