package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// topModel is `sluice top` on a terminal: a bubbletea model that fetches
// the engine's status every interval and shows one row per source and
// sink. Keys: q or Ctrl-C quit, s changes the order, p pauses (and
// resumes) the refresh; the arrows scroll when the rows do not fit.
type topModel struct {
	fetch    func(ctx context.Context) (statusView, error)
	interval time.Duration
	where    string

	prev, cur *statusView
	rows      []topRow
	err       error
	sortBy    int
	paused    bool
	// fetching is set while a fetch is in flight, so that a resume does
	// not start a second one.
	fetching      bool
	width, height int
	table         table.Model
}

// statusMsg is the result of one fetch; tickMsg asks for the next.
type (
	statusMsg struct {
		v   statusView
		err error
	}
	tickMsg struct{}
)

func newTopModel(fetch func(ctx context.Context) (statusView, error), interval time.Duration, where string) topModel {
	st := table.DefaultStyles()
	st.Header = st.Header.Bold(true).BorderStyle(lipgloss.NormalBorder()).BorderBottom(true)
	st.Selected = st.Selected.Bold(true)
	return topModel{
		fetch: fetch, interval: interval, where: where, width: 100, height: 24,
		table: table.New(table.WithFocused(true), table.WithStyles(st)),
	}
}

// Init starts the first fetch.
func (m topModel) Init() tea.Cmd { return m.fetchCmd() }

func (m topModel) fetchCmd() tea.Cmd {
	fetch, timeout := m.fetch, max(m.interval, 2*time.Second)
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		v, err := fetch(ctx)
		return statusMsg{v: v, err: err}
	}
}

func (m topModel) tickCmd() tea.Cmd {
	return tea.Tick(m.interval, func(time.Time) tea.Msg { return tickMsg{} })
}

// Update handles keys, the terminal's size, fetched snapshots and ticks.
func (m topModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch msg.String() {
		case "q", "ctrl+c", "esc":
			return m, tea.Quit
		case "s":
			m.sortBy = (m.sortBy + 1) % len(topSorts)
			m.layout()
			return m, nil
		case "p":
			m.paused = !m.paused
			if !m.paused && !m.fetching {
				m.fetching = true
				return m, m.fetchCmd()
			}
			return m, nil
		}
		var cmd tea.Cmd
		m.table, cmd = m.table.Update(msg)
		return m, cmd
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case statusMsg:
		m.fetching = false
		m.apply(msg)
		if m.paused {
			return m, nil
		}
		return m, m.tickCmd()
	case tickMsg:
		if m.paused || m.fetching {
			return m, nil
		}
		m.fetching = true
		return m, m.fetchCmd()
	}
	return m, nil
}

// apply takes a fetched snapshot (or its error: the last rows stay, the
// error is shown).
func (m *topModel) apply(msg statusMsg) {
	if msg.err != nil {
		m.err = msg.err
		return
	}
	m.err = nil
	v := msg.v
	m.prev, m.cur = m.cur, &v
	m.rows = topRows(m.prev, v)
	m.layout()
}

// layout fits the table to the terminal: the columns that fit the width
// (the least useful dropped first), the rows that fit the height.
func (m *topModel) layout() {
	cols := topColumns(m.width, m.rows)
	tcols := make([]table.Column, len(cols))
	for i, c := range cols {
		tcols[i] = table.Column{Title: c.title, Width: c.width}
	}
	rows := sortRows(m.rows, m.sortBy)
	trows := make([]table.Row, len(rows))
	for i, r := range rows {
		trow := make(table.Row, len(cols))
		for j, c := range cols {
			trow[j] = c.cell(r)
		}
		trows[i] = trow
	}
	// Rows before columns: SetColumns renders the rows it has.
	m.table.SetRows(nil)
	m.table.SetColumns(tcols)
	m.table.SetRows(trows)
	m.table.SetWidth(m.width)
	m.table.SetHeight(max(3, m.height-4)) // title, status line, header rule
}

var (
	topTitle = lipgloss.NewStyle().Bold(true)
	topDim   = lipgloss.NewStyle().Faint(true)
	topAlert = lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true)
)

// View is render on the alternate screen.
func (m topModel) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	return v
}

// render draws the title line, the table and the status line.
func (m topModel) render() string {
	var b strings.Builder
	title := "sluice top  " + m.where
	if m.cur != nil {
		title += fmt.Sprintf("  ·  journal %d..%d  ·  %d dead letters", m.cur.Journal.First, m.cur.Journal.Last, m.cur.DeadLetters)
	}
	b.WriteString(topTitle.Render(truncate(title, max(2, m.width))))
	b.WriteByte('\n')
	b.WriteString(m.table.View())
	b.WriteByte('\n')
	status := fmt.Sprintf("every %s · sort: %s · s sort · p pause · q quit", m.interval, topSorts[m.sortBy].name)
	if m.cur != nil {
		status = "at " + m.cur.Time.Local().Format("15:04:05") + " · " + status
	}
	if m.paused {
		status = "PAUSED · " + status
	}
	b.WriteString(topDim.Render(truncate(status, max(2, m.width))))
	if m.err != nil {
		b.WriteByte('\n')
		b.WriteString(topAlert.Render(truncate("engine unreachable: "+m.err.Error(), max(2, m.width))))
	}
	return b.String()
}

// topColumn is one column of the table.
type topColumn struct {
	title string
	width int
	cell  func(topRow) string
}

// topColumnSet lists the columns in display order with their priority
// (0 always shown; higher numbers are dropped first when the terminal
// is narrow).
var topColumnSet = []struct {
	topColumn
	priority int
}{
	{topColumn{"KIND", 6, func(r topRow) string { return r.Kind }}, 0},
	{topColumn{"NAME", 0, func(r topRow) string { return r.Name }}, 0},
	{topColumn{"TYPE", 9, func(r topRow) string { return r.Type }}, 7},
	{topColumn{"STATE", 7, func(r topRow) string { return fmtState(r.Running) }}, 4},
	{topColumn{"EV/S", 8, func(r topRow) string { return fmtRate(r.Rate) }}, 0},
	{topColumn{"TOTAL", 10, func(r topRow) string { return strconv.FormatUint(r.Total, 10) }}, 6},
	{topColumn{"LAG", 8, func(r topRow) string { return sinkOnly(r, strconv.FormatUint(r.Lag, 10)) }}, 0},
	{topColumn{"LAG AGE", 8, func(r topRow) string { return sinkOnly(r, fmtAge(r.LagAge)) }}, 1},
	{topColumn{"RETRY/S", 7, func(r topRow) string { return fmtRate(r.RetryRate) }}, 3},
	{topColumn{"RETRIES", 8, func(r topRow) string { return strconv.FormatUint(r.Retries, 10) }}, 5},
	{topColumn{"DEAD", 6, func(r topRow) string { return strconv.Itoa(r.Dead) }}, 2},
}

// topMinName and topMaxName bound the NAME column.
const (
	topMinName = 8
	topMaxName = 32
)

// topColumns returns the columns that fit width (each column takes its
// width plus the table's padding of 2), NAME as wide as the longest name
// within bounds; the lowest-priority columns go first.
func topColumns(width int, rows []topRow) []topColumn {
	name := topMinName
	for _, r := range rows {
		name = max(name, min(topMaxName, len(r.Name)))
	}
	maxPriority := 0
	for _, c := range topColumnSet {
		maxPriority = max(maxPriority, c.priority)
	}
	for drop := maxPriority + 1; ; drop-- {
		var cols []topColumn
		total := 0
		for _, c := range topColumnSet {
			if c.priority >= drop && drop > 0 {
				continue
			}
			col := c.topColumn
			if col.title == "NAME" {
				col.width = name
			}
			cols = append(cols, col)
			total += col.width + 2
		}
		if total <= width || drop <= 1 {
			return cols
		}
	}
}

func sinkOnly(r topRow, s string) string {
	if r.Kind != "sink" {
		return ""
	}
	return s
}
