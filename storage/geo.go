package storage

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// earthRadius is the mean Earth radius Elasticsearch uses, in meters.
const earthRadius = 6371008.7714

// geoPoint is a latitude/longitude in degrees.
type geoPoint struct{ lat, lon float64 }

// parseGeoPoint reads the geo_point forms of Elasticsearch that need no
// geohash decoding: {"lat": …, "lon": …}, [lon, lat] and "lat,lon".
func parseGeoPoint(v any) (geoPoint, bool) {
	switch x := v.(type) {
	case map[string]any:
		lat, ok1 := x["lat"].(float64)
		lon, ok2 := x["lon"].(float64)
		return geoPoint{lat, lon}, ok1 && ok2
	case []any:
		if len(x) != 2 {
			return geoPoint{}, false
		}
		lon, ok1 := x[0].(float64)
		lat, ok2 := x[1].(float64)
		return geoPoint{lat, lon}, ok1 && ok2
	case string:
		a, b, ok := strings.Cut(x, ",")
		if !ok {
			return geoPoint{}, false
		}
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
		lon, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
		return geoPoint{lat, lon}, err1 == nil && err2 == nil
	}
	return geoPoint{}, false
}

// geoValues returns the points stored at path. A point stored as an object
// or an array is one value, not several.
func geoValues(src map[string]any, path string) []geoPoint {
	var out []geoPoint
	var walk func(v any, parts []string)
	walk = func(v any, parts []string) {
		if len(parts) == 0 {
			if p, ok := parseGeoPoint(v); ok {
				out = append(out, p)
				return
			}
			if arr, ok := v.([]any); ok {
				for _, e := range arr {
					walk(e, nil)
				}
			}
			return
		}
		switch x := v.(type) {
		case map[string]any:
			walk(x[parts[0]], parts[1:])
		case []any:
			for _, e := range x {
				walk(e, parts)
			}
		}
	}
	walk(src, strings.Split(path, "."))
	return out
}

// haversine is the arc distance in meters between two points.
func haversine(a, b geoPoint) float64 {
	rad := math.Pi / 180
	dlat := (b.lat - a.lat) * rad
	dlon := (b.lon - a.lon) * rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(a.lat*rad)*math.Cos(b.lat*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}

// distanceUnits are Elasticsearch's distance units, in meters.
var distanceUnits = []struct {
	suffix string
	meters float64
}{
	{"nmi", 1852}, {"NM", 1852}, {"km", 1000}, {"kilometers", 1000}, {"mi", 1609.344}, {"miles", 1609.344},
	{"yd", 0.9144}, {"yards", 0.9144}, {"ft", 0.3048}, {"feet", 0.3048}, {"in", 0.0254}, {"inch", 0.0254},
	{"cm", 0.01}, {"centimeters", 0.01}, {"mm", 0.001}, {"millimeters", 0.001}, {"m", 1}, {"meters", 1},
}

// parseDistance reads "12km", "3.5 mi", "200" (meters) or a number.
func parseDistance(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, x >= 0
	case string:
		s := strings.TrimSpace(x)
		mult := 1.0
		for _, u := range distanceUnits {
			if rest, ok := strings.CutSuffix(s, u.suffix); ok {
				s, mult = strings.TrimSpace(rest), u.meters
				break
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		return f * mult, err == nil && f >= 0
	}
	return 0, false
}

func compileGeoDistance(body json.RawMessage) (Matcher, error) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, BadQuery("[geo_distance] query must be an object")
	}
	var maxDist float64
	var field string
	var center geoPoint
	for k, v := range m {
		switch k {
		case "distance":
			d, ok := parseDistance(v)
			if !ok {
				return nil, BadQuery(fmt.Sprintf("[geo_distance] invalid distance %v", v))
			}
			maxDist = d
		case "distance_type", "validation_method", "_name", "boost":
		default:
			p, ok := parseGeoPoint(v)
			if !ok || field != "" {
				return nil, BadQuery(fmt.Sprintf("[geo_distance] invalid point for field [%s]", k))
			}
			field, center = k, p
		}
	}
	if field == "" {
		return nil, BadQuery("[geo_distance] requires a field with a point")
	}
	if _, ok := m["distance"]; !ok {
		return nil, BadQuery("[geo_distance] requires a distance")
	}
	return MatchFunc(func(_ string, src map[string]any) bool {
		for _, p := range geoValues(src, field) {
			if haversine(center, p) <= maxDist {
				return true
			}
		}
		return false
	}), nil
}

func compileGeoBoundingBox(body json.RawMessage) (Matcher, error) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, BadQuery("[geo_bounding_box] query must be an object")
	}
	var field string
	var top, left, bottom, right float64
	for k, v := range m {
		switch k {
		case "validation_method", "type", "_name", "boost":
			continue
		}
		box, ok := v.(map[string]any)
		if !ok || field != "" {
			return nil, BadQuery(fmt.Sprintf("[geo_bounding_box] invalid box for field [%s]", k))
		}
		field = k
		tl, ok1 := parseGeoPoint(box["top_left"])
		br, ok2 := parseGeoPoint(box["bottom_right"])
		if ok1 && ok2 {
			top, left, bottom, right = tl.lat, tl.lon, br.lat, br.lon
			continue
		}
		var ok3, ok4, ok5, ok6 bool
		top, ok3 = box["top"].(float64)
		left, ok4 = box["left"].(float64)
		bottom, ok5 = box["bottom"].(float64)
		right, ok6 = box["right"].(float64)
		if !ok3 || !ok4 || !ok5 || !ok6 {
			return nil, BadQuery("[geo_bounding_box] needs top_left/bottom_right or top/left/bottom/right")
		}
	}
	if field == "" {
		return nil, BadQuery("[geo_bounding_box] requires a field")
	}
	return MatchFunc(func(_ string, src map[string]any) bool {
		for _, p := range geoValues(src, field) {
			inLon := left <= right && p.lon >= left && p.lon <= right ||
				left > right && (p.lon >= left || p.lon <= right) // crosses the antimeridian
			if p.lat <= top && p.lat >= bottom && inLon {
				return true
			}
		}
		return false
	}), nil
}
