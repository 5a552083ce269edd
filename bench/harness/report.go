package harness

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// writeFiles writes <stamp>.json, <stamp>.md, <stamp>-latency.svg and
// <stamp>-load.svg into dir and returns their paths.
func writeFiles(dir string, r *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base := r.FileBase()
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		base + ".json":        append(js, '\n'),
		base + "-latency.svg": []byte(latencySVG(r)),
		base + "-load.svg":    []byte(loadSVG(r)),
	}
	files[base+".md"] = []byte(Markdown(r, base+"-latency.svg", base+"-load.svg"))
	var paths []string
	for _, name := range []string{base + ".json", base + ".md", base + "-latency.svg", base + "-load.svg"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// FileBase is the name shared by the run's files: <stamp> or <stamp>-quick.
func (r *Report) FileBase() string {
	if r.Quick {
		return r.Stamp + "-quick"
	}
	return r.Stamp
}

// dash renders 0 as "—" (not applicable) in tables.
func dash(v int) string {
	if v == 0 {
		return "—"
	}
	return strconv.Itoa(v)
}

func msOrDash(v float64) string {
	if v == 0 {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// Markdown renders the report as tables; latencySVG and loadSVG are the
// plot file names to link (relative to the Markdown file).
func Markdown(r *Report, latencySVG, loadSVG string) string {
	var b strings.Builder
	mode := "full"
	if r.Quick {
		mode = "quick"
	}
	fmt.Fprintf(&b, "# Streamcluster benchmark %s (%s mode)\n\n", r.Stamp, mode)
	m := r.Machine
	fmt.Fprintf(&b, "%d CPUs (%s), %s, %s, %s. Load average %s at start, %s at end. Checkout %s, binary %s. Run took %.0f s.\n\n",
		m.CPUs, m.CPUModel, m.OS, m.GoVersion, m.Redis, m.LoadStart, m.LoadEnd, m.GitRevision, r.BinaryVersion, r.DurationSeconds)
	fmt.Fprintf(&b, "%.1f s per rate, %.1f s drain; latency = receipt − send stamp, one process, one monotonic clock; percentiles nearest-rank over every delivery. "+
		"CPU sums every node process and all 6 Redis processes over the window, idle background work included.\n\n",
		r.Settings.SecondsPerRate, r.Settings.DrainSeconds)

	b.WriteString("## Latency\n\n")
	b.WriteString("| workload | nodes | subs/node | target msg/s | sent/s | delivered | lost | p50 ms | p99 ms | p99.9 ms | max ms | p50 / xadd p50 | CPU % of a core, nodes / Redis | CPU s per 100k, nodes / Redis |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	xadd := map[int]float64{}
	for _, l := range r.Baselines {
		if l.Workload == "xadd-xreadgroup" && l.Error == "" {
			xadd[l.TargetRate] = l.Latency.P50Ms
		}
	}
	row := func(l LatencyRun) {
		if l.Error != "" && l.Latency.Count == 0 {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | — | — | — | — | — | — | — | — | — | error: %s |\n",
				l.Workload, dash(l.Nodes), dash(l.SubscribersPerNode), dash(l.TargetRate), strings.ReplaceAll(l.Error, "|", "/"))
			return
		}
		target, ratio := "seq.", "—"
		if l.TargetRate > 0 {
			target = strconv.Itoa(l.TargetRate)
		}
		if x, ok := xadd[l.TargetRate]; ok && x > 0 {
			ratio = strconv.FormatFloat(l.Latency.P50Ms/x, 'f', 2, 64)
		}
		pct, cpu := "—", "—"
		if c := l.CPU; c != nil && l.TargetRate > 0 && c.WindowSeconds > 0 {
			nodesPct, nodes := "—", "—"
			if l.Nodes > 0 {
				nodesPct = strconv.FormatFloat(100*c.NodesSeconds/c.WindowSeconds, 'f', 0, 64)
				nodes = strconv.FormatFloat(c.NodesPer100k, 'f', 2, 64)
			}
			pct = nodesPct + " / " + strconv.FormatFloat(100*c.RedisSeconds/c.WindowSeconds, 'f', 0, 64)
			cpu = nodes + " / " + strconv.FormatFloat(c.RedisPer100k, 'f', 2, 64)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.0f | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n",
			l.Workload, dash(l.Nodes), dash(l.SubscribersPerNode), target, l.SentRate, l.Delivered, l.Lost,
			f3(l.Latency.P50Ms), f3(l.Latency.P99Ms), f3(l.Latency.P999Ms), f3(l.Latency.MaxMs), ratio, pct, cpu)
	}
	for _, l := range r.Baselines {
		row(l)
	}
	for _, l := range r.Realtime {
		row(l)
	}
	for _, l := range append(append([]LatencyRun{}, r.Baselines...), r.Realtime...) {
		if l.Error != "" && l.Latency.Count > 0 {
			fmt.Fprintf(&b, "\n%s at %d msg/s: %s", l.Workload, l.TargetRate, l.Error)
		}
	}
	fmt.Fprintf(&b, "\n![latency histogram](%s)\n\n![latency vs offered load](%s)\n\n", latencySVG, loadSVG)

	if len(r.Fanout) > 0 {
		fmt.Fprintf(&b, "## Fan-out throughput (ladder; a step passes with no loss, p99 ≤ %.0f ms and ≥ %.0f %% of the target sent)\n\n",
			sustainedP99Ms, 100*sustainedSentRate)
		b.WriteString("| workload | nodes | subs/node | target msg/s | sent/s | deliveries/s | lost | p50 ms | p99 ms | max ms | CPU % of a core, nodes / Redis / harness | pass |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|\n")
		for _, f := range r.Fanout {
			for _, l := range f.Steps {
				if l.Latency.Count == 0 {
					fmt.Fprintf(&b, "| %s | %d | %d | %s | — | — | — | — | — | — | — | error: %s |\n",
						f.Workload, f.Nodes, f.SubscribersPerNode, dash(l.TargetRate), strings.ReplaceAll(l.Error, "|", "/"))
					continue
				}
				pct := "—"
				if c := l.CPU; c != nil && c.WindowSeconds > 0 {
					pct = fmt.Sprintf("%.0f / %.0f / %.0f", 100*c.NodesSeconds/c.WindowSeconds,
						100*c.RedisSeconds/c.WindowSeconds, 100*c.HarnessSeconds/c.WindowSeconds)
				}
				pass := "✔"
				if !sustained(l) {
					pass = "✘"
				}
				receivers := len(l.SubscribeNodes) * l.SubscribersPerNode
				fmt.Fprintf(&b, "| %s | %d | %d | %d | %.0f | %.0f | %d | %s | %s | %s | %s | %s |\n",
					f.Workload, f.Nodes, f.SubscribersPerNode, l.TargetRate, l.SentRate, l.SentRate*float64(receivers),
					l.Lost, f3(l.Latency.P50Ms), f3(l.Latency.P99Ms), f3(l.Latency.MaxMs), pct, pass)
			}
		}
		b.WriteString("\n")
		for _, f := range r.Fanout {
			switch {
			case f.TopPassed:
				fmt.Fprintf(&b, "- %s, %d node(s) × %d subscribers: ≥ %d msg/s (%.0f deliveries/s): the top of the ladder passed.\n",
					f.Workload, f.Nodes, f.SubscribersPerNode, f.MaxSustainedRate, f.MaxSustainedDeliveries)
			case f.MaxSustainedRate > 0:
				fmt.Fprintf(&b, "- %s, %d node(s) × %d subscribers: max sustained %d msg/s (%.0f deliveries/s).\n",
					f.Workload, f.Nodes, f.SubscribersPerNode, f.MaxSustainedRate, f.MaxSustainedDeliveries)
			default:
				fmt.Fprintf(&b, "- %s, %d node(s) × %d subscribers: not even the first step (%d msg/s) passed.\n",
					f.Workload, f.Nodes, f.SubscribersPerNode, r.Settings.Ladder[0])
			}
		}
		b.WriteString("\nThe harness is the client of every delivery on the same 2 CPUs: when its CPU nears 100 %, the ceiling is the client's.\n\n")
	}

	b.WriteString("## Failure detection (kill -9 → every survivor's status drops the node)\n\n")
	b.WriteString("| nodes | heartbeat ms | detection ms, per survivor | all survivors ms | ≤ 3.5 × heartbeat |\n|---:|---:|---|---:|:---:|\n")
	for _, f := range r.Failure {
		if f.Error != "" {
			fmt.Fprintf(&b, "| %d | %.0f | error: %s | — | — |\n", f.Nodes, f.HeartbeatMs, f.Error)
			continue
		}
		var per []string
		for _, id := range slices.Sorted(maps.Keys(f.DetectMs)) {
			per = append(per, strconv.FormatFloat(f.DetectMs[id], 'f', 0, 64))
		}
		met := "✘"
		if f.MaxMs <= 3.5*f.HeartbeatMs {
			met = "✔"
		}
		fmt.Fprintf(&b, "| %d | %.0f | %s | %.0f | %s |\n", f.Nodes, f.HeartbeatMs, strings.Join(per, ", "), f.MaxMs, met)
	}
	b.WriteString("\n## Join (new node process start → ready / listed by every peer / realtime:list and realtime:count agree)\n\n")
	b.WriteString("| existing nodes | rooms (registered) | setup s (subs/s) | ready ms | listed by all ms | list+count agree ms |\n|---:|---:|---:|---:|---:|---:|\n")
	for _, j := range r.Join {
		rooms, setup := strconv.Itoa(j.Rooms), "—"
		if j.Rooms > 0 {
			rooms += " (" + strconv.Itoa(j.RoomsRegistered) + ")"
			setup = fmt.Sprintf("%.1f (%.0f)", j.SetupMs/1000, j.SubscribeRate)
		}
		if j.Error != "" {
			fmt.Fprintf(&b, "| %d | %s | %s | error: %s | — | — |\n", j.ExistingNodes, rooms, setup, j.Error)
			continue
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %.0f | %s | %s |\n", j.ExistingNodes, rooms, setup, j.ReadyMs, msOrDash(j.ListedMs), msOrDash(j.AgreeMs))
	}
	if len(r.Churn) > 0 {
		b.WriteString("\n## Subscription churn (subscribe+unsubscribe loops on every node; probe on node 0, realtime:count polled every 2 ms on every node)\n\n")
		b.WriteString("| nodes | clients/node | ops | ops/s | errors | sub agree p50/p99/max ms | unsub agree p50/p99/max ms | quiesce ms |\n|---:|---:|---:|---:|---:|---|---|---:|\n")
		for _, c := range r.Churn {
			errCol := strconv.FormatInt(c.Errors, 10)
			if c.Error != "" {
				errCol += " — " + c.Error
			}
			fmt.Fprintf(&b, "| %d | %d | %d | %.0f | %s | %s / %s / %s | %s / %s / %s | %.0f |\n", c.Nodes, c.ClientsPerNode, c.Ops, c.OpsPerSecond, errCol,
				f3(c.SubscribeAgree.P50Ms), f3(c.SubscribeAgree.P99Ms), f3(c.SubscribeAgree.MaxMs),
				f3(c.UnsubscribeAgree.P50Ms), f3(c.UnsubscribeAgree.P99Ms), f3(c.UnsubscribeAgree.MaxMs), c.QuiesceMs)
		}
	}
	if len(r.Peers) > 0 {
		b.WriteString("\n## Peers (same Redis Cluster, same machine; publisher on server 1, one subscriber on server 2)\n\n")
		b.WriteString("| peer | servers | msg/s | sent/s | lost | p50 ms | p99 ms | max ms | sustained |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, p := range r.Peers {
			if p.Error != "" {
				fmt.Fprintf(&b, "| %s | %d | error: %s | | | | | | |\n", p.Version, p.Servers, p.Error)
				continue
			}
			for _, l := range p.Runs {
				fmt.Fprintf(&b, "| %s | %d | %d | %.0f | %d | %s | %s | %s | %s |\n", p.Version, p.Servers, l.TargetRate, l.SentRate, l.Lost,
					f3(l.Latency.P50Ms), f3(l.Latency.P99Ms), f3(l.Latency.MaxMs), yesNo(sustained(l)))
			}
			top := ""
			if p.TopPassed {
				top = "≥ "
			}
			fmt.Fprintf(&b, "| %s | %d | max sustained: %s%d msg/s | | | | | | |\n", p.Version, p.Servers, top, p.MaxSustainedRate)
		}
	}
	b.WriteString("\n## Goals of issue 7\n\n| goal | measured | met |\n|---|---|---|\n")
	for _, g := range Goals(r) {
		m := g.Measured
		if m == "" {
			m = "—"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", g.Goal, m, g.Met)
	}
	if len(r.Errors) > 0 {
		b.WriteString("\n## Errors\n\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "- %s\n", e)
		}
	}
	return b.String()
}

// svg geometry
const (
	svgW, svgH             = 760, 420
	padL, padR, padT, padB = 60, 200, 30, 50
)

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

func svgHeader(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svgW, svgH)
	fmt.Fprintf(b, `<text x="%d" y="18" font-size="13">%s</text>`+"\n", padL, escapeXML(title))
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", padL, padT, svgW-padL-padR, svgH-padT-padB)
}

func escapeXML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// logX maps v (ms) on a log axis [lo, hi] to the plot's x range.
func logX(v, lo, hi float64) float64 {
	v = math.Max(lo, math.Min(hi, v))
	return padL + (math.Log10(v/lo)/math.Log10(hi/lo))*float64(svgW-padL-padR)
}

func logY(v, lo, hi float64) float64 {
	v = math.Max(lo, math.Min(hi, v))
	return float64(svgH-padB) - (math.Log10(v/lo)/math.Log10(hi/lo))*float64(svgH-padT-padB)
}

func decadeTicksX(b *strings.Builder, lo, hi float64) {
	for v := lo; v <= hi*1.0001; v *= 10 {
		x := logX(v, lo, hi)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`+"\n", x, padT, x, svgH-padB)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, svgH-padB+15, strconv.FormatFloat(v, 'g', -1, 64))
	}
}

func legend(b *strings.Builder, i int, name string) {
	y := padT + 10 + 16*i
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", svgW-padR+10, y, svgW-padR+30, y, palette[i%len(palette)])
	fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", svgW-padR+35, y+4, escapeXML(name))
}

func seriesName(l LatencyRun) string {
	if l.Nodes == 0 {
		return l.Workload
	}
	nodes := "nodes"
	if l.Nodes == 1 {
		nodes = "node"
	}
	return fmt.Sprintf("%s, %d %s × %d sub", strings.TrimPrefix(l.Workload, "realtime-"), l.Nodes, nodes, l.SubscribersPerNode)
}

// latencySVG plots, for every series at the lowest rate, the share of
// deliveries per logarithmic latency bucket (a step line per series).
func latencySVG(r *Report) string {
	var b strings.Builder
	lowest := math.MaxInt
	for _, l := range append(append([]LatencyRun{}, r.Baselines...), r.Realtime...) {
		if l.TargetRate > 0 {
			lowest = min(lowest, l.TargetRate)
		}
	}
	svgHeader(&b, fmt.Sprintf("Latency histogram at %d msg/s (deliveries per log bucket, each series scaled to its peak)", lowest))
	// 10 µs to 100 ms: slower deliveries are drawn at the right edge.
	lo, hi := float64(histMin)/1e6, 100.0
	decadeTicksX(&b, lo, hi)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">latency ms</text>`+"\n", (padL+svgW-padR)/2, svgH-12)
	plotH := float64(svgH - padT - padB)
	i := 0
	for _, l := range append(append([]LatencyRun{}, r.Baselines...), r.Realtime...) {
		if l.TargetRate != lowest || l.Latency.Count == 0 {
			continue
		}
		peak := 0
		for _, c := range l.Histogram.Counts {
			peak = max(peak, c)
		}
		var pts []string
		prev := lo
		for k, c := range l.Histogram.Counts {
			y := float64(svgH-padB) - float64(c)/float64(peak)*plotH*0.95
			pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", logX(prev, lo, hi), y, logX(l.Histogram.BoundsMs[k], lo, hi), y))
			prev = l.Histogram.BoundsMs[k]
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", palette[i%len(palette)], strings.Join(pts, " "))
		legend(&b, i, seriesName(l))
		i++
	}
	b.WriteString("<text x=\"14\" y=\"200\" text-anchor=\"middle\" transform=\"rotate(-90 14 200)\">deliveries (scaled to each peak)</text>\n</svg>\n")
	return b.String()
}

// loadSVG plots p50 (dashed) and p99 (solid) against the offered load for
// every rate-driven series.
func loadSVG(r *Report) string {
	var b strings.Builder
	svgHeader(&b, "Latency vs offered load: p99 solid, p50 dashed (log-log)")
	series := map[string][]LatencyRun{}
	var order []string
	rlo, rhi := math.MaxFloat64, 0.0
	for _, l := range append(append([]LatencyRun{}, r.Baselines...), r.Realtime...) {
		if l.TargetRate == 0 || l.Latency.Count == 0 {
			continue
		}
		n := seriesName(l)
		if _, ok := series[n]; !ok {
			order = append(order, n)
		}
		series[n] = append(series[n], l)
		rlo, rhi = math.Min(rlo, float64(l.TargetRate)), math.Max(rhi, float64(l.TargetRate))
	}
	if len(order) == 0 {
		b.WriteString("</svg>\n")
		return b.String()
	}
	xlo := math.Pow(10, math.Floor(math.Log10(rlo)))
	xhi := math.Pow(10, math.Ceil(math.Log10(rhi*1.0001)))
	ylo, yhi := 0.01, 100.0
	decadeTicksX(&b, xlo, xhi)
	for v := ylo; v <= yhi*1.0001; v *= 10 {
		y := logY(v, ylo, yhi)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", padL, y, svgW-padR, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-4, y+4, strconv.FormatFloat(v, 'g', -1, 64))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">offered load msg/s</text>`+"\n", (padL+svgW-padR)/2, svgH-12)
	b.WriteString("<text x=\"14\" y=\"200\" text-anchor=\"middle\" transform=\"rotate(-90 14 200)\">latency ms</text>\n")
	for i, n := range order {
		col := palette[i%len(palette)]
		var p50, p99 []string
		for _, l := range series[n] {
			x := logX(float64(l.TargetRate), xlo, xhi)
			p50 = append(p50, fmt.Sprintf("%.1f,%.1f", x, logY(l.Latency.P50Ms, ylo, yhi)))
			p99 = append(p99, fmt.Sprintf("%.1f,%.1f", x, logY(l.Latency.P99Ms, ylo, yhi)))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`+"\n", x, logY(l.Latency.P99Ms, ylo, yhi), col)
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", col, strings.Join(p99, " "))
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1" stroke-dasharray="4 3" points="%s"/>`+"\n", col, strings.Join(p50, " "))
		legend(&b, i, n)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// Rerender reads a result JSON written by Run and rewrites its Markdown and
// SVG files beside it (after a change of the report format), leaving the
// measurements untouched. It returns the paths written.
func Rerender(jsonPath string) ([]string, error) {
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("harness: %s: %w", jsonPath, err)
	}
	r.Goals = Goals(&r)
	return writeFiles(filepath.Dir(jsonPath), &r)
}
