package koncorde

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// gen builds random filters and documents over a small vocabulary, so that
// filters and documents often overlap.
type gen struct {
	r *rand.Rand
	// compat restricts filters and documents to the domain where Koncorde JS
	// has no known inconsistency (see doc.go), for the differential test:
	// no select, no nothing, regexp only on string fields, no array "exists"
	// mixed with other keywords on the same field.
	compat bool
}

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, seed^0x5eed))} }

var genFields = []string{"a", "b", "c.d", "n", "tags", "_id", "s"}

var compatFields = []string{"a", "b", "c.d", "n", "_id"}

func (g *gen) field() string {
	if g.compat {
		return compatFields[g.r.IntN(len(compatFields))]
	}
	return genFields[g.r.IntN(len(genFields))]
}

func (g *gen) scalarJSON() string {
	switch g.r.IntN(7) {
	case 0, 1:
		return fmt.Sprint(g.r.IntN(4))
	case 2:
		return `"x"`
	case 3:
		return `"y"`
	case 4:
		return `true`
	case 5:
		return `null`
	}
	return `"` + fmt.Sprint(g.r.IntN(3)) + `"`
}

func (g *gen) point() (float64, float64) {
	return float64(g.r.IntN(5)) - 2, float64(g.r.IntN(5)) - 2
}

// leaf returns a random keyword filter.
func (g *gen) leaf() string {
	f := g.field()
	switch g.r.IntN(16) {
	case 0, 1, 2:
		return fmt.Sprintf(`{"equals":{%q:%s}}`, f, g.scalarJSON())
	case 3:
		return fmt.Sprintf(`{"in":{%q:["x","%d"]}}`, f, g.r.IntN(3))
	case 4:
		return fmt.Sprintf(`{"ids":{"values":["id%d","id%d"]}}`, g.r.IntN(3), g.r.IntN(3))
	case 5:
		return fmt.Sprintf(`{"exists":%q}`, f)
	case 6:
		v := g.scalarJSON()
		if g.compat {
			v = `"y"`
		}
		return fmt.Sprintf(`{"exists":%q}`, "tags["+v+"]")
	case 7:
		return fmt.Sprintf(`{"missing":%q}`, f)
	case 8, 9:
		lo := g.r.IntN(4) - 1
		hi := lo + 1 + g.r.IntN(3)
		lk := []string{"gt", "gte"}[g.r.IntN(2)]
		hk := []string{"lt", "lte"}[g.r.IntN(2)]
		switch g.r.IntN(3) {
		case 0:
			return fmt.Sprintf(`{"range":{%q:{%q:%d}}}`, f, lk, lo)
		case 1:
			return fmt.Sprintf(`{"range":{%q:{%q:%d}}}`, f, hk, hi)
		}
		return fmt.Sprintf(`{"range":{%q:{%q:%d,%q:%d}}}`, f, lk, lo, hk, hi)
	case 10:
		if g.compat {
			f = "s"
		}
		return fmt.Sprintf(`{"regexp":{%q:{"value":"^[x%d]","flags":"i"}}}`, f, g.r.IntN(3))
	case 11:
		lat, lon := g.point()
		return fmt.Sprintf(`{"geoBoundingBox":{"loc":{"top":%g,"left":%g,"bottom":%g,"right":%g}}}`, lat+1, lon-1, lat-1, lon+1)
	case 12:
		lat, lon := g.point()
		switch g.r.IntN(4) {
		case 0:
			return fmt.Sprintf(`{"geoPolygon":{"loc":{"points":[[%g,%g],[%g,%g],{"lat":%g,"lon":%g}]}}}`,
				lat-1.1, lon-1.2, lat+1.3, lon, lat-0.9, lon+1.4)
		case 1:
			return fmt.Sprintf(`{"geoDistanceRange":{"loc":"%g, %g","from":"%dkm","to":"%d mi"}}`, lat, lon, 10+g.r.IntN(50), 60+g.r.IntN(100))
		}
		return fmt.Sprintf(`{"geoDistance":{"loc":[%g,%g],"distance":"%dkm"}}`, lat, lon, 50+g.r.IntN(200))
	case 13:
		return fmt.Sprintf(`{"match":{"tags":[%s]}}`, g.scalarJSON())
	case 14:
		if g.compat {
			return fmt.Sprintf(`{"equals":{%q:%s}}`, f, g.scalarJSON())
		}
		return fmt.Sprintf(`{"select":{"field":"tags","index":%d,"query":{"equals":{"value":%s}}}}`, g.r.IntN(3)-1, g.scalarJSON())
	}
	if g.compat {
		return fmt.Sprintf(`{"exists":%q}`, f)
	}
	return `{"nothing":true}`
}

// filter returns a random filter of nested and/or/not/bool.
func (g *gen) filter(depth int) string {
	if depth <= 0 || g.r.IntN(3) == 0 {
		return g.leaf()
	}
	n := 1 + g.r.IntN(3)
	subs := make([]string, n)
	for i := range subs {
		subs[i] = g.filter(depth - 1)
	}
	switch g.r.IntN(5) {
	case 0:
		return `{"and":[` + strings.Join(subs, ",") + `]}`
	case 1:
		return `{"or":[` + strings.Join(subs, ",") + `]}`
	case 2:
		return `{"not":` + subs[0] + `}`
	case 3:
		parts := []string{}
		for i, k := range []string{"must", "must_not", "should", "should_not"} {
			if i < len(subs) || g.r.IntN(2) == 0 {
				parts = append(parts, fmt.Sprintf(`%q:[%s]`, k, subs[i%len(subs)]))
			}
		}
		return `{"bool":{` + strings.Join(parts, ",") + `}}`
	}
	return `{"and":[` + subs[0] + `,{"or":[` + strings.Join(subs, ",") + `]}]}`
}

func (g *gen) scalar() any {
	switch g.r.IntN(7) {
	case 0, 1:
		return float64(g.r.IntN(4))
	case 2:
		return "x"
	case 3:
		return "Y"
	case 4:
		return g.r.IntN(2) == 0
	case 5:
		return nil
	}
	return fmt.Sprint(g.r.IntN(3))
}

// doc returns a random document and its _id.
func (g *gen) doc() (map[string]any, string) {
	d := map[string]any{}
	for _, f := range []string{"a", "b", "n", "s"} {
		if g.r.IntN(3) > 0 {
			d[f] = g.scalar()
		}
	}
	if s, ok := d["s"]; ok && g.compat {
		d["s"] = fmt.Sprint(s)
	}
	if g.r.IntN(2) == 0 {
		if g.r.IntN(4) == 0 {
			d["n"] = float64(g.r.IntN(7)-2) + 0.5
		} else {
			d["n"] = float64(g.r.IntN(7) - 2)
		}
	}
	switch g.r.IntN(3) {
	case 0:
		d["c"] = map[string]any{"d": g.scalar()}
	case 1:
		d["c.d"] = g.scalar()
	}
	if g.r.IntN(3) > 0 {
		tags := []any{}
		for i := g.r.IntN(4); i > 0; i-- {
			tags = append(tags, g.scalar())
		}
		d["tags"] = tags
	} else if g.r.IntN(2) == 0 {
		d["tags"] = g.scalar()
	}
	lat, lon := g.point()
	switch g.r.IntN(6) {
	case 0:
		d["loc"] = []any{lat + 0.3, lon - 0.2}
	case 1:
		d["loc"] = fmt.Sprintf("%g, %g", lat, lon)
	case 2:
		d["loc"] = map[string]any{"lat": lat, "lon": lon + 0.5}
	case 3:
		d["loc"] = "not a point"
	case 4:
		d["loc"] = map[string]any{"lat_lon": []any{lat - 0.35, lon + 0.15}}
	}
	id := ""
	if g.r.IntN(3) > 0 {
		id = fmt.Sprintf("id%d", g.r.IntN(3))
	}
	return d, id
}
