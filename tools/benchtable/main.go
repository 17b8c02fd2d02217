// Command benchtable runs the benchmarks listed in bench/benchmarks.json,
// each row in a fresh test process (so a memory figure never starts from a
// heap an earlier benchmark grew), and renders the results: the tables with
// the machine and the command of every row to bench/RESULTS.md, the raw
// results to bench/results.json, and the tables into README.md between the
// markers <!-- bench:begin --> and <!-- bench:end -->.
//
//	go run ./tools/benchtable                 # run every table (make bench)
//	go run ./tools/benchtable -only coldstart # rerun one table, keep the others
//	go run ./tools/benchtable -render         # re-render from bench/results.json
//
// A row marked "heavy" runs only with BENCH_HEAVY=1; otherwise its previous
// result is kept (and marked with its date).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Config is bench/benchmarks.json.
type Config struct {
	Tables []Table `json:"tables"`
}

// Table is one measurement table: rows are benchmarks of one package.
type Table struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Package is the Go package, as for go test (./shared/collect).
	Package string `json:"package"`
	// Benchtime is passed as -benchtime (e.g. 1x, 10x).
	Benchtime string   `json:"benchtime"`
	Note      string   `json:"note,omitempty"`
	RowHeader string   `json:"rowHeader"`
	Columns   []Column `json:"columns"`
	Rows      []Row    `json:"rows"`
}

// Column renders metrics of a benchmark line: Format is a fmt format with
// one verb per metric, after multiplying each by Scale (default 1). The verb
// %N renders an integer with thousands separators.
type Column struct {
	Header  string   `json:"header"`
	Metrics []string `json:"metrics"`
	Format  string   `json:"format"`
	Scale   float64  `json:"scale,omitempty"`
}

// Row is one benchmark: Bench is its full name with sub-benchmarks after
// slashes (BenchmarkIdentityIsolated/users=1000).
type Row struct {
	Label string `json:"label"`
	Bench string `json:"bench"`
	Heavy bool   `json:"heavy,omitempty"`
}

// Results is bench/results.json.
type Results struct {
	Machine Machine                `json:"machine"`
	Tables  map[string][]RowResult `json:"tables"`
	Runs    map[string]time.Time   `json:"runs"`
}

// Machine describes where the results were measured.
type Machine struct {
	At        time.Time `json:"at"`
	GoVersion string    `json:"goVersion"`
	OS        string    `json:"os"`
	CPU       string    `json:"cpu"`
	Cores     int       `json:"cores"`
	MemoryGB  float64   `json:"memoryGB"`
	Commit    string    `json:"commit"`
}

// RowResult is one row's measurement.
type RowResult struct {
	Bench   string             `json:"bench"`
	Command string             `json:"command"`
	At      time.Time          `json:"at"`
	Load    string             `json:"loadAverage"`
	Line    string             `json:"line"`
	Metrics map[string]float64 `json:"metrics"`
	Seconds float64            `json:"seconds"`
}

func main() {
	cfgPath := flag.String("config", "bench/benchmarks.json", "benchmark tables")
	resPath := flag.String("results", "bench/results.json", "raw results, read and rewritten")
	mdPath := flag.String("md", "bench/RESULTS.md", "generated results page")
	readme := flag.String("readme", "README.md", "file whose bench:begin/bench:end block is refreshed (empty: none)")
	only := flag.String("only", "", "comma-separated table ids to run; the others keep their results")
	render := flag.Bool("render", false, "do not run; render from the results file")
	flag.Parse()
	if err := mainErr(*cfgPath, *resPath, *mdPath, *readme, *only, *render); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func mainErr(cfgPath, resPath, mdPath, readme, only string, render bool) error {
	var cfg Config
	if err := readJSON(cfgPath, &cfg); err != nil {
		return err
	}
	if err := cfg.check(); err != nil {
		return fmt.Errorf("%s: %w", cfgPath, err)
	}
	res := Results{Tables: map[string][]RowResult{}, Runs: map[string]time.Time{}}
	if err := readJSON(resPath, &res); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if res.Tables == nil {
		res.Tables = map[string][]RowResult{}
	}
	if res.Runs == nil {
		res.Runs = map[string]time.Time{}
	}
	if !render {
		res.Machine = machine()
		want := map[string]bool{}
		for _, id := range strings.Split(only, ",") {
			if id = strings.TrimSpace(id); id != "" {
				want[id] = true
			}
		}
		heavy := os.Getenv("BENCH_HEAVY") == "1"
		bins := testBinaries{}
		defer bins.remove()
		for _, t := range cfg.Tables {
			if len(want) > 0 && !want[t.ID] {
				continue
			}
			rows, err := runTable(t, res.Tables[t.ID], heavy, bins)
			if err != nil {
				return fmt.Errorf("table %s: %w", t.ID, err)
			}
			res.Tables[t.ID], res.Runs[t.ID] = rows, time.Now().UTC()
		}
		if err := writeJSON(resPath, res); err != nil {
			return err
		}
	}
	tables := renderTables(cfg, res, false)
	md := "# Benchmark results\n\n" +
		"Generated by `make bench` (`go run ./tools/benchtable`) from `bench/benchmarks.json`; do not edit by hand.\n" +
		"Every row ran in its own test process, with the command shown.\n\n" +
		renderMachine(res.Machine) + "\n" + renderTables(cfg, res, true)
	if err := os.WriteFile(mdPath, []byte(md), 0o644); err != nil {
		return err
	}
	if readme != "" {
		return refreshBlock(readme, "<!-- bench:begin -->", "<!-- bench:end -->",
			"Measured on "+res.Machine.summary()+" by `make bench`; the commands, raw lines and machine are in [bench/RESULTS.md](bench/RESULTS.md).\n\n"+tables)
	}
	return nil
}

func (c Config) check() error {
	ids := map[string]bool{}
	for _, t := range c.Tables {
		switch {
		case t.ID == "" || ids[t.ID]:
			return fmt.Errorf("table id %q missing or repeated", t.ID)
		case t.Package == "" || len(t.Rows) == 0 || len(t.Columns) == 0:
			return fmt.Errorf("table %s needs a package, rows and columns", t.ID)
		}
		ids[t.ID] = true
		for _, col := range t.Columns {
			if n := strings.Count(col.Format, "%") - 2*strings.Count(col.Format, "%%"); n != len(col.Metrics) {
				return fmt.Errorf("table %s column %q: format has %d verbs for %d metrics", t.ID, col.Header, n, len(col.Metrics))
			}
		}
	}
	return nil
}

// benchRegexp anchors every level of a benchmark name for -bench.
func benchRegexp(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// testBinaries builds each package's test binary once per run.
type testBinaries map[string]string

func (tb testBinaries) get(pkg string) (string, error) {
	if bin, ok := tb[pkg]; ok {
		return bin, nil
	}
	bin := filepath.Join(os.TempDir(), fmt.Sprintf("benchtable-%d-%d.test", os.Getpid(), len(tb)))
	fmt.Fprintf(os.Stderr, "benchtable: building %s tests\n", pkg)
	if out, err := exec.Command("go", "test", "-c", "-o", bin, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go test -c %s: %v\n%s", pkg, err, out)
	}
	tb[pkg] = bin
	return bin, nil
}

func (tb testBinaries) remove() {
	for _, bin := range tb {
		_ = os.Remove(bin)
	}
}

func runTable(t Table, previous []RowResult, heavy bool, bins testBinaries) ([]RowResult, error) {
	dir := t.Package
	bin, err := bins.get(t.Package)
	if err != nil {
		return nil, err
	}
	var rows []RowResult
	for _, r := range t.Rows {
		if r.Heavy && !heavy {
			kept := false
			for _, p := range previous {
				if p.Bench == r.Bench {
					rows, kept = append(rows, p), true
				}
			}
			fmt.Fprintf(os.Stderr, "benchtable: %s is heavy, skipped without BENCH_HEAVY=1 (previous result kept: %v)\n", r.Bench, kept)
			continue
		}
		re := benchRegexp(r.Bench)
		args := []string{"-test.run=^$", "-test.bench=" + re, "-test.benchtime=" + t.Benchtime, "-test.benchmem", "-test.count=1"}
		cmdline := fmt.Sprintf("go test %s -run '^$' -bench '%s' -benchtime %s -benchmem -count 1", t.Package, re, t.Benchtime)
		fmt.Fprintf(os.Stderr, "benchtable: %s\n", cmdline)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = dir
		var stdout bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
		load := loadAverage()
		start := time.Now()
		err := cmd.Run()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%s: %v\n%s", cmdline, err, stdout.String())
		}
		line, metrics, ok := parseBench(stdout.String(), r.Bench)
		if !ok {
			return nil, fmt.Errorf("%s: no result line for %s in:\n%s", cmdline, r.Bench, stdout.String())
		}
		rows = append(rows, RowResult{Bench: r.Bench, Command: cmdline, At: start.UTC(), Load: load, Line: line,
			Metrics: metrics, Seconds: time.Since(start).Seconds()})
	}
	return rows, nil
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBench finds name's result line in go test -bench output: the name
// (with a -GOMAXPROCS suffix), the iteration count, then value-unit pairs.
func parseBench(out, name string) (string, map[string]float64, bool) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || procsSuffix.ReplaceAllString(f[0], "") != name {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return "", nil, false
			}
			m[f[i+1]] = v
		}
		return strings.TrimSpace(line), m, true
	}
	return "", nil, false
}

func renderTables(cfg Config, res Results, detail bool) string {
	var b strings.Builder
	for _, t := range cfg.Tables {
		rows := res.Tables[t.ID]
		fmt.Fprintf(&b, "**%s**", t.Title)
		if t.Note != "" {
			fmt.Fprintf(&b, " %s", t.Note)
		}
		b.WriteString("\n\n")
		if len(rows) == 0 {
			b.WriteString("_Not measured yet: run `make bench`._\n\n")
			continue
		}
		header := []string{t.RowHeader}
		for _, c := range t.Columns {
			header = append(header, c.Header)
		}
		b.WriteString("| " + strings.Join(header, " | ") + " |\n|" + strings.Repeat(" --- |", len(header)) + "\n")
		for _, r := range t.Rows {
			rr, ok := find(rows, r.Bench)
			cells := []string{r.Label}
			for _, c := range t.Columns {
				cells = append(cells, cell(c, rr, ok))
			}
			if ok && rr.At.Before(res.Runs[t.ID].Add(-24*time.Hour)) {
				cells[0] += " (measured " + rr.At.Format("2006-01-02") + ")"
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
		b.WriteString("\n")
		if detail {
			b.WriteString("<details><summary>commands and raw lines</summary>\n\n```\n")
			for _, r := range t.Rows {
				if rr, ok := find(rows, r.Bench); ok {
					fmt.Fprintf(&b, "$ %s\n# %s, load average %s, %.0f s\n%s\n", rr.Command, rr.At.Format(time.RFC3339), rr.Load, rr.Seconds, rr.Line)
				}
			}
			b.WriteString("```\n\n</details>\n\n")
		}
	}
	return b.String()
}

func find(rows []RowResult, bench string) (RowResult, bool) {
	for _, r := range rows {
		if r.Bench == bench {
			return r, true
		}
	}
	return RowResult{}, false
}

func cell(c Column, r RowResult, ok bool) string {
	if !ok {
		return "—"
	}
	scale := c.Scale
	if scale == 0 {
		scale = 1
	}
	var args []any
	for _, m := range c.Metrics {
		v, found := r.Metrics[m]
		if !found {
			return "—"
		}
		args = append(args, v*scale)
	}
	return sprintf(c.Format, args...)
}

// sprintf is fmt.Sprintf with %N: an integer with thousands separators.
func sprintf(format string, args ...any) string {
	var out strings.Builder
	ai := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 >= len(format) {
			out.WriteByte(format[i])
			continue
		}
		if format[i+1] == '%' {
			out.WriteByte('%')
			i++
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("0123456789.+-# ", format[j]) >= 0 {
			j++
		}
		if j >= len(format) || ai >= len(args) {
			out.WriteString(format[i:])
			break
		}
		verb := format[i : j+1]
		if format[j] == 'N' {
			out.WriteString(thousands(args[ai].(float64)))
		} else {
			out.WriteString(fmt.Sprintf(verb, args[ai]))
		}
		ai++
		i = j
	}
	return out.String()
}

func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func renderMachine(m Machine) string {
	return fmt.Sprintf("| measured | %s |\n| --- | --- |\n| commit | %s |\n| Go | %s |\n| OS | %s |\n| CPU | %s, %d cores |\n| memory | %.1f GB |\n",
		m.At.Format(time.RFC3339), m.Commit, m.GoVersion, m.OS, m.CPU, m.Cores, m.MemoryGB)
}

func (m Machine) summary() string {
	return fmt.Sprintf("%s (%d cores, %.0f GB, %s, %s) on %s", m.CPU, m.Cores, m.MemoryGB, m.OS, m.GoVersion, m.At.Format("2006-01-02"))
}

func machine() Machine {
	m := Machine{At: time.Now().UTC(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, Cores: runtime.NumCPU(), CPU: "unknown CPU"}
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				m.MemoryGB = kb / (1 << 20)
			}
		}
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				m.OS += ", " + strings.Trim(v, `"`)
			}
		}
	}
	return m
}

// loadAverage is the 1/5/15-minute load average (the machine may be shared).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// refreshBlock replaces what lies between the begin and end markers of path.
func refreshBlock(path, begin, end, content string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s: markers %s … %s not found", path, begin, end)
	}
	s = s[:i+len(begin)] + "\n" + strings.TrimRight(content, "\n") + "\n" + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
