package summary

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The charts, by file name under charts/ (without .png).
const (
	ChartIncidentsPerDay = "incidents-per-day"
	ChartTopCountries    = "top-countries"
	ChartTopPorts        = "top-ports"
)

// Charts lists every chart of a summary.
var Charts = []string{ChartIncidentsPerDay, ChartTopCountries, ChartTopPorts}

// ErrNoChart marks a chart name that is not one of Charts.
var ErrNoChart = errors.New("no such chart")

// Every chart is ChartWidth × ChartHeight pixels at chartDPI.
const (
	ChartWidth  = 960
	ChartHeight = 480
	chartDPI    = 96
	// chartBars is how many keys a bar chart shows: its list's first ones.
	chartBars = 10
)

var chartColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}

// ChartFile is the file name of a chart under its month.
func ChartFile(name string) string { return "charts/" + name + ".png" }

// Chart renders one chart as PNG. The drawing depends on the numbers alone (no clock, no
// randomness, fonts embedded in the plotting library), so the same summary gives the same
// bytes with the same build.
func (s Summary) Chart(name string) ([]byte, error) {
	var p *plot.Plot
	switch name {
	case ChartIncidentsPerDay:
		p = s.perDayChart()
	case ChartTopCountries, ChartTopPorts:
		for _, l := range s.Lists {
			if l.Spec.chart == name {
				var err error
				if p, err = barChart(l, s.Month); err != nil {
					return nil, err
				}
			}
		}
	}
	if p == nil {
		return nil, fmt.Errorf("%w %q: want one of %v", ErrNoChart, name, Charts)
	}
	c := vgimg.NewWith(vgimg.UseWH(pixels(ChartWidth), pixels(ChartHeight)), vgimg.UseDPI(chartDPI))
	margin := vg.Points(8)
	p.Draw(draw.Crop(draw.New(c), margin, -margin, margin, -margin))
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("encode chart %s: %w", name, err)
	}
	return b.Bytes(), nil
}

func pixels(n int) vg.Length { return vg.Length(n) * vg.Inch / chartDPI }

func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.Y.Min = 0
	p.Y.Tick.Marker = countTicks{}
	p.Add(plotter.NewGrid())
	return p
}

func (s Summary) perDayChart() *plot.Plot {
	p := newPlot("Incidents per day, " + s.Month.Title() + " (UTC)")
	p.X.Label.Text = "Day"
	p.Y.Label.Text = "Incidents"
	pts := make(plotter.XYs, len(s.PerDay))
	ticks := make([]plot.Tick, len(s.PerDay))
	for i, d := range s.PerDay {
		pts[i] = plotter.XY{X: float64(d.Date.Day()), Y: float64(d.Incidents)}
		ticks[i] = plot.Tick{Value: pts[i].X, Label: strconv.Itoa(d.Date.Day())}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	// Half a day beyond the first and last point, so their markers are not cut.
	p.X.Min, p.X.Max = 0.5, float64(s.Month.Days())+0.5
	if len(pts) > 0 {
		// XYs of finite numbers always make a line.
		line, points, _ := plotter.NewLinePoints(pts)
		line.Color, points.Color = chartColor, chartColor
		line.Width = vg.Points(2)
		p.Add(line, points)
	}
	headroom(p)
	return p
}

func barChart(l List, m Month) (*plot.Plot, error) {
	p := newPlot(l.Spec.Title + ", " + m.Title())
	p.Y.Label.Text = l.Spec.Unit
	rows := l.Rows[:min(len(l.Rows), chartBars)]
	if len(rows) == 0 {
		p.Title.Text += " (no data)"
		p.HideX()
		p.Y.Max = 1
		return p, nil
	}
	values := make(plotter.Values, len(rows))
	names := make([]string, len(rows))
	for i, r := range rows {
		values[i], names[i] = float64(r.Value), r.Key
	}
	// Bars fill most of their slot, but a handful of them are not drawn as slabs.
	bars, err := plotter.NewBarChart(values, min(vg.Points(48), pixels(ChartWidth)*0.6/vg.Length(len(rows))))
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", l.Spec.chart, err)
	}
	bars.Color = chartColor
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(rows))-0.5
	p.X.Label.Text = l.Spec.Key
	headroom(p)
	return p, nil
}

// headroom leaves a tenth of the axis above the highest value, and an axis at all when every
// value is 0.
func headroom(p *plot.Plot) {
	p.Y.Max = max(p.Y.Max*1.1, 1)
}

// countTicks labels a count axis with whole numbers grouped by thousands; the default labels
// switch to exponents for large counts.
type countTicks struct{}

func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i, t := range ticks {
		if t.Label != "" && t.Value == math.Trunc(t.Value) {
			ticks[i].Label = thousands(int64(t.Value))
		}
	}
	return ticks
}
